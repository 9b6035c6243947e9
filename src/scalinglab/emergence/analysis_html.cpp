#include "scalinglab/emergence/analysis_html.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "scalinglab/io/atomic_file.h"
#include "scalinglab/report/escape.h"
#include "scalinglab/report/html_report.h"
#include "scalinglab/report/svg_plot.h"

namespace scalinglab::emergence {

namespace {

using report::format_number;
using report::html_escape;

constexpr const char* kGrey = "#777777";

std::string num(double v, int digits = 3) { return format_number(v, digits); }

std::string td(const std::string& s, const std::string& cls = "") {
  return (cls.empty() ? "<td>" : "<td class=\"" + cls + "\">") + html_escape(s) + "</td>";
}

// A text cell, left-aligned (the house table style right-aligns every column but the first, for
// numbers).
std::string tdt(const std::string& s, const std::string& cls = "") {
  return "<td style=\"text-align:left\"" + (cls.empty() ? std::string() : " class=\"" + cls + "\"") + ">" + html_escape(s) +
         "</td>";
}

// The plotted quantity in a few characters, for legends.
std::string q_short(const Curve& c) {
  std::string m = c.metric;
  switch (c.info.loss) {
    case LossTransform::kNegLog: m = "−ln " + m; break;
    case LossTransform::kNegate: m = "−" + m; break;
    case LossTransform::kOneMinus: m = "1 − " + m; break;
    default: break;
  }
  return m + (c.answer_len > 0 ? " (L=" + std::to_string(c.answer_len) + ")" : "");
}

std::string verdict_class(const std::string& v) {
  if (v == kVerdictUnexplained) return "bad";
  if (v == kVerdictUntested) return "verdict-weak";
  return "";
}

std::string x_label(const AnalysisResult& r) {
  return r.x_column == "params" ? "Parameters N" : r.x_column == "compute" ? "Compute C (FLOPs)" : r.x_column;
}

std::vector<double> log_grid(double lo, double hi, int n) {
  std::vector<double> g;
  for (int i = 0; i < n; ++i) g.push_back(lo * std::pow(hi / lo, n == 1 ? 0.0 : double(i) / (n - 1)));
  return g;
}

std::string figure(const std::string& svg, const std::string& caption) {
  return "<figure>" + svg + "<figcaption>" + caption + "</figcaption></figure>\n";
}

std::string short_name(const Curve& c) {
  return c.metric + (c.answer_len > 0 ? " (L=" + std::to_string(c.answer_len) + ")" : "");
}

std::string discrete_plot(const AnalysisResult& r, const std::vector<size_t>& members, int k) {
  report::PlotSpec p;
  p.id = "emergence-plot-" + std::to_string(k) + "-discrete";
  p.title = "Discrete metrics";
  p.x_label = x_label(r);
  p.y_label = "value";
  p.x_scale = report::ScaleKind::kLog;
  p.series.push_back({.name = "logistic fit", .color = kGrey, .dash = "6 4"});
  bool any_mirage = false, any_mid = false;
  for (size_t i : members)
    if (r.curves[i].mirage >= 0) any_mirage = true;
  if (any_mirage) p.series.push_back({.name = "p^L (mirage prediction)", .color = kGrey, .dash = "2 3"});
  double ylo = INFINITY, yhi = -INFINITY;
  std::vector<size_t> shown;
  for (size_t i : members)
    if (r.curves[i].curve.info.kind != MetricKind::kContinuous) shown.push_back(i);
  for (size_t s = 0; s < shown.size(); ++s) {
    const CurveAnalysis& a = r.curves[shown[s]];
    const Curve& c = a.curve;
    const std::string color = report::viridis(shown.size() == 1 ? 0.1 : 0.9 * double(s) / double(shown.size() - 1));
    report::Series pts{.name = short_name(c), .color = color, .markers = true, .error_bars = true};
    for (size_t j = 0; j < c.points.size(); ++j) {
      const auto& q = c.points[j];
      const double se = c.se(j);
      pts.points.push_back({.x = q.x, .y = q.value, .y_lo = se > 0 ? q.value - se : NAN, .y_hi = se > 0 ? q.value + se : NAN,
                            .tip = q.model + "\n" + c.metric + " = " + num(q.value, 4) + "\n" + r.x_column + " = " + num(q.x)});
      ylo = std::min(ylo, q.value), yhi = std::max(yhi, q.value);
    }
    p.series.push_back(std::move(pts));
    const double xlo = c.points.front().x, xhi = c.points.back().x;
    if (a.logistic.fitted) {
      report::Series fit{.color = color, .dash = "6 4", .opacity = 0.8};
      for (double x : log_grid(xlo, xhi, 80)) fit.points.push_back({.x = x, .y = a.logistic.p(std::log10(x))});
      p.series.push_back(std::move(fit));
    }
    if (a.mirage >= 0) {
      report::Series pred{.color = color, .dash = "2 3", .opacity = 0.9};
      for (const auto& q : r.mirage[static_cast<size_t>(a.mirage)].exact)
        pred.points.push_back({.x = q.x, .y = q.predicted, .tip = q.model + "\np^L = " + num(q.predicted, 4)});
      p.series.push_back(std::move(pred));
    }
    if (std::isfinite(a.midpoint_log10_x)) any_mid = true;
  }
  // Emergence points as vertical lines over the data's value range.
  if (any_mid && yhi > ylo) {
    p.series.push_back({.name = "emergence point", .color = "#b4460d", .line_width = 1.1, .dash = "1 3"});
    for (size_t i : shown) {
      const double m = r.curves[i].midpoint_log10_x;
      if (!std::isfinite(m)) continue;
      const double x = std::pow(10.0, m);
      p.series.push_back({.color = "#b4460d", .points = {{.x = x, .y = ylo}, {.x = x, .y = yhi, .tip = "emergence point\n" + r.x_column + " = " + num(x)}},
                          .line_width = 1.1, .dash = "1 3"});
    }
  }
  return report::render_svg(p);
}

std::string continuous_plot(const AnalysisResult& r, const std::vector<size_t>& members, int k) {
  report::PlotSpec p;
  p.id = "emergence-plot-" + std::to_string(k) + "-continuous";
  p.title = "Continuous metrics (loss-like quantity)";
  p.x_label = x_label(r);
  p.y_label = "q (log scale)";
  p.x_scale = p.y_scale = report::ScaleKind::kLog;
  p.series.push_back({.name = "power-law fit", .color = kGrey, .dash = "6 4"});
  std::vector<size_t> shown;
  for (size_t i : members)
    if (r.curves[i].curve.info.kind == MetricKind::kContinuous && !r.curves[i].power_law_quantity.empty()) shown.push_back(i);
  for (size_t s = 0; s < shown.size(); ++s) {
    const CurveAnalysis& a = r.curves[shown[s]];
    const Curve& c = a.curve;
    const std::string color = report::viridis(shown.size() == 1 ? 0.1 : 0.9 * double(s) / double(shown.size() - 1));
    report::Series pts{.name = q_short(c), .color = color, .markers = true};
    for (const auto& q : c.points) {
      const double v = loss_quantity(c.info, q.value);
      pts.points.push_back({.x = q.x, .y = v, .tip = q.model + "\n" + c.metric + " = " + num(q.value, 4) + "\nq = " + num(v, 4)});
    }
    p.series.push_back(std::move(pts));
    if (a.power_law.fitted) {
      report::Series fit{.color = color, .dash = "6 4", .opacity = 0.8};
      for (double x : log_grid(c.points.front().x, c.points.back().x, 60)) fit.points.push_back({.x = x, .y = a.power_law.predict(x)});
      p.series.push_back(std::move(fit));
    }
  }
  return report::render_svg(p);
}

std::string verdict_table(const AnalysisResult& r) {
  std::string o = "<h3>Verdict per task</h3>\n<table class=\"data\" id=\"emergence-verdicts\"><thead><tr><th>Task</th>"
                  "<th style=\"text-align:left\">Verdict</th><th style=\"text-align:left\">Decided by</th><th style=\"text-align:left\">Why</th></tr></thead><tbody>";
  for (const auto& t : r.verdicts)
    o += "<tr>" + td(t.group) + tdt(t.verdict, verdict_class(t.verdict)) + tdt(t.decided_by) + tdt(t.reason) + "</tr>";
  return o + "</tbody></table>\n";
}

std::string curve_table(const AnalysisResult& r) {
  std::string o = "<h3>Curves</h3>\n<table class=\"data\" id=\"emergence-curves\"><thead><tr><th>Curve</th><th>Kind</th>"
                  "<th>Scales</th><th>I</th><th>B</th><th>L</th><th>Sharpness</th><th>Midpoint log10 x</th>"
                  "<th>Logistic x0 [95%]</th><th>k</th><th>Verdict</th></tr></thead><tbody>";
  for (const auto& a : r.curves) {
    const auto& f = a.logistic;
    std::string x0 = f.fitted ? num(f.p.x0, 4) : "–";
    if (f.fitted && std::isfinite(f.x0_lo)) x0 += " [" + num(f.x0_lo, 4) + ", " + num(f.x0_hi, 4) + "]";
    if (f.fitted && f.k_at_max) x0 += " (step)";
    std::string b = std::isinf(a.bt.B) ? (a.bt.B > 0 ? "+∞" : "−∞") : num(a.bt.B);
    o += "<tr>" + td(a.curve.label()) + td(to_string(a.curve.info.kind)) + td(std::to_string(a.curve.points.size())) +
         td(num(a.bt.I)) + td(b) + td(num(a.bt.L)) + td(num(a.sharpness) + (a.sharpness_basis == "log_loss" ? " (log q)" : "")) +
         td(num(a.midpoint_log10_x, 4)) + td(x0, f.fitted && !f.x0_inside ? "unidentified" : "") +
         td(f.fitted ? num(f.p.k) : "–") + tdt(a.verdict, verdict_class(a.verdict)) + "</tr>";
  }
  return o + "</tbody></table>\n";
}

std::string forecast_table(const AnalysisResult& r) {
  std::string o = "<h3>Forecast of the larger half from the smaller</h3>\n<table class=\"data\" id=\"emergence-forecasts\">"
                  "<thead><tr><th>Curve</th><th>Method</th><th>Fitted scales</th><th>Mean |error|</th><th>Max |error|</th>"
                  "<th>All within tolerance</th><th>Lead (scales before the jump)</th><th>Note</th></tr></thead><tbody>";
  for (const auto& a : r.curves) {
    const auto& f = a.forecast;
    o += "<tr>" + td(a.curve.label()) + td(f.method) + td(std::to_string(f.fit_points)) + td(num(f.mean_abs_error)) +
         td(num(f.max_abs_error)) + td(std::isfinite(f.mean_abs_error) ? (f.all_within ? "yes" : "no") : "–") +
         td(f.lead_scales >= 0 ? std::to_string(f.lead_scales) : std::isfinite(f.jump_log10_x) ? "not predictable" : "–",
            f.lead_scales < 0 && std::isfinite(f.jump_log10_x) ? "bad" : "") +
         tdt(f.note) + "</tr>";
  }
  return o + "</tbody></table>\n";
}

std::string two_step_table(const AnalysisResult& r) {
  if (r.two_step.empty()) return "";
  std::string o = "<h3>Two-step task forecast (task loss → accuracy)</h3>\n<table class=\"data\" id=\"emergence-two-step\">"
                  "<thead><tr><th>Accuracy curve</th><th>Held-out model</th><th>Task loss measured</th><th>predicted</th>"
                  "<th>Accuracy measured</th><th>from measured loss</th><th>chained [95%]</th></tr></thead><tbody>";
  for (const auto& t : r.two_step) {
    if (!t.ok) {
      o += "<tr>" + td(t.accuracy_label) + "<td colspan=\"6\">" + html_escape(t.note) + "</td></tr>";
      continue;
    }
    for (const auto& p : t.held_out) {
      std::string ch = num(p.accuracy_predicted, 3);
      if (std::isfinite(p.accuracy_lo)) ch += " [" + num(p.accuracy_lo, 3) + ", " + num(p.accuracy_hi, 3) + "]";
      o += "<tr>" + td(t.accuracy_label) + td(p.model) + td(num(p.loss_measured, 4)) + td(num(p.loss_predicted, 4)) +
           td(num(p.accuracy_measured, 3)) + td(num(p.accuracy_from_measured_loss, 3)) + td(ch) + "</tr>";
    }
    o += "<tr>" + td(t.accuracy_label) + "<td colspan=\"6\">mean errors: step 1 " + html_escape(num(100 * t.step1_mean_abs_rel_error, 3)) +
         "% (relative), step 2 " + html_escape(num(t.step2_mean_abs_error, 3)) + ", chained " +
         html_escape(num(t.chained_mean_abs_error, 3)) + "</td></tr>";
  }
  return o + "</tbody></table>\n";
}

std::string list(const std::vector<std::string>& items, const std::string& cls) {
  std::string o = "<ul class=\"" + cls + "\">";
  for (const auto& s : items) o += "<li>" + html_escape(s) + "</li>";
  return o + "</ul>";
}

}  // namespace

std::string render_emergence_section(const AnalysisResult& r, const HtmlOptions& options) {
  std::string o = "<section id=\"sec-emergence\"><h2>Emergence analysis</h2>\n";
  o += "<p>Source: " + html_escape(r.source) + "; scale: " + html_escape(r.x_column) + "; " +
       std::to_string(r.curves.size()) + " curves. Sharp: sharpness |B|/(n−1) ≥ " + html_escape(num(r.options.sharp_threshold)) +
       " (discrete metrics on their value, continuous ones on log q). The mirage test predicts exact match as p^L from the "
       "per-token metric (Schaeffer, Miranda &amp; Koyejo 2023).</p>\n";
  if (!r.warnings.empty()) o += list(r.warnings, "warnings");
  o += verdict_table(r);
  // Plots per group, in order of first appearance.
  std::vector<std::string> order;
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < r.curves.size(); ++i) {
    auto [it, fresh] = groups.emplace(r.curves[i].curve.group(), std::vector<size_t>{});
    if (fresh) order.push_back(r.curves[i].curve.group());
    it->second.push_back(i);
  }
  int k = 0;
  for (const auto& g : order) {
    if (k >= options.max_groups) {
      o += "<p class=\"unidentified-note\">Plots for the first " + std::to_string(options.max_groups) + " of " +
           std::to_string(order.size()) + " groups; the tables list every curve.</p>\n";
      break;
    }
    const auto& members = groups[g];
    const bool discrete = std::any_of(members.begin(), members.end(),
                                      [&](size_t i) { return r.curves[i].curve.info.kind != MetricKind::kContinuous; });
    const bool continuous = std::any_of(members.begin(), members.end(), [&](size_t i) {
      return r.curves[i].curve.info.kind == MetricKind::kContinuous && !r.curves[i].power_law_quantity.empty();
    });
    o += "<h3>" + html_escape(r.curves[members.front()].curve.group_label()) + "</h3>\n<div class=\"grid2\">";
    if (discrete)
      o += figure(discrete_plot(r, members, k), "Discrete metrics with their 4-parameter logistic fits (dashed), the p^L "
                                                "prediction from the per-token metric (dotted) and the emergence points.");
    if (continuous)
      o += figure(continuous_plot(r, members, k), "Continuous metrics as their loss-like quantity q on a log axis, with "
                                                  "power-law fits: a straight line is smooth improvement.");
    o += "</div>\n";
    ++k;
  }
  o += curve_table(r) + forecast_table(r) + two_step_table(r);
  if (!r.notes.empty()) o += "<h3>Notes</h3>" + list(r.notes, "notes");
  return o + "</section>\n";
}

std::string render_emergence_page(const AnalysisResult& r, const HtmlOptions& options) {
  report::ReportData d;
  d.title = "Emergence analysis";
  d.subtitle = r.source;
  d.sections.push_back({"sec-emergence", "Emergence", render_emergence_section(r, options)});
  return report::render_html(d);
}

void write_emergence_html(const AnalysisResult& r, const std::string& path, const HtmlOptions& options) {
  io::write_file_atomic(path, render_emergence_page(r, options));
}

}  // namespace scalinglab::emergence
