#include "scalinglab/plan/plan_report.h"

#include <cmath>

#include "scalinglab/io/atomic_file.h"
#include "scalinglab/report/escape.h"
#include "scalinglab/report/svg_plot.h"

namespace scalinglab::plan {

namespace {

using nlohmann::json;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json range_json(const fit::Range& r) {
  if (!std::isfinite(r.min) || !std::isfinite(r.max)) return nullptr;
  return json::array({r.min, r.max});
}

json surface_params(const Surface& s) {
  if (s.form == Surface::Form::kKaplan)
    return {{"N_c", s.kaplan.n_c}, {"D_c", s.kaplan.d_c}, {"alpha_N", s.kaplan.alpha_n}, {"alpha_D", s.kaplan.alpha_d}};
  const auto& p = s.chinchilla;
  json j = {{"E", p.E}, {"A", p.A}, {"B", p.B}, {"alpha", p.alpha}, {"beta", p.beta}};
  if (s.data) {
    j["R_D_star"] = s.data->r_d_star;
    j["R_N_star"] = s.data->r_n_star;
    j["unique_tokens"] = s.data->unique_tokens;
  }
  return j;
}

json allocation_json(const Allocation& a) {
  return {{"C", a.compute},
          {"N_opt", fit::to_json(a.n)},
          {"D_opt", fit::to_json(a.d)},
          {"tokens_per_param", fit::to_json(a.tokens_per_param)},
          {"loss", fit::to_json(a.loss)}};
}

json lifetime_json(const LifetimePlan& p) {
  return {{"N", num(p.n)},
          {"D_train", num(p.d)},
          {"tokens_per_param", num(p.d / p.n)},
          {"loss", num(p.loss)},
          {"train_flops", num(p.train_flops)},
          {"inference_flops", num(p.inference_flops)},
          {"total_flops", num(p.total_flops)}};
}

json cost_json(const HardwareCost& c) {
  return {{"gpu_hours", num(c.gpu_hours)}, {"wall_hours", num(c.wall_hours)}, {"wall_days", num(c.wall_hours / 24)},
          {"cost_usd", num(c.usd)}};
}

}  // namespace

json to_json(const PlanReport& r) {
  json j;
  j["schema"] = "scalinglab.plan/1";
  const Surface& s = r.law.point;
  json law = {{"source", r.law.name},
              {"form", s.form == Surface::Form::kKaplan ? "kaplan" : "chinchilla"},
              {"formula", s.formula()},
              {"params", surface_params(s)},
              {"replicates", r.law.replicates.size()},
              {"closed_form", s.has_closed_form()},
              {"note", r.law.note}};
  law["fitted_data_range"] = {{"N", range_json(r.law.range.n)},
                              {"D", range_json(r.law.range.d)},
                              {"C", range_json(r.law.range.c)},
                              {"tokens_per_param", range_json(r.law.range.tokens_per_param)}};
  j["law"] = law;
  if (r.hardware) {
    const Hardware& h = *r.hardware;
    json hw = {{"peak_flops_per_gpu", h.peak_flops}, {"mfu", h.mfu}, {"gpus", h.gpus},
               {"usd_per_gpu_hour", num(h.usd_per_gpu_hour)}};
    if (r.gpu) {
      hw["gpu"] = r.gpu->name;
      hw["model"] = r.gpu->model;
      hw["datasheet"] = r.gpu->datasheet;
    } else {
      hw["gpu"] = nullptr;
    }
    j["hardware"] = hw;
  } else {
    j["hardware"] = nullptr;
  }
  if (r.target)
    j["target_loss"] = {{"loss", r.target->loss}, {"compute", fit::to_json(r.target->compute)}};
  else
    j["target_loss"] = nullptr;

  json plans = json::array();
  for (const auto& p : r.plans) {
    json e = allocation_json(p.allocation);
    e["origin"] = p.origin;
    e["hardware"] = p.cost ? cost_json(*p.cost) : json(nullptr);
    if (p.fixed) {
      const auto& f = *p.fixed;
      e["fixed_size"] = {{"N", f.n}, {"D", f.d}, {"tokens_per_param", f.d / f.n}, {"loss", num(f.loss)},
                         {"optimal_loss", num(f.optimal_loss)}, {"loss_penalty", num(f.loss_penalty)},
                         {"compute_overhead", num(f.compute_overhead)}};
    } else {
      e["fixed_size"] = nullptr;
    }
    if (p.inference) {
      const auto& x = *p.inference;
      e["inference"] = {{"inference_tokens", x.inference_tokens},
                        {"training_only", lifetime_json(x.training_only)},
                        {"inference_aware", lifetime_json(x.inference_aware)},
                        {"lifetime_saving", num(x.saving())}};
    } else {
      e["inference"] = nullptr;
    }
    if (p.data) {
      const auto& d = *p.data;
      e["data_constrained"] = {{"unique_tokens", d.unique_tokens},
                               {"epochs", num(d.epochs)},
                               {"effective_N", num(d.effective_n)},
                               {"effective_D", num(d.effective_d)},
                               {"unconstrained", {{"N_opt", num(d.unconstrained.n)},
                                                  {"D_opt", num(d.unconstrained.d)},
                                                  {"loss", num(d.unconstrained.loss)},
                                                  {"epochs", num(d.unconstrained_epochs)}}}};
    } else {
      e["data_constrained"] = nullptr;
    }
    e["warnings"] = p.warnings;
    plans.push_back(e);
  }
  j["plans"] = plans;

  json fr = json::array();
  for (size_t i = 0; i < r.frontier.size(); ++i) {
    json e = allocation_json(r.frontier[i]);
    if (r.hardware) e["hardware"] = cost_json(hardware_cost(*r.hardware, r.frontier[i].compute));
    if (i < r.frontier_unconstrained.size())
      e["unconstrained"] = {{"N_opt", num(r.frontier_unconstrained[i].n)},
                            {"D_opt", num(r.frontier_unconstrained[i].d)},
                            {"loss", num(r.frontier_unconstrained[i].loss)}};
    fr.push_back(e);
  }
  j["frontier"] = fr;
  j["notes"] = r.notes;
  return j;
}

// ---- Frontier plots -----------------------------------------------------------------------------

namespace {

using report::format_number;
using report::html_escape;
using report::PlotPoint;
using report::PlotSpec;
using report::ScaleKind;
using report::Series;

constexpr const char* kBlue = "#1f6fb4";
constexpr const char* kOrange = "#d9730d";
constexpr const char* kGrey = "#777777";

std::string n3(double v) { return format_number(v, 3); }

std::string with_ci(const fit::Estimate& e) {
  std::string s = n3(e.value);
  if (e.has_interval()) s += " [" + n3(e.lo) + ", " + n3(e.hi) + "]";
  return s;
}

std::string tip(const Allocation& a) {
  return "C = " + n3(a.compute) + " FLOPs\nN_opt = " + with_ci(a.n) + "\nD_opt = " + with_ci(a.d) +
         "\nD/N = " + n3(a.tokens_per_param.value) + "\nloss = " + with_ci(a.loss);
}

enum class Quantity { kN, kD, kLoss };

const fit::Estimate& pick(const Allocation& a, Quantity q) {
  return q == Quantity::kN ? a.n : q == Quantity::kD ? a.d : a.loss;
}

PlotSpec frontier_plot(const PlanReport& r, Quantity q) {
  PlotSpec p;
  p.id = q == Quantity::kN ? "plot-n-opt" : q == Quantity::kD ? "plot-d-opt" : "plot-loss";
  p.title = q == Quantity::kN ? "Compute-optimal model size N_opt(C)"
            : q == Quantity::kD ? "Compute-optimal training tokens D_opt(C)"
                                : "Predicted loss at the optimum L(C)";
  p.x_label = "Training compute C (FLOPs)";
  p.y_label = q == Quantity::kN ? "N (parameters)" : q == Quantity::kD ? "D (tokens)" : "Loss";
  p.x_scale = ScaleKind::kLog;
  p.y_scale = q == Quantity::kLoss ? ScaleKind::kLinear : ScaleKind::kLog;
  p.width = 640;
  p.height = 400;

  Series main{.name = r.law.replicates.empty() ? "optimum" : "optimum (95% band)", .color = kBlue};
  bool any_band = false;
  for (const auto& a : r.frontier) {
    const auto& e = pick(a, q);
    PlotPoint pt{.x = a.compute, .y = e.value, .tip = tip(a)};
    if (e.has_interval()) pt.y_lo = e.lo, pt.y_hi = e.hi, any_band = true;
    main.points.push_back(pt);
  }
  main.band = any_band;
  main.markers = true;
  main.marker_size = 2.5;
  p.series.push_back(main);

  if (!r.frontier_unconstrained.empty()) {
    Series u{.name = "unlimited data", .color = kGrey, .dash = "6 4"};
    for (size_t i = 0; i < r.frontier_unconstrained.size() && i < r.frontier.size(); ++i) {
      const auto& o = r.frontier_unconstrained[i];
      u.points.push_back({.x = r.frontier[i].compute, .y = q == Quantity::kN ? o.n : q == Quantity::kD ? o.d : o.loss});
    }
    p.series.push_back(u);
  }

  Series planned{.name = "planned budget", .color = kOrange, .line = false, .markers = true,
                 .shape = report::MarkerShape::kStar, .marker_size = 7, .error_bars = true};
  for (const auto& b : r.plans) {
    const auto& e = pick(b.allocation, q);
    PlotPoint pt{.x = b.allocation.compute, .y = e.value, .tip = "planned (" + b.origin + ")\n" + tip(b.allocation)};
    if (e.has_interval()) pt.y_lo = e.lo, pt.y_hi = e.hi;
    planned.points.push_back(pt);
  }
  if (!planned.points.empty()) p.series.push_back(planned);
  if (r.law.range.c.max > 0 && std::isfinite(r.law.range.c.max))
    p.note = "largest compute in the fitted data: " + n3(r.law.range.c.max) + " FLOPs";
  return p;
}

std::string table_row(const std::vector<std::string>& cells) {
  std::string o = "<tr>";
  for (const auto& c : cells) o += "<td>" + html_escape(c) + "</td>";
  return o + "</tr>\n";
}

std::string table_head(const std::vector<std::string>& cells) {
  std::string o = "<tr>";
  for (const auto& c : cells) o += "<th>" + html_escape(c) + "</th>";
  return o + "</tr>\n";
}

std::string list(const std::vector<std::string>& items) {
  std::string o = "<ul>";
  for (const auto& s : items) o += "<li>" + html_escape(s) + "</li>";
  return o + "</ul>";
}

constexpr const char* kStyle = R"CSS(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; background: #f7f7f5;
       margin: 0 auto; padding: 16px 24px 48px; max-width: 1400px; }
h1 { font-size: 24px; margin: 8px 0 2px; }
h2 { font-size: 18px; margin: 0 0 10px; }
.subtitle { color: #555; margin: 0 0 12px; font-family: ui-monospace, monospace; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 14px 18px; margin: 0 0 16px; }
.grid2 { display: flex; flex-wrap: wrap; gap: 12px; }
svg.plot { display: block; max-width: 100%; height: auto; font-family: system-ui, sans-serif; }
svg .plot-title { font-size: 14px; font-weight: 600; fill: #222; }
svg .axis-title { font-size: 12.5px; fill: #222; }
svg .plot-note { font-size: 11px; fill: #666; }
table.data { border-collapse: collapse; font-variant-numeric: tabular-nums; margin-top: 6px; }
table.data th, table.data td { border-bottom: 1px solid #e3e3e3; padding: 4px 12px; text-align: right; }
table.data th:first-child, table.data td:first-child { text-align: left; }
.warnings { background: #fff6e5; border-color: #e8b350; }
footer { color: #888; font-size: 12px; }
)CSS";

}  // namespace

std::string render_frontier_html(const PlanReport& r) {
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  // Self-contained: nothing may be fetched (no scripts at all; SVG <title>s give hover values).
  o += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n";
  o += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  o += "<title>scalinglab plan: compute-optimal frontier</title>\n<style>" + std::string(kStyle) +
       "</style>\n</head>\n<body>\n";
  o += "<header><h1>Compute-optimal frontier</h1><p class=\"subtitle\">" + html_escape(r.law.name) + ": " +
       html_escape(r.law.point.formula()) + "</p></header>\n";

  std::vector<std::string> warnings;
  for (const auto& p : r.plans)
    for (const auto& w : p.warnings) warnings.push_back("C = " + n3(p.allocation.compute) + ": " + w);
  if (!warnings.empty())
    o += "<section id=\"sec-warnings\" class=\"warnings\"><h2>Warnings</h2>" + list(warnings) + "</section>\n";

  if (!r.plans.empty()) {
    o += "<section id=\"sec-plans\"><h2>Plans</h2><table class=\"data\">\n";
    std::vector<std::string> head = {"budget from", "C (FLOPs)", "N_opt [95%]", "D_opt [95%]", "D/N", "loss [95%]"};
    if (r.hardware) head.insert(head.end(), {"GPU-hours", "wall days", "cost (USD)"});
    o += table_head(head);
    for (const auto& p : r.plans) {
      const auto& a = p.allocation;
      std::vector<std::string> row = {p.origin, n3(a.compute), with_ci(a.n), with_ci(a.d), n3(a.tokens_per_param.value),
                                      with_ci(a.loss)};
      if (r.hardware && p.cost) row.insert(row.end(), {n3(p.cost->gpu_hours), n3(p.cost->wall_hours / 24), n3(p.cost->usd)});
      o += table_row(row);
    }
    o += "</table></section>\n";
  }

  o += "<section id=\"sec-frontier\"><h2>Frontier</h2><div class=\"grid2\">\n";
  for (Quantity q : {Quantity::kN, Quantity::kD, Quantity::kLoss}) o += report::render_svg(frontier_plot(r, q));
  o += "</div>\n<table class=\"data\" id=\"frontier-table\">\n";
  std::vector<std::string> head = {"C (FLOPs)", "N_opt [95%]", "D_opt [95%]", "D/N", "loss [95%]"};
  if (r.hardware) head.insert(head.end(), {"GPU-hours", "cost (USD)"});
  o += table_head(head);
  for (const auto& a : r.frontier) {
    std::vector<std::string> row = {n3(a.compute), with_ci(a.n), with_ci(a.d), n3(a.tokens_per_param.value), with_ci(a.loss)};
    if (r.hardware) {
      auto c = hardware_cost(*r.hardware, a.compute);
      row.insert(row.end(), {n3(c.gpu_hours), n3(c.usd)});
    }
    o += table_row(row);
  }
  o += "</table></section>\n";
  std::vector<std::string> notes = r.notes;
  if (!r.law.note.empty()) notes.insert(notes.begin(), r.law.note);
  if (!notes.empty()) o += "<section id=\"sec-notes\"><h2>Notes</h2>" + list(notes) + "</section>\n";
  o += "<footer>Generated by scalinglab " SCALINGLAB_VERSION " (scalinglab plan). Hover over points for values.</footer>\n";
  o += "</body>\n</html>\n";
  return o;
}

std::string render_frontier_svg(const PlanReport& r) {
  const int w = 640, h = 400;
  std::string o = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  std::to_string(w) + "\" height=\"" + std::to_string(3 * h) + "\" viewBox=\"0 0 " + std::to_string(w) +
                  " " + std::to_string(3 * h) + "\">\n";
  o += "<style>text { font-family: system-ui, sans-serif; font-size: 11px; } .plot-title { font-size: 14px; "
       "font-weight: 600; } .axis-title { font-size: 12.5px; } .plot-note { fill: #666; }</style>\n";
  int i = 0;
  for (Quantity q : {Quantity::kN, Quantity::kD, Quantity::kLoss}) {
    PlotSpec spec = frontier_plot(r, q);
    spec.width = w;
    spec.height = h;
    std::string svg = report::render_svg(spec);
    // Nested <svg> elements are placed by x/y (a transform on them is SVG 2 only).
    const std::string open = "<svg class=\"plot\"";
    if (svg.compare(0, open.size(), open) == 0)
      svg = "<svg x=\"0\" y=\"" + std::to_string(i * h) + "\" class=\"plot\"" + svg.substr(open.size());
    o += svg;
    ++i;
  }
  o += "</svg>\n";
  return o;
}

void write_frontier(const PlanReport& r, const std::string& path) {
  const bool svg = path.size() >= 4 && (path.compare(path.size() - 4, 4, ".svg") == 0 ||
                                        path.compare(path.size() - 4, 4, ".SVG") == 0);
  io::write_file_atomic(path, svg ? render_frontier_svg(r) : render_frontier_html(r));
}

}  // namespace scalinglab::plan
