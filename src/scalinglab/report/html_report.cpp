#include "scalinglab/report/html_report.h"

#include <algorithm>
#include <cmath>

#include "scalinglab/io/atomic_file.h"
#include "scalinglab/report/escape.h"
#include "scalinglab/report/svg_plot.h"

namespace scalinglab::report {

namespace {

// Muted, colour-blind-safe pair for "covered" vs "missed" and for fitted lines.
constexpr const char* kBlue = "#1f6fb4";
constexpr const char* kOrange = "#d9730d";
constexpr const char* kGrey = "#777777";
constexpr const char* kGreen = "#2e8b57";

std::string num(double v, int digits = 3) { return format_number(v, digits); }

// "v [lo, hi]" or just "v" when the interval is missing.
std::string with_ci(const ValueCI& v, int digits = 3) {
  std::string s = num(v.value, digits);
  if (v.has_interval()) s += " [" + num(v.lo, digits) + ", " + num(v.hi, digits) + "]";
  return s;
}

// Log-spaced grid over [lo, hi] for drawing smooth curves.
std::vector<double> log_grid(double lo, double hi, int n) {
  std::vector<double> g;
  for (int i = 0; i < n; ++i) g.push_back(lo * std::pow(hi / lo, n == 1 ? 0.0 : double(i) / (n - 1)));
  return g;
}

// A colour bar spanning [lo, hi]; a single value gets a small range around it.
ColorBar log_bar(std::string title, double lo, double hi) {
  if (!(hi > lo)) lo /= 1.5, hi *= 1.5;
  return {std::move(title), lo, hi, ScaleKind::kLog};
}

std::string figure(const std::string& svg, const std::string& caption) {
  return "<figure>" + svg + "<figcaption>" + caption + "</figcaption></figure>\n";
}

// ---- Loss curves -------------------------------------------------------------------------

std::string runs_section(const std::vector<Curve>& runs) {
  double nmin = INFINITY, nmax = -INFINITY;
  for (const auto& r : runs) {
    if (r.n > 0 && std::isfinite(r.n)) nmin = std::min(nmin, r.n), nmax = std::max(nmax, r.n);
  }
  if (!(nmax >= nmin)) nmin = nmax = 1;
  ColorBar bar = log_bar("N (parameters)", nmin, nmax);

  auto plot = [&](bool by_flops) {
    PlotSpec p;
    p.id = by_flops ? "plot-loss-flops" : "plot-loss-tokens";
    p.title = by_flops ? "Loss vs compute" : "Loss vs training tokens";
    p.x_label = by_flops ? "Compute C (FLOPs)" : "Tokens D";
    p.y_label = "Loss L";
    p.x_scale = p.y_scale = ScaleKind::kLog;
    p.color_bar = bar;
    // Sorted by N so the larger models (drawn later) sit on top, as in Kaplan et al. Fig. 1.
    std::vector<const Curve*> order;
    for (const auto& r : runs) order.push_back(&r);
    std::stable_sort(order.begin(), order.end(), [](const Curve* a, const Curve* b) { return a->n < b->n; });
    for (const Curve* r : order) {
      Series s;
      s.color = color_for(bar, r->n);
      s.line_width = 1.4;
      s.hover_points = 40;
      for (const auto& pt : r->points) {
        PlotPoint q;
        q.x = by_flops ? pt.flops : pt.tokens;
        q.y = pt.loss;
        q.tip = r->name + "\nN = " + num(r->n) + "\nD = " + num(pt.tokens) + " tokens\nC = " + num(pt.flops) +
                " FLOPs\nloss = " + num(pt.loss, 4);
        s.points.push_back(std::move(q));
      }
      p.series.push_back(std::move(s));
    }
    return render_svg(p);
  };
  std::string o = "<section id=\"sec-runs\"><h2>Training curves</h2>\n<div class=\"grid2\">";
  o += figure(plot(false), "Loss over training, one curve per run, coloured by model size N.");
  o += figure(plot(true), "The same curves against compute: the lower envelope is the compute-efficient frontier "
                          "(Chinchilla approach 1).");
  return o + "</div></section>\n";
}

// ---- IsoFLOP profiles --------------------------------------------------------------------

std::string isoflop_section(const std::vector<IsoflopCurve>& budgets) {
  double cmin = INFINITY, cmax = -INFINITY;
  for (const auto& b : budgets) {
    if (b.c > 0 && std::isfinite(b.c)) cmin = std::min(cmin, b.c), cmax = std::max(cmax, b.c);
  }
  if (!(cmax >= cmin)) cmin = cmax = 1;
  PlotSpec p;
  p.id = "plot-isoflop";
  p.title = "IsoFLOP profiles";
  p.x_label = "Parameters N";
  p.y_label = "Final loss L";
  p.x_scale = ScaleKind::kLog;
  p.color_bar = log_bar("C (FLOPs)", cmin, cmax);
  // Legend-only entries (no points) explain the three kinds of marks.
  Series runs_key{.name = "runs", .color = kGrey, .line = false, .markers = true};
  Series parabola_key{.name = "fitted parabola", .color = kGrey};
  Series min_key{.name = "minimum N_opt", .color = kGrey, .line = false, .markers = true,
                 .shape = MarkerShape::kStar, .marker_size = 4};
  p.series = {runs_key, parabola_key, min_key};
  const bool any_skipped = std::any_of(budgets.begin(), budgets.end(), [](const IsoflopCurve& b) { return !b.used; });
  const bool any_extrapolated =
      std::any_of(budgets.begin(), budgets.end(), [](const IsoflopCurve& b) { return b.used && b.extrapolated; });
  if (any_skipped)
    p.series.push_back(Series{.name = "skipped budget (not fitted)", .color = kGrey, .markers = true,
                              .shape = MarkerShape::kSquare, .dash = "4 3", .opacity = 0.6});
  if (any_extrapolated)
    p.series.push_back(Series{.name = "extrapolated minimum (kept)", .color = kGrey, .line = false, .markers = true,
                              .shape = MarkerShape::kDiamond, .marker_size = 4.5});
  std::string skipped, extrapolated;
  for (const auto& b : budgets) {
    // Skipped budgets are grey squares with a dashed parabola: visibly not part of the fit.
    std::string color = b.used ? color_for(*p.color_bar, b.c) : kGrey;
    const std::string status = b.used ? (b.extrapolated ? "\nused, vertex extrapolated" : "") : "\nskipped: " + b.note;
    Series pts{.color = color, .line = false, .markers = true,
               .shape = b.used ? MarkerShape::kCircle : MarkerShape::kSquare, .opacity = b.used ? 1.0 : 0.6};
    double nlo = INFINITY, nhi = -INFINITY;
    for (const auto& q : b.points) {
      pts.points.push_back({.x = q.n, .y = q.loss, .tip = "C = " + num(b.c) + " FLOPs\nN = " + num(q.n) +
                                                          "\nloss = " + num(q.loss, 4) + status});
      if (q.n > 0) nlo = std::min(nlo, q.n), nhi = std::max(nhi, q.n);
    }
    p.series.push_back(std::move(pts));
    if (b.has_parabola && nhi >= nlo) {
      Series curve{.color = color, .line_width = 1.3, .dash = b.used ? std::string() : std::string("4 3"),
                   .opacity = b.used ? 0.85 : 0.5};
      for (double n : log_grid(nlo / 1.1, nhi * 1.1, 60)) {
        double u = std::log(n), v = b.c0 + b.c1 * u + b.c2 * u * u;
        curve.points.push_back({.x = n, .y = b.log_loss ? std::exp(v) : v});
      }
      p.series.push_back(std::move(curve));
    }
    if (std::isfinite(b.n_opt) && std::isfinite(b.loss_opt)) {
      Series m{.color = color, .line = false, .markers = true,
               .shape = b.extrapolated ? MarkerShape::kDiamond : MarkerShape::kStar, .marker_size = 4.5};
      m.points.push_back({.x = b.n_opt, .y = b.loss_opt,
                          .tip = "C = " + num(b.c) + " FLOPs\nN_opt = " + num(b.n_opt) + "\nloss = " +
                                 num(b.loss_opt, 4) + status});
      p.series.push_back(std::move(m));
    }
    if (!b.note.empty()) {
      const std::string li = "<li>C = " + html_escape(num(b.c)) + ": " + html_escape(b.note) + "</li>";
      (b.used ? extrapolated : skipped) += li;
    }
  }
  std::string o = "<section id=\"sec-isoflop\"><h2>IsoFLOP profiles (Chinchilla approach 2)</h2>\n";
  o += figure(render_svg(p), "Final loss of runs sharing a compute budget, a parabola in ln N fitted per budget "
                             "and its minimum (star), as in Hoffmann et al. 2022, Figure 3.");
  if (!skipped.empty())
    o += "<p>Budgets not used (grey squares, dashed parabola), with the reason:</p><ul class=\"skipped\">" + skipped +
         "</ul>";
  if (!extrapolated.empty())
    o += "<p>Budgets used with a minimum outside their sampled range (diamond; --edge-vertices keep):</p>"
         "<ul class=\"extrapolated\">" + extrapolated + "</ul>";
  return o + "</section>\n";
}

// ---- Compute-optimal frontier ------------------------------------------------------------

std::string frontier_plot(const Frontier& f, const std::vector<PlannerRow>& planner, bool params) {
  const char* sym = params ? "N_opt" : "D_opt";
  const std::optional<PowerLawLine>& fit = params ? f.n_fit : f.d_fit;
  double ref = params ? f.reference_a : f.reference_b;
  PlotSpec p;
  p.id = params ? "plot-n-opt" : "plot-d-opt";
  p.title = params ? "Compute-optimal model size" : "Compute-optimal training tokens";
  p.x_label = "Compute C (FLOPs)";
  p.y_label = params ? "N_opt (parameters)" : "D_opt (tokens)";
  p.x_scale = p.y_scale = ScaleKind::kLog;

  // Range of compute the lines cover: the data plus any planner budgets (extrapolation shown).
  double cmin = INFINITY, cmax = -INFINITY, sum_lc = 0, sum_ly = 0;
  int used = 0;
  Series pts{.name = "IsoFLOP minima", .color = kBlue, .line = false, .markers = true, .error_bars = true};
  for (const auto& fp : f.points) {
    const ValueCI& v = params ? fp.n_opt : fp.d_opt;
    if (!(fp.c > 0) || !(v.value > 0)) continue;
    cmin = std::min(cmin, fp.c), cmax = std::max(cmax, fp.c);
    sum_lc += std::log(fp.c), sum_ly += std::log(v.value), ++used;
    pts.points.push_back({.x = fp.c, .y = v.value, .y_lo = v.lo, .y_hi = v.hi,
                          .tip = std::string("C = ") + num(fp.c) + " FLOPs\n" + sym + " = " + with_ci(v)});
  }
  Series env{.name = "envelope (approach 1)", .color = kGreen, .line = false, .markers = true, .marker_size = 2.5};
  for (const auto& fp : f.envelope_points) {
    const ValueCI& v = params ? fp.n_opt : fp.d_opt;
    if (!(fp.c > 0) || !(v.value > 0)) continue;
    cmin = std::min(cmin, fp.c), cmax = std::max(cmax, fp.c);
    env.points.push_back({.x = fp.c, .y = v.value, .tip = std::string("envelope: C = ") + num(fp.c) + " FLOPs\n" + sym + " = " + num(v.value)});
  }
  Series plan{.name = "planner budgets", .color = kOrange, .line = false, .markers = true,
              .shape = MarkerShape::kDiamond, .marker_size = 4, .error_bars = true};
  double pmin = cmin, pmax = cmax;
  for (const auto& r : planner) {
    const ValueCI& v = params ? r.n_opt : r.d_opt;
    if (!(r.c > 0) || !(v.value > 0)) continue;
    pmin = std::min(pmin, r.c), pmax = std::max(pmax, r.c);
    plan.points.push_back({.x = r.c, .y = v.value, .y_lo = v.lo, .y_hi = v.hi,
                           .tip = std::string("planned C = ") + num(r.c) + " FLOPs\n" + sym + " = " + with_ci(v)});
  }
  if (!(pmax >= pmin)) return "";
  std::vector<double> grid = log_grid(pmin / 1.5, pmax * 1.5, 40);
  if (fit && std::isfinite(fit->k) && std::isfinite(fit->exponent.value)) {
    Series line{.name = std::string("fit ∝ C^") + num(fit->exponent.value, 3), .color = kBlue};
    for (double c : grid) line.points.push_back({.x = c, .y = fit->k * std::pow(c, fit->exponent.value)});
    if (!fit->band.empty()) {
      Series band{.color = kBlue, .line = false, .band = true};
      for (const auto& b : fit->band) band.points.push_back({.x = b.c, .y = b.lo, .y_lo = b.lo, .y_hi = b.hi});
      p.series.push_back(std::move(band));
    }
    p.series.push_back(std::move(line));
  }
  if (std::isfinite(ref) && used > 0) {
    // Anchor the reference slope where the data are: at their geometric-mean compute, on the
    // fitted line if there is one, so only the slopes differ.
    double cg = std::exp(sum_lc / used);
    double yg = std::exp(sum_ly / used);
    if (fit && std::isfinite(fit->k) && std::isfinite(fit->exponent.value)) {
      yg = fit->k * std::pow(cg, fit->exponent.value);
    }
    Series r{.name = "Chinchilla slope " + num(ref, 2), .color = kGrey, .line_width = 1.2, .dash = "6 4"};
    for (double c : grid) r.points.push_back({.x = c, .y = yg * std::pow(c / cg, ref)});
    p.series.push_back(std::move(r));
  }
  const std::optional<PowerLawLine>& env_fit = params ? f.envelope_n_fit : f.envelope_d_fit;
  if (env_fit && std::isfinite(env_fit->k) && std::isfinite(env_fit->exponent.value)) {
    Series line{.name = std::string("approach 1 ∝ C^") + num(env_fit->exponent.value, 3), .color = kGreen, .line_width = 1.2};
    for (double c : grid) line.points.push_back({.x = c, .y = env_fit->k * std::pow(c, env_fit->exponent.value)});
    p.series.push_back(std::move(line));
  }
  if (!env.points.empty()) p.series.push_back(std::move(env));
  if (!pts.points.empty()) p.series.push_back(std::move(pts));
  if (!plan.points.empty()) p.series.push_back(std::move(plan));
  if (std::isfinite(ref)) p.note = "Dashed: " + f.reference_label + ", through the fit at the data's centre.";
  return render_svg(p);
}

std::string frontier_section(const Frontier& f, const std::vector<PlannerRow>& planner) {
  std::string o = "<section id=\"sec-frontier\"><h2>Compute-optimal frontier</h2>\n";
  std::string fitted;
  // An exponent the data do not determine is marked as such, never stated as a result.
  auto exponent = [](const ValueCI& v) {
    return with_ci(v) + (v.verdict.unidentified() ? " (not identified: " + v.verdict.reason + ")" : "");
  };
  if (f.n_fit) fitted += "N_opt ∝ C^a, a = " + exponent(f.n_fit->exponent);
  if (f.d_fit) fitted += std::string(fitted.empty() ? "" : "; ") + "D_opt ∝ C^b, b = " + exponent(f.d_fit->exponent);
  const bool unidentified = (f.n_fit && f.n_fit->exponent.verdict.unidentified()) ||
                            (f.d_fit && f.d_fit->exponent.verdict.unidentified());
  if (!fitted.empty())
    o += std::string(unidentified ? "<p class=\"fitted unidentified\">" : "<p class=\"fitted\">") + html_escape(fitted) +
         "</p>\n";
  o += "<div class=\"grid2\">";
  o += figure(frontier_plot(f, planner, true), "Optimal model size per budget with 95% intervals, the fitted power "
                                               "law (band: its 95% interval) and the published slope.");
  o += figure(frontier_plot(f, planner, false), "Optimal number of training tokens per budget.");
  return o + "</div></section>\n";
}

// ---- Held-out runs -----------------------------------------------------------------------

std::string holdout_section(const std::vector<HeldOutRun>& rows) {
  PlotSpec p;
  p.id = "plot-holdout";
  p.title = "Predicted vs actual loss of held-out runs";
  p.x_label = "Actual loss";
  p.y_label = "Predicted loss";
  p.legend = true;
  Series in{.name = "interval covers actual", .color = kBlue, .line = false, .markers = true, .error_bars = true};
  Series out{.name = "interval misses actual", .color = kOrange, .line = false, .markers = true,
             .shape = MarkerShape::kSquare, .error_bars = true};
  double lo = INFINITY, hi = -INFINITY;
  std::string table;
  for (const auto& r : rows) {
    if (!std::isfinite(r.actual) || !std::isfinite(r.predicted)) continue;
    for (double v : {r.actual, r.predicted, r.lo, r.hi}) {
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    double err = (r.predicted - r.actual) / r.actual;
    bool covered = std::isfinite(r.lo) && std::isfinite(r.hi) && r.actual >= r.lo && r.actual <= r.hi;
    std::string tip = r.name + "\nC = " + num(r.c) + " FLOPs\nactual = " + num(r.actual, 4) + "\npredicted = " +
                      with_ci({r.predicted, r.lo, r.hi}, 4) + "\nerror = " + num(100 * err, 2) + "%";
    (covered ? in : out).points.push_back({.x = r.actual, .y = r.predicted, .y_lo = r.lo, .y_hi = r.hi, .tip = tip});
    table += "<tr><td>" + html_escape(r.name) + "</td><td>" + html_escape(num(r.c)) + "</td><td>" +
             html_escape(num(r.actual, 4)) + "</td><td>" + html_escape(with_ci({r.predicted, r.lo, r.hi}, 4)) +
             "</td><td class=\"" + (covered ? "ok" : "bad") + "\">" + html_escape(num(100 * err, 2)) + "%</td></tr>";
  }
  if (!(hi >= lo)) return "";
  auto dom = padded_domain(lo, hi, ScaleKind::kLinear);
  p.x_domain = p.y_domain = dom;
  Series diag{.name = "y = x", .color = kGrey, .line_width = 1, .dash = "4 3"};
  diag.points = {{.x = dom.first, .y = dom.first}, {.x = dom.second, .y = dom.second}};
  p.series = {diag};
  if (!in.points.empty()) p.series.push_back(std::move(in));
  if (!out.points.empty()) p.series.push_back(std::move(out));
  std::string o = "<section id=\"sec-holdout\"><h2>Held-out runs</h2>\n";
  o += figure(render_svg(p), "Runs left out of the fit, predicted from the others: points on the dashed line are "
                             "exact; bars are 95% prediction intervals.");
  o += "<table class=\"data\"><thead><tr><th>Run</th><th>C (FLOPs)</th><th>Actual</th><th>Predicted [95%]</th>"
       "<th>Error</th></tr></thead><tbody>" + table + "</tbody></table>\n";
  return o + "</section>\n";
}

// ---- Residuals ---------------------------------------------------------------------------

std::string residuals_section(const Residuals& r) {
  PlotSpec p;
  p.id = "plot-residuals";
  p.title = "Residuals of the fit";
  p.x_label = r.x_label;
  p.y_label = r.y_label;
  p.x_scale = r.log_x ? ScaleKind::kLog : ScaleKind::kLinear;
  Series pts{.color = kBlue, .line = false, .markers = true, .marker_size = 3};
  double xmin = INFINITY, xmax = -INFINITY, rmax = 0;
  for (const auto& q : r.points) {
    if (!std::isfinite(q.x) || !std::isfinite(q.residual) || (r.log_x && !(q.x > 0))) continue;
    xmin = std::min(xmin, q.x), xmax = std::max(xmax, q.x), rmax = std::max(rmax, std::fabs(q.residual));
    std::string tip = (q.label.empty() ? "" : q.label + "\n") + "x = " + num(q.x) + "\nresidual = " + num(q.residual, 3);
    pts.points.push_back({.x = q.x, .y = q.residual, .tip = tip});
  }
  if (pts.points.empty()) return "";
  // Symmetric y range: over- and under-prediction read at the same scale.
  if (rmax == 0) rmax = 1e-3;
  p.y_domain = std::pair{-1.1 * rmax, 1.1 * rmax};
  p.x_domain = padded_domain(xmin, xmax, p.x_scale);
  Series zero{.color = kGrey, .line_width = 1, .dash = "4 3"};
  zero.points = {{.x = p.x_domain->first, .y = 0}, {.x = p.x_domain->second, .y = 0}};
  p.series = {zero, pts};
  std::string o = "<section id=\"sec-residuals\"><h2>Residuals</h2>\n";
  o += figure(render_svg(p), "Residuals against " + html_escape(r.x_label) +
                                 ": a trend, rather than scatter around zero, means the law misses structure.");
  return o + "</section>\n";
}

// ---- Tables ------------------------------------------------------------------------------

// The identifiability cell: "yes", "fixed", "weak: reason", "no: reason"; "–" when not assessed.
std::string verdict_cell(const Verdict& v) {
  if (v.identified.empty()) return "<td>–</td>";
  const bool explain = v.identified == "weak" || v.identified == "no";
  return "<td class=\"verdict-" + html_escape(v.identified) + "\" style=\"text-align:left\">" + html_escape(v.identified) +
         (explain ? ": " + html_escape(v.reason) : "") + "</td>";
}

// Numbers the data do not determine, put aside with why and the design change that would fix them.
std::string unidentified_list(const std::vector<std::pair<std::string, Verdict>>& items) {
  std::string o;
  for (const auto& [name, v] : items)
    if (v.unidentified())
      o += "<li><b>" + html_escape(name) + "</b>: " + html_escape(v.reason) +
           (v.remedy.empty() ? "" : ". Would be determined by " + html_escape(v.remedy)) + ".</li>";
  if (o.empty()) return "";
  return "<div class=\"unidentified-note\"><p>Not identified by these runs (greyed above; not a finding):</p><ul>" + o +
         "</ul></div>";
}

std::string params_section(const std::vector<ParamRow>& rows) {
  std::string o = "<section id=\"sec-params\"><h2>Fitted parameters</h2>\n<table class=\"data\"><thead><tr>"
                  "<th>Parameter</th><th>Value</th><th>SE</th><th>95% interval</th><th>Identified</th></tr></thead><tbody>";
  std::vector<std::pair<std::string, Verdict>> verdicts;
  for (const auto& r : rows) {
    const bool usable = (std::isfinite(r.lo) || std::isinf(r.lo)) && (std::isfinite(r.hi) || std::isinf(r.hi));
    std::string ci = usable ? "[" + num(r.lo, 4) + ", " + num(r.hi, 4) + "]" : "–";
    o += std::string(r.verdict.unidentified() ? "<tr class=\"unidentified\">" : "<tr>") + "<td>" + html_escape(r.name) +
         "</td><td>" + html_escape(num(r.value, 4)) + "</td><td>" + html_escape(num(r.se, 2)) + "</td><td>" +
         html_escape(ci) + "</td>" + verdict_cell(r.verdict) + "</tr>";
    verdicts.emplace_back(r.name, r.verdict);
  }
  return o + "</tbody></table>" + unidentified_list(verdicts) + "</section>\n";
}

std::string approaches_section(const std::vector<ApproachRow>& rows, const std::string& agreement) {
  std::string o = "<section id=\"sec-approaches\"><h2>Approaches compared</h2>\n<table class=\"data\"><thead><tr>"
                  "<th>Method</th><th>a (N_opt ∝ C^a) [95%]</th><th>b (D_opt ∝ C^b) [95%]</th><th>Note</th>"
                  "</tr></thead><tbody>";
  // An unidentified exponent is greyed and marked, never read as a result.
  auto cell = [](const ValueCI& v) {
    if (!std::isfinite(v.value) && !std::isinf(v.value)) return std::string("<td>–</td>");
    std::string text = html_escape(with_ci(v, 3));
    if (v.verdict.unidentified()) return "<td class=\"unidentified\">" + text + " (not identified)</td>";
    if (v.verdict.identified == "weak") return "<td>" + text + " (weak)</td>";
    return "<td>" + text + "</td>";
  };
  std::vector<std::pair<std::string, Verdict>> verdicts;
  for (const auto& r : rows) {
    o += "<tr><td>" + html_escape(r.name) + "</td>" + cell(r.a) + cell(r.b) + "<td style=\"text-align:left\">" +
         html_escape(r.note) + "</td></tr>";
    verdicts.emplace_back(r.name + ": a", r.a.verdict);
    verdicts.emplace_back(r.name + ": b", r.b.verdict);
  }
  o += "</tbody></table>";
  if (!agreement.empty()) o += "<p class=\"agreement\">" + html_escape(agreement) + "</p>";
  return o + unidentified_list(verdicts) + "</section>\n";
}

std::string backtest_section(const std::vector<BacktestRow>& rows, const std::string& rule) {
  std::string o = "<section id=\"sec-backtest\"><h2>Headline law: rollout backtest</h2>\n<p>" + html_escape(rule) +
                  "</p>\n<table class=\"data\"><thead><tr><th>Candidate</th><th>Mean |error|</th><th>Mean error</th>"
                  "<th>Backtest choice</th></tr></thead><tbody>";
  for (const auto& r : rows) {
    const bool scored = std::isfinite(r.mean_abs_rel_error);
    o += "<tr><td>" + html_escape(r.law) + "</td><td>" +
         html_escape(scored ? num(100 * r.mean_abs_rel_error, 3) + "%" : "no score: " + r.note) + "</td><td>" +
         html_escape(std::isfinite(r.mean_rel_error) ? num(100 * r.mean_rel_error, 3) + "%" : "–") + "</td><td>" +
         (r.chosen ? "<strong>chosen</strong>" : "") + "</td></tr>";
  }
  return o + "</tbody></table></section>\n";
}

std::string planner_section(const std::vector<PlannerRow>& rows) {
  std::string o = "<section id=\"sec-planner\"><h2>Planner</h2>\n<table class=\"data\"><thead><tr>"
                  "<th>Compute C (FLOPs)</th><th>N_opt [95%]</th><th>D_opt [95%]</th><th>D/N</th>"
                  "<th>Loss [95%]</th></tr></thead><tbody>";
  std::vector<std::pair<std::string, Verdict>> verdicts;
  for (const auto& r : rows) {
    double ratio = r.d_opt.value / r.n_opt.value;
    const bool grey = r.n_opt.verdict.unidentified() || r.d_opt.verdict.unidentified();
    o += std::string(grey ? "<tr class=\"unidentified\">" : "<tr>") + "<td>" + html_escape(num(r.c)) + "</td><td>" +
         html_escape(with_ci(r.n_opt)) + "</td><td>" + html_escape(with_ci(r.d_opt)) + "</td><td>" +
         html_escape(num(ratio, 3)) + "</td><td>" + html_escape(with_ci(r.loss, 4)) + "</td></tr>";
    verdicts.emplace_back("N_opt at C = " + num(r.c), r.n_opt.verdict);
  }
  return o + "</tbody></table>" + unidentified_list(verdicts) + "</section>\n";
}

std::string list(const std::vector<std::string>& items) {
  std::string o = "<ul>";
  for (const auto& s : items) o += "<li>" + html_escape(s) + "</li>";
  return o + "</ul>";
}

constexpr const char* kStyle = R"CSS(
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; background: #f7f7f5;
       margin: 0 auto; padding: 16px 24px 48px; max-width: 1400px; }
h1 { font-size: 24px; margin: 8px 0 2px; }
h2 { font-size: 18px; margin: 0 0 10px; }
.subtitle { color: #555; margin: 0 0 12px; font-family: ui-monospace, monospace; }
nav { margin: 8px 0 16px; font-size: 13px; }
nav a { margin-right: 14px; color: #1f6fb4; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 14px 18px; margin: 0 0 16px; }
.grid2 { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; }
figcaption { color: #555; font-size: 12.5px; max-width: 640px; }
svg.plot { display: block; max-width: 100%; height: auto; font-family: system-ui, sans-serif; }
svg .plot-title { font-size: 14px; font-weight: 600; fill: #222; }
svg .axis-title { font-size: 12.5px; fill: #222; }
svg .plot-note { font-size: 11px; fill: #666; }
svg .pt:hover { stroke: #000; stroke-width: 1.5; }
table.data { border-collapse: collapse; font-variant-numeric: tabular-nums; margin-top: 6px; }
table.data th, table.data td { border-bottom: 1px solid #e3e3e3; padding: 4px 12px; text-align: right; }
table.data th:first-child, table.data td:first-child { text-align: left; }
td.bad { color: #b4460d; font-weight: 600; }
tr.unidentified td, td.unidentified, p.unidentified { color: #9a9a9a; }
td.verdict-no { color: #9a9a9a; font-style: italic; }
td.verdict-weak { color: #8a6d00; }
.unidentified-note { color: #555; font-size: 13px; }
.warnings { background: #fff6e5; border-color: #e8b350; }
.fitted { font-family: ui-monospace, monospace; }
#tooltip { position: fixed; display: none; pointer-events: none; z-index: 10; background: rgba(20,20,20,.92);
           color: #fff; font-size: 12px; padding: 5px 8px; border-radius: 4px; white-space: pre-line; max-width: 360px; }
footer { color: #888; font-size: 12px; }
)CSS";

// Hover tooltips: one floating div filled (as text, never as HTML) from the data-tip attribute of
// the element under the pointer. The SVG <title> fallbacks are removed so the browser's own
// tooltip does not appear next to ours. data-tooltips on <html> records how many targets were
// wired, which the headless-browser test reads back.
constexpr const char* kScript = R"JS(
(function () {
  var tip = document.createElement('div');
  tip.id = 'tooltip';
  tip.setAttribute('role', 'tooltip');
  document.body.appendChild(tip);
  var targets = document.querySelectorAll('[data-tip]');
  for (var i = 0; i < targets.length; i++) {
    var t = targets[i].querySelector('title');
    if (t) t.parentNode.removeChild(t);
  }
  function place(e) {
    var x = e.clientX + 14, y = e.clientY + 14;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth - 4) x = Math.max(4, e.clientX - w - 14);
    if (y + h > window.innerHeight - 4) y = Math.max(4, e.clientY - h - 14);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  document.addEventListener('mouseover', function (e) {
    var el = e.target && e.target.closest ? e.target.closest('[data-tip]') : null;
    if (!el) { tip.style.display = 'none'; return; }
    tip.textContent = el.getAttribute('data-tip');
    tip.style.display = 'block';
    place(e);
  });
  document.addEventListener('mousemove', function (e) { if (tip.style.display === 'block') place(e); });
  document.addEventListener('mouseout', function (e) {
    var to = e.relatedTarget;
    if (!to || !to.closest || !to.closest('[data-tip]')) tip.style.display = 'none';
  });
  document.documentElement.setAttribute('data-tooltips', String(targets.length));
})();
)JS";

}  // namespace

std::string render_html(const ReportData& d) {
  // Sections first, so the navigation lists only those present.
  std::vector<std::pair<std::string, std::string>> sections;  // (id, label), in page order
  std::string body;
  if (!d.warnings.empty()) {
    body += "<section id=\"sec-warnings\" class=\"warnings\"><h2>Warnings</h2>" + list(d.warnings) + "</section>\n";
    sections.push_back({"sec-warnings", "Warnings"});
  }
  if (!d.runs.empty()) {
    body += runs_section(d.runs);
    sections.push_back({"sec-runs", "Training curves"});
  }
  if (!d.isoflop.empty()) {
    body += isoflop_section(d.isoflop);
    sections.push_back({"sec-isoflop", "IsoFLOP"});
  }
  if (d.frontier && (!d.frontier->points.empty() || d.frontier->n_fit || d.frontier->d_fit)) {
    body += frontier_section(*d.frontier, d.planner);
    sections.push_back({"sec-frontier", "Frontier"});
  }
  if (!d.held_out.empty()) {
    std::string s = holdout_section(d.held_out);
    if (!s.empty()) body += s, sections.push_back({"sec-holdout", "Held-out runs"});
  }
  if (!d.backtest.empty()) {
    body += backtest_section(d.backtest, d.backtest_rule);
    sections.push_back({"sec-backtest", "Headline law"});
  }
  if (d.residuals) {
    std::string s = residuals_section(*d.residuals);
    if (!s.empty()) body += s, sections.push_back({"sec-residuals", "Residuals"});
  }
  if (!d.params.empty()) {
    body += params_section(d.params);
    sections.push_back({"sec-params", "Parameters"});
  }
  if (!d.approaches.empty()) {
    body += approaches_section(d.approaches, d.agreement);
    sections.push_back({"sec-approaches", "Approaches"});
  }
  if (!d.planner.empty()) {
    body += planner_section(d.planner);
    sections.push_back({"sec-planner", "Planner"});
  }
  for (const auto& sec : d.sections) {
    body += sec.html;
    sections.push_back({sec.id, sec.label});
  }
  if (!d.notes.empty()) {
    body += "<section id=\"sec-notes\"><h2>Notes</h2>" + list(d.notes) + "</section>\n";
    sections.push_back({"sec-notes", "Notes"});
  }

  std::string o = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  // Nothing may be fetched: no scripts, styles, fonts or images from anywhere but this file.
  o += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
       "script-src 'unsafe-inline'; img-src data:\">\n";
  o += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  o += "<title>" + html_escape(d.title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  o += "<header><h1>" + html_escape(d.title) + "</h1>";
  if (!d.subtitle.empty()) o += "<p class=\"subtitle\">" + html_escape(d.subtitle) + "</p>";
  o += "</header>\n";
  if (!sections.empty()) {
    o += "<nav>";
    for (const auto& [id, label] : sections) o += "<a href=\"#" + id + "\">" + label + "</a>";
    o += "</nav>\n";
  } else {
    o += "<p>No data to show.</p>\n";
  }
  o += body;
  o += "<footer>Generated by scalinglab " SCALINGLAB_VERSION ". Hover over points for values.</footer>\n";
  o += std::string("<script>") + kScript + "</script>\n</body>\n</html>\n";
  return o;
}

void write_report(const ReportData& data, const std::string& path) {
  io::write_file_atomic(path, render_html(data));
}

}  // namespace scalinglab::report
