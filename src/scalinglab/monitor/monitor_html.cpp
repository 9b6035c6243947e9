#include "scalinglab/monitor/monitor_html.h"

#include <algorithm>
#include <cmath>

#include "scalinglab/report/escape.h"
#include "scalinglab/report/svg_plot.h"

namespace scalinglab::monitor {
namespace {

using report::format_number;
using report::html_escape;

const char* kStyle =
    "body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:960px;color:#222;padding:0 1em}"
    "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}"
    ".banner{padding:.6em 1em;border-radius:6px;font-weight:600}.ok{background:#e3f4e1}.bad{background:#fbe0dc}"
    ".wait{background:#eef}table{border-collapse:collapse;font-size:.9em}td,th{padding:.2em .7em;text-align:right;"
    "border-bottom:1px solid #ddd}th{background:#f4f4f4}td.s-above,td.s-below,td.s-diverged{color:#c0392b;"
    "font-weight:600}svg.plot{max-width:100%;height:auto}ul.warn li{color:#c0392b}";

std::string status_class(PointStatus s) { return std::string("s-") + status_name(s); }

}  // namespace

std::string render_monitor_html(const Monitor& m, const std::string& format, int refresh_s) {
  const MonitorOptions& o = m.options();
  const auto& pts = m.points();
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n";
  if (refresh_s > 0) h += "<meta http-equiv=\"refresh\" content=\"" + std::to_string(refresh_s) + "\">\n";
  h += "<title>monitor: " + html_escape(o.source) + "</title>\n<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  h += "<h1>scalinglab monitor: " + html_escape(o.source) + "</h1>\n";

  // Status banner.
  int evaluated = m.evaluated();
  std::string banner, cls;
  if (m.flagged()) banner = "OFF TRACK", cls = "bad";
  else if (evaluated == 0) banner = m.law_mode() ? "waiting for evaluations" : "calibrating", cls = "wait";
  else banner = "on track", cls = "ok";
  h += "<p id=\"status\" class=\"banner " + cls + "\">" + banner + " — " + std::to_string(pts.size()) + " evaluations of the " +
       metric_name(m.metric()) + " loss read (" + html_escape(format) + "), " + std::to_string(evaluated) +
       " compared with the " + format_number(100 * o.level, 3) + "% band" + (refresh_s > 0 ? "; following the log" : "") + "</p>\n";

  // Reference description.
  h += "<p id=\"reference\">";
  if (m.law_mode()) {
    h += "Reference: the fitted law " + html_escape(o.law->model->name()) + " (" + html_escape(o.law->model->formula()) +
         ") at N = " + format_number(o.params, 4) + ", band from its " + std::to_string(o.law->bootstrap_theta.size()) +
         " bootstrap replicates and run-to-run scatter.";
  } else if (m.calibration().ok) {
    const ScheduleFit& c = m.calibration();
    h += "Reference: the loss curve of the run's learning-rate schedule, L = L<sub>0</sub> + A·S<sub>1</sub><sup>−α</sup> − "
         "C·S<sub>2</sub> (Tissue et al. 2024; S<sub>1</sub> the summed lr, S<sub>2</sub> the annealing area), fitted to its "
         "first " + std::to_string(m.calibration_points()) + " evaluations: L<sub>0</sub> = " + format_number(c.L0, 4) +
         ", A = " + format_number(c.A, 4) + ", α = " + format_number(c.alpha, 3) + ", C = " + format_number(c.C, 3) +
         (c.anneal_identified ? "" : " (from the prior: the window has no lr decrease)") + ", noise σ = " +
         format_number(100 * c.sigma, 2) + "%." + (m.calibrated() ? "" : " Too uncertain to judge the run by (see notes).");
  } else {
    h += "Reference: the run's schedule-aware loss curve, once " + std::to_string(kMinCurvePoints) + "+ calibration evaluations are in.";
  }
  h += "</p>\n";

  // Plot.
  report::PlotSpec spec;
  spec.id = "monitor";
  const std::string xname = m.position_is_tokens() ? "tokens" : "step";
  spec.title = "loss vs " + xname;
  spec.x_label = xname;
  spec.y_label = std::string(metric_name(m.metric())) + " loss";
  spec.x_scale = report::ScaleKind::kLog;
  spec.y_scale = report::ScaleKind::kLog;
  spec.width = 900;
  spec.height = 480;
  double tmin = INFINITY, tmax = 0;
  for (const auto& p : pts)
    if (p.position > 0 && p.status != PointStatus::kSkipped) tmin = std::min(tmin, p.position), tmax = std::max(tmax, p.position);
  const auto fin = m.final_estimate();
  const auto lawfin = m.law_final();
  if (m.planned_steps() > 0) tmax = std::max(tmax, m.planned_steps());
  if (std::isfinite(tmin) && tmax > tmin && m.reference(tmin)) {
    report::Series band{.name = "predicted (" + format_number(100 * o.level, 3) + "% band)", .color = "#7f7f7f"};
    band.band = true;
    band.dash = "6 4";
    const int k = 80;
    for (int i = 0; i <= k; ++i) {
      double t = tmin * std::pow(tmax / tmin, static_cast<double>(i) / k);
      if (auto b = m.reference(t)) band.points.push_back({t, b->predicted, b->lo, b->hi});
    }
    spec.series.push_back(band);
  }
  struct Group {
    const char* name;
    const char* color;
    std::vector<PointStatus> statuses;
  };
  for (const Group& g : {Group{"calibration", "#9467bd", {PointStatus::kCalibrating, PointStatus::kCalibration, PointStatus::kUnjudged}},
                         Group{"inside the band", "#1f77b4", {PointStatus::kInside}},
                         Group{"outside the band", "#d62728", {PointStatus::kAbove, PointStatus::kBelow}},
                         Group{"skipped", "#bbbbbb", {PointStatus::kSkipped}}}) {
    report::Series s{.name = g.name, .color = g.color};
    s.line = false;
    s.markers = true;
    for (const auto& p : pts)
      if (std::find(g.statuses.begin(), g.statuses.end(), p.status) != g.statuses.end() && p.position > 0)
        s.points.push_back({p.position, p.loss, NAN, NAN, NAN, NAN,
                            "step " + format_number(p.step, 8) + ", tokens " + format_number(p.tokens, 4) + ", loss " +
                                format_number(p.loss, 5) + " (" + status_name(p.status) + ")"});
    if (!s.points.empty()) spec.series.push_back(s);
  }
  if (fin) {
    report::Series s{.name = "final-loss estimate (curve so far)", .color = "#ff7f0e"};
    s.line = false;
    s.markers = true;
    s.error_bars = true;
    s.shape = report::MarkerShape::kDiamond;
    s.marker_size = 6;
    s.points.push_back({fin->step, fin->loss.value, fin->loss.pi_lo, fin->loss.pi_hi, NAN, NAN,
                        "final estimate " + format_number(fin->loss.value, 5)});
    spec.series.push_back(s);
  }
  if (lawfin && !m.position_is_tokens() && m.tokens_per_step() > 0) {
    report::Series s{.name = "law at the final tokens", .color = "#2ca02c"};
    s.line = false;
    s.markers = true;
    s.error_bars = true;
    s.shape = report::MarkerShape::kStar;
    s.marker_size = 6;
    s.points.push_back({o.final_tokens / m.tokens_per_step(), lawfin->predicted, lawfin->lo, lawfin->hi, NAN, NAN, "law " + format_number(lawfin->predicted, 5)});
    spec.series.push_back(s);
  }
  h += "<div id=\"plot\">" + report::render_svg(spec) + "</div>\n";

  if (fin)
    h += "<p id=\"final\">Final loss at " + xname + " " + format_number(fin->step, 8) + ", from the schedule-aware curve fitted to the " +
         std::to_string(fin->points) + " evaluations so far: <b>" + format_number(fin->loss.value, 5) + "</b> (" +
         format_number(100 * o.level, 3) + "% interval " + format_number(fin->loss.pi_lo, 5) + " – " +
         format_number(fin->loss.pi_hi, 5) + ")" +
         (lawfin ? "; the law predicts " + format_number(lawfin->predicted, 5) + " (" + format_number(lawfin->lo, 5) + " – " +
                       format_number(lawfin->hi, 5) + ")"
                 : std::string()) +
         ".</p>\n";

  h += "<h2>Warnings</h2>\n<ul id=\"warnings\" class=\"warn\">";
  for (const auto& w : m.warnings()) h += "<li>" + html_escape(w.message) + "</li>";
  if (m.warnings().empty()) h += "<li style=\"color:#222\">none</li>";
  h += "</ul>\n";
  if (!m.notes().empty()) {
    h += "<ul id=\"notes\">";
    for (const auto& n : m.notes()) h += "<li>" + html_escape(n) + "</li>";
    h += "</ul>\n";
  }

  h += "<h2>Latest evaluations</h2>\n<table id=\"points\"><tr><th>step</th><th>tokens</th><th>loss</th><th>predicted</th>"
       "<th>band</th><th>status</th></tr>\n";
  size_t from = pts.size() > 25 ? pts.size() - 25 : 0;
  for (size_t i = pts.size(); i-- > from;) {
    const auto& p = pts[i];
    h += "<tr><td>" + format_number(p.step, 8) + "</td><td>" + format_number(p.tokens, 4) + "</td><td>" +
         format_number(p.loss, 5) + "</td><td>" + format_number(p.predicted, 5) + "</td><td>" +
         (std::isfinite(p.lo) ? format_number(p.lo, 4) + " – " + format_number(p.hi, 4) : "–") + "</td><td class=\"" +
         status_class(p.status) + "\">" + status_name(p.status) + "</td></tr>\n";
  }
  h += "</table>\n</body>\n</html>\n";
  return h;
}

}  // namespace scalinglab::monitor
