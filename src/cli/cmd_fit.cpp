// `scalinglab fit DATA`: fit a scaling law to a table of runs.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "cli/format.h"
#include "scalinglab/analysis/store_runs.h"
#include "scalinglab/fit/compare_laws.h"
#include "scalinglab/fit/dataset.h"
#include "scalinglab/fit/envelope.h"
#include "scalinglab/fit/isoflop.h"
#include "scalinglab/fit/fit_json.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/two_stage.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/io/table.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::cli {
namespace {

struct FitArgs {
  std::string data, law = "chinchilla", method = "lbfgs", format = "auto", json_out;
  std::string sweep;  // the sweep of a run store, when DATA is one
  int approach = 3;
  std::string col_run = "run", col_tokens;
  double c_tolerance = 0.05;
  std::string edge_vertices = "drop", isoflop_bootstrap = "points";
  bool bootstrap_given = false;
  fit::ColumnSpec columns;
  fit::RunFilters filters;
  double min_n = 0, max_n = 0, min_c = 0, max_c = 0;
  bool irreducible = false, quiet = false;
  fit::FitOptions options;
  std::vector<double> at_compute;
  std::vector<std::string> at_points;
  std::vector<std::string> compare;
  std::vector<std::string> fix;  // NAME=VALUE
  std::string procedure;  // data-constrained: auto | two-stage | joint (empty: auto)
};

// --fix NAME=VALUE (repeatable) into the law options.
std::vector<std::pair<std::string, double>> parse_fixes(const std::vector<std::string>& fixes) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& f : fixes) {
    auto eq = f.find('=');
    double v = 0;
    size_t used = 0;
    bool ok = eq != std::string::npos && eq > 0;
    if (ok) {
      try {
        v = std::stod(f.substr(eq + 1), &used);
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (!ok || used != f.size() - eq - 1 || !std::isfinite(v))
      throw UsageError("--fix expects NAME=VALUE with a number, e.g. --fix R_N_star=5.309; got '" + f + "'");
    out.emplace_back(f.substr(0, eq), v);
  }
  return out;
}

io::TableFormat parse_format(const std::string& f) {
  if (f == "csv") return io::TableFormat::kCsv;
  if (f == "tsv") return io::TableFormat::kTsv;
  if (f == "jsonl") return io::TableFormat::kJsonl;
  return io::TableFormat::kAuto;
}

fit::Run parse_point(const std::string& text) {
  // "N,D" — the loss prediction for N parameters trained on D tokens; "N,D,U" with U unique
  // tokens for the data-constrained law.
  std::istringstream in(text);
  fit::Run r{};
  char comma = 0;
  bool ok = static_cast<bool>(in >> r.n >> comma >> r.d) && comma == ',' && r.n > 0 && r.d > 0;
  if (ok && in >> comma) ok = comma == ',' && static_cast<bool>(in >> r.u) && r.u > 0 && r.u <= r.d && (in >> std::ws).eof();
  if (!ok)
    throw UsageError("--at expects N,D or N,D,U with positive numbers and U <= D, e.g. --at 7e10,1.4e12; got '" + text +
                     "'");
  r.c = 6 * r.n * r.d;
  return r;
}

void print_report(const fit::FittedLaw& r) {
  std::cout << "law      " << r.law << ":  " << r.formula << "\n";
  std::cout << "data     " << r.source << ": " << r.points << " runs";
  if (std::isfinite(r.range.c.min)) std::cout << ", C " << fmt(r.range.c.min, 3) << " .. " << fmt(r.range.c.max, 3);
  if (std::isfinite(r.range.n.min)) std::cout << ", N " << fmt(r.range.n.min, 3) << " .. " << fmt(r.range.n.max, 3);
  std::cout << "\n";
  std::cout << "method   " << r.method << ", Huber delta " << r.huber_delta << " on log loss, objective "
            << fmt(r.objective, 6) << "\n"
            << "solver   " << (r.status_detail.empty() ? r.status : r.status_detail) << "\n";
  if (r.method == "lbfgs")
    std::cout << "starts   " << r.starts << " ("
              << (r.continued_starts >= 0 ? "all screened, the " + std::to_string(r.continued_starts) +
                                                " best unfinished run on; "
                                          : std::string())
              << r.converged_starts << " converged, " << r.starts_at_best << " reached the best optimum)\n";
  std::cout << "bootstrap " << r.bootstrap_done << " resamples (seed " << r.seed << ")\n\n";
  std::cout << pad("param", 10) << pad("value", 13) << pad("SE", 12) << pad("95% interval", 26) << "identified\n";
  IdentNotes notes;
  auto row = [&](const std::string& name, const fit::Estimate& e) {
    std::cout << pad(name, 10) << pad(fmt(e.value, 5), 13) << pad(fmt(e.se, 3), 12) << pad(fmt_ci(e), 26)
              << notes.cell(name, e) << "\n";
  };
  for (size_t i = 0; i < r.param_names.size(); ++i) row(r.param_names[i], r.params[i]);
  for (const auto& d : r.derived) row(d.name, d.estimate);
  notes.print(std::cout);
  std::cout << "\nquality  R^2(log L) " << fmt(r.quality.r2_log, 5) << ", RMSE(log L) " << fmt(r.quality.rmse_log, 3)
            << ", mean |rel err| " << fmt(r.quality.mean_abs_rel_error, 3) << ", AIC " << fmt(r.quality.aic, 5)
            << ", BIC " << fmt(r.quality.bic, 5) << "\n";
  if (!r.at_compute.empty()) {
    std::cout << "\n" << pad("compute C", 12) << pad("N_opt", 12) << pad("D_opt", 12) << pad("D/N", 8)
              << pad("loss", 9) << pad("loss 95% interval", 22) << "identified (N_opt)\n";
    IdentNotes at_notes;
    for (const auto& c : r.at_compute) {
      // N_opt's verdict where the law gives one, else the loss's.
      const fit::Estimate& judged = std::isfinite(c.n_opt.value) ? c.n_opt : c.loss;
      std::cout << pad(fmt(c.compute, 3), 12) << pad(fmt(c.n_opt.value, 3), 12) << pad(fmt(c.d_opt.value, 3), 12)
                << pad(fmt(c.tokens_per_param.value, 3), 8) << pad(fmt(c.loss.value, 4), 9) << pad(fmt_ci(c.loss), 22)
                << at_notes.cell((std::isfinite(c.n_opt.value) ? "N_opt at C = " : "loss at C = ") + fmt(c.compute, 3), judged)
                << "\n";
    }
    at_notes.print(std::cout);
  }
  if (!r.at_points.empty()) {
    bool with_u = false;
    for (const auto& p : r.at_points) with_u |= p.u > 0;
    std::cout << "\n" << pad("N", 12) << pad("D", 12) << (with_u ? pad("U", 12) : "") << pad("loss", 9)
              << pad("95% interval", 22) << "identified\n";
    IdentNotes point_notes;
    for (const auto& p : r.at_points)
      std::cout << pad(fmt(p.n, 3), 12) << pad(fmt(p.d, 3), 12) << (with_u ? pad(fmt(p.u, 3), 12) : "")
                << pad(fmt(p.loss.value, 4), 9) << pad(fmt_ci(p.loss), 22)
                << point_notes.cell("loss at N = " + fmt(p.n, 3) + ", D = " + fmt(p.d, 3), p.loss) << "\n";
    point_notes.print(std::cout);
  }
  if (r.holdout) {
    const bool by_x = r.holdout->by == "x";
    std::cout << "\nholdout  refit without the " << r.holdout->k << (by_x ? " largest-x runs (" : " largest-compute runs (")
              << r.holdout->train_points << " left):\n";
    std::cout << pad("line", 6) << pad(by_x ? "x" : "C", 11) << pad("actual", 9) << pad("predicted", 11)
              << pad("rel err", 9) << pad("95% CI (law)", 22) << "95% PI (one run)\n";
    for (const auto& h : r.holdout->rows)
      std::cout << pad(std::to_string(h.line), 6) << pad(fmt(by_x ? h.x : h.c, 3), 11) << pad(fmt(h.actual, 4), 9)
                << pad(fmt(h.predicted.value, 4), 11) << pad(fmt(100 * h.rel_error, 2) + "%", 9)
                << pad(fmt_ci(h.predicted), 22) << "[" << fmt(h.pi95.lo) << ", " << fmt(h.pi95.hi) << "]"
                << (h.inside_pi95 ? "" : "  (outside)") << "\n";
    std::cout << "mean |rel err| " << fmt(100 * r.holdout->mean_abs_rel_error, 3) << "%\n";
  }
  for (const auto& w : r.warnings) std::cout << "warning: " << w << "\n";
  std::cout << "time     " << fmt(r.wall_s, 3) << " s\n";
}

// Which data-constrained procedure ran, and the two stages' runs and fit quality.
void print_procedure(const fit::DataConstrainedFit& f) {
  std::cout << "procedure " << fit::procedure_name(f.procedure) << " (" << f.reason << ")\n";
  if (f.stage1)
    std::cout << "  stage 1  chinchilla base law on the " << f.stage1->runs << " single-epoch runs: objective "
              << fmt(f.stage1->objective, 6) << ", R^2(log L) " << fmt(f.stage1->quality.r2_log, 5)
              << ", RMSE(log L) " << fmt(f.stage1->quality.rmse_log, 3) << ", " << f.stage1->starts << " starts ("
              << f.stage1->starts_at_best << " reached the best)\n";
  if (f.stage2) {
    std::string names;
    for (const auto& n : f.stage2->free) names += (names.empty() ? "" : ", ") + n;
    std::cout << "  stage 2  " << names << " on all " << f.stage2->runs << " runs with the base held\n";
    for (size_t i = 0; i < f.stage2->free.size(); ++i)
      std::cout << "           " << pad(f.stage2->free[i], 10) << "95% interval " << fmt_ci(f.stage2->estimates[i])
                << " with stage-1 uncertainty, " << fmt_ci(f.stage2->base_fixed[i]) << " with the base held at its optimum\n";
    std::cout << "  bootstrap: each resample refits stage 1 on resampled single-epoch runs, then stage 2\n";
  }
  std::cout << "  " << f.runs_above_n_opt << " runs have N above N_opt(U)"
            << (f.r_n_star_determined ? "" : ": R_N_star has no effect on these runs and is not determined") << "\n\n";
}

void print_scaling(const fit::OptimalScaling& s, const std::string& title, const std::string& interval = "95% interval",
                   const fit::Estimate* a_plus_b = nullptr) {
  std::cout << title << "\n\n" << pad("", 8) << pad("value", 12) << pad("SE (boot)", 12) << pad("SE (OLS)", 12)
            << pad(interval, 26) << "identified\n";
  IdentNotes notes;
  auto row = [&](const std::string& name, const fit::Estimate& e) {
    std::cout << pad(name, 8) << pad(fmt(e.value, 4), 12) << pad(fmt(e.se, 3), 12) << pad(fmt(e.se_analytic, 3), 12)
              << pad(fmt_ci(e), 26) << notes.cell(name, e) << "\n";
  };
  row("a", s.a);
  row("b", s.b);
  if (a_plus_b) row("a + b", *a_plus_b);
  row("k_N", s.k_n);
  row("k_D", s.k_d);
  notes.print(std::cout);
  std::cout << "(N_opt = k_N C^a, D_opt = k_D C^b; bootstrap " << s.bootstrap_used << "/" << s.bootstrap_requested
            << " resamples)\n";
  for (const auto& p : s.predictions)
    std::cout << "at C = " << fmt(p.c, 3) << ": N_opt " << fmt(p.n_opt.value, 3) << " " << fmt_ci(p.n_opt) << ", D_opt "
              << fmt(p.d_opt.value, 3) << " " << fmt_ci(p.d_opt) << "\n";
}

// The library names option fields (IsoflopOptions::c_tolerance, Run::budget); the user knows flags.
std::string isoflop_flags(std::string msg) {
  static const std::vector<std::pair<std::string, std::string>> names{
      {"IsoflopOptions::c_tolerance", "--c-tolerance"},
      {"IsoflopOptions::edge_vertices = keep", "--edge-vertices keep"},
      {"IsoflopOptions::edge_vertices", "--edge-vertices"},
      {"IsoflopOptions::bootstrap_scheme", "--isoflop-bootstrap"},
      {"IsoflopOptions::bootstrap", "--bootstrap"},
      {"IsoflopOptions::d_from_runs = false", "a table without a D column"},
      {"IsoflopOptions::budget_ids", "--col-budget"},
      {"Run::budget", "--col-budget"},
      {"Run::d", "--col-d"}};
  for (const auto& [field, flag] : names)
    for (size_t at = msg.find(field); at != std::string::npos; at = msg.find(field, at + flag.size()))
      msg.replace(at, field.size(), flag);
  return msg;
}

// Approach 2 (IsoFLOP parabolas) on final losses grouped by compute budget.
nlohmann::json run_isoflop(const FitArgs& a, const fit::Dataset& data) {
  if (!data.has_n || !data.has_c) throw UsageError(data.source + ": approach 2 needs N and C (or N and D) for every run");
  if (data.budget_error) throw *data.budget_error;
  fit::IsoflopOptions o;
  o.c_tolerance = a.c_tolerance;
  o.bootstrap = a.options.bootstrap;
  o.seed = a.options.seed;
  o.threads = a.options.threads;
  o.predict_at = a.options.at_compute;
  // A D derived as C/(6N) would only mirror the ln N parabola: fall back to D_opt = C/(6 N_opt).
  o.d_from_runs = data.derived != 'D';
  o.edge_vertices = a.edge_vertices == "keep" ? fit::EdgeVertices::kKeep : fit::EdgeVertices::kDrop;
  o.bootstrap_scheme = a.isoflop_bootstrap == "budgets"       ? fit::IsoflopBootstrap::kBudgets
                       : a.isoflop_bootstrap == "subsample80" ? fit::IsoflopBootstrap::kSubsample80
                                                              : fit::IsoflopBootstrap::kPoints;
  // Hoffmann et al. 2022 (Table 2) draw 100 subsamples; --bootstrap overrides.
  if (o.bootstrap_scheme == fit::IsoflopBootstrap::kSubsample80 && !a.bootstrap_given) o.bootstrap = 100;
  fit::IsoflopResult r;
  try {
    r = fit::fit_isoflop(data.runs, o);
  } catch (const std::invalid_argument& e) {
    throw UsageError(data.source + ": " + isoflop_flags(e.what()));
  }
  for (auto& w : r.warnings) w = isoflop_flags(w);
  nlohmann::json j = fit::to_json(r);
  const char* c_from = data.derived == 'C' ? "6ND" : "column";
  j["grouping"]["C_from"] = c_from;
  if (a.json_out != "-" && !a.quiet) {
    std::cout << "approach 2 (IsoFLOP profiles, Hoffmann et al. 2022 sec. 3.2): " << data.source << ", "
              << r.points_used << " runs in " << r.budgets_used << " of " << r.budgets.size() << " budgets\n";
    if (r.grouping == "compute_tolerance")
      std::cout << "budgets  " << r.budgets.size() << " groups formed from " << (data.derived == 'C' ? "C = 6ND" : "C")
                << " within --c-tolerance " << fmt(r.c_tolerance, 3) << " (" << r.small_groups
                << " with fewer than 3 runs); a nominal budget column (--col-budget) groups exactly\n";
    else
      std::cout << "budgets  " << r.budgets.size() << " from the budget column\n";
    std::cout << "D_opt    " << (r.d_from_runs ? "vertex of each budget's own parabola in ln D"
                                               : "C/(6 N_opt): no D column, so b = 1 - a by construction")
              << "; vertices outside the sampled range: " << (r.edge_vertices == fit::EdgeVertices::kKeep ? "kept (flagged)" : "dropped")
              << " (--edge-vertices)\n\n"
              << pad("budget C", 11) << pad("runs", 6) << pad("N_opt", 11) << pad("D_opt", 11) << pad("L_opt", 9)
              << "used\n";
    for (const auto& b : r.budgets)
      std::cout << pad(fmt(b.c, 3), 11) << pad(std::to_string(b.members.size()), 6) << pad(fmt(b.n_opt, 3), 11)
                << pad(fmt(b.d_opt, 3), 11) << pad(fmt(b.l_opt, 4), 9)
                << (b.used() ? (b.extrapolated ? "yes, " + b.reason : std::string("yes")) : "skipped: " + b.reason)
                << "\n";
    const bool p80 = r.interval_coverage == 0.8;
    print_scaling(r.scaling, "", p80 ? "80% interval (p10-p90)" : "95% interval", &r.a_plus_b);
    std::cout << "bootstrap scheme " << fit::to_string(r.bootstrap_scheme) << " (--isoflop-bootstrap)\n";
    for (const auto& w : r.warnings) std::cout << "warning: " << w << "\n";
  }
  return j;
}

// The training curves of approach 1: a store's own, or read from a table of curve points.
std::vector<fit::TrainingCurve> table_curves(const FitArgs& a, const io::Table& table) {
  const bool by_tokens = !a.col_tokens.empty() || !table.find("C").has_value() || table.find("tokens").has_value();
  std::string x_col = !a.col_tokens.empty() ? a.col_tokens : (by_tokens ? "tokens" : "C");
  if (!a.columns.c.empty()) x_col = a.columns.c;
  auto axis = (!a.columns.c.empty() || !by_tokens) ? fit::CurveAxis::kCompute : fit::CurveAxis::kTokens;
  return fit::load_curves(table, a.col_run, a.columns.n.empty() ? "N" : a.columns.n, x_col,
                          a.columns.loss.empty() ? "loss" : a.columns.loss, axis);
}

// Approach 1 (lower envelope of training curves).
nlohmann::json run_envelope(const FitArgs& a, const std::vector<fit::TrainingCurve>& curves, const std::string& source) {
  fit::EnvelopeOptions o;
  o.bootstrap = a.options.bootstrap;
  o.seed = a.options.seed;
  o.threads = a.options.threads;
  o.predict_at = a.options.at_compute;
  fit::EnvelopeResult r = fit::fit_envelope(curves, o);
  if (a.json_out != "-" && !a.quiet) {
    std::cout << "approach 1 (training-curve envelope, Hoffmann et al. 2022 sec. 3.1): " << source << ", "
              << r.runs << " runs, " << r.points_used << " of " << r.num_compute << " log-spaced compute values used, "
              << r.runs_on_frontier << " runs on the frontier\n";
    print_scaling(r.scaling, "");
    for (const auto& w : r.warnings) std::cout << "warning: " << w << "\n";
  }
  return fit::to_json(r);
}

fit::DataConstrainedProcedure procedure_of(const std::string& flag) {
  return flag == "joint"       ? fit::DataConstrainedProcedure::kJoint
         : flag == "two-stage" ? fit::DataConstrainedProcedure::kTwoStage
                               : fit::DataConstrainedProcedure::kAuto;
}

// Several laws on the same runs, ranked by AIC (fit::compare_laws).
void run_compare(const FitArgs& a, const fit::Dataset& data) {
  fit::CompareOptions co;
  co.laws = a.compare;
  co.irreducible = a.irreducible;
  co.fixed = parse_fixes(a.fix);
  co.fit = a.options;
  co.procedure = procedure_of(a.procedure);
  fit::LawComparison cmp;
  try {
    cmp = fit::compare_laws(data, co);
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    throw UsageError(what.starts_with("laws: ") ? "--compare: " + what.substr(6) : what);
  }
  if (!a.quiet)
    for (const auto& [name, why] : cmp.skipped) std::cout << "skipped " << name << ": " << why << "\n";
  if (a.json_out != "-" && !a.quiet) {
    std::cout << "\n" << pad("law", 12) << pad("params", 8) << pad("R^2(log)", 10) << pad("RMSE(log)", 11)
              << pad("AIC", 10) << pad("dAIC", 8) << pad("BIC", 10) << "holdout |rel err|\n";
    for (const auto& l : cmp.laws) {
      const auto& r = l.fit;
      std::cout << pad(l.name, 12) << pad(std::to_string(r.quality.parameters), 8) << pad(fmt(r.quality.r2_log, 5), 10)
                << pad(fmt(r.quality.rmse_log, 3), 11) << pad(fmt(r.quality.aic, 5), 10) << pad(fmt(l.delta_aic, 3), 8)
                << pad(fmt(r.quality.bic, 5), 10)
                << (r.holdout ? fmt(100 * r.holdout->mean_abs_rel_error, 3) + "%" : std::string("-")) << "\n";
    }
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& l : cmp.laws) out.push_back(l.data_constrained ? fit::to_json(*l.data_constrained) : fit::to_json(l.fit));
  if (!a.json_out.empty()) io::write_file_atomic(a.json_out, nlohmann::json{{"comparison", out}}.dump(2) + "\n");
}

void run_fit(FitArgs& a) {
  if (a.min_n > 0) a.filters.min_n = a.min_n;
  if (a.max_n > 0) a.filters.max_n = a.max_n;
  if (a.min_c > 0) a.filters.min_c = a.min_c;
  if (a.max_c > 0) a.filters.max_c = a.max_c;
  // A run store (SQLite) gives its finished runs as the table runs.csv holds (so `fit STORE.db`
  // and `fit runs.csv` fit the same numbers) and its training curves for approach 1.
  std::optional<analysis::StoreRuns> store;
  io::Table table;
  if (analysis::is_store_path(a.data)) {
    if (a.format != "auto") throw UsageError("--format applies to tables; " + a.data + " is a run store");
    try {
      store = analysis::load_store_runs(a.data, a.sweep);
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      throw UsageError(what.starts_with("sweep: ") ? "--" + what : what);
    }
    table = analysis::runs_table(*store, a.data + " (sweep " + store->sweep.name + ")");
  } else {
    if (!a.sweep.empty()) throw UsageError("--sweep applies to a run store (SQLite .db); " + a.data + " is a table");
    table = io::read_table(a.data, parse_format(a.format));
  }
  a.options.at_compute = a.at_compute;
  if (a.approach == 1 || a.approach == 2) {
    nlohmann::json j;
    try {
      if (a.approach == 2) {
        j = run_isoflop(a, fit::load_runs(table, a.columns, a.filters));
      } else if (store) {
        std::vector<fit::TrainingCurve> usable;  // as the sweep analysis does: a curve needs 2 points
        for (const auto& c : store->curves)
          if (c.points.size() >= 2) usable.push_back(c);
        j = run_envelope(a, usable, table.source);
      } else {
        j = run_envelope(a, table_curves(a, table), table.source);
      }
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    if (!a.json_out.empty()) io::write_file_atomic(a.json_out, j.dump(2) + "\n");
    return;
  }
  fit::Dataset data = fit::load_runs(table, a.columns, a.filters);
  const bool dc_fitted = a.compare.empty() ? a.law == "data-constrained"
                                           : std::find(a.compare.begin(), a.compare.end(), "data-constrained") != a.compare.end();
  if (!a.procedure.empty() && !dc_fitted)
    throw UsageError("--procedure applies to the data-constrained law only (give --law data-constrained)");
  if (!a.compare.empty()) {
    a.options.bootstrap = std::min(a.options.bootstrap, 200);  // ranking needs no fine intervals
    a.options.progress = false;
    run_compare(a, data);
    return;
  }
  std::unique_ptr<fit::Law> law;
  try {
    law = fit::make_law(a.law, {a.irreducible, parse_fixes(a.fix)});
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  a.options.method = a.method == "varpro" ? fit::Method::kVarPro : fit::Method::kLbfgs;
  if (a.at_compute.empty() && a.law == "chinchilla" && data.has_c) {
    double cmax = 0;
    for (const auto& r : data.runs) cmax = std::max(cmax, r.c);
    a.options.at_compute = {10 * cmax};  // a modest default extrapolation
  }
  for (const auto& p : a.at_points) a.options.at_points.push_back(parse_point(p));
  a.options.progress = !a.quiet && a.json_out != "-";
  util::install_interrupt_handler();
  fit::FittedLaw report;
  std::optional<fit::DataConstrainedFit> dc;  // the data-constrained law: by its procedure (fit/two_stage.h)
  try {
    if (a.law == "data-constrained") {
      dc = fit::fit_data_constrained(data, a.options, {procedure_of(a.procedure), parse_fixes(a.fix)});
      report = dc->report;
    } else {
      report = fit::fit(*law, data, a.options);
    }
  } catch (const std::invalid_argument& e) {
    // Library errors name the option field first ("procedure: ..."); say the flag instead.
    std::string m = e.what();
    for (const auto& [field, flag] : {std::pair<std::string, std::string>{"procedure:", "--procedure:"},
                                      {"holdout_top_compute:", "--holdout-top-compute:"},
                                      {"holdout_top_x:", "--holdout-top-x:"}})
      if (m.rfind(field, 0) == 0) m = flag + m.substr(field.size());
    throw UsageError(m);
  }
  if (!a.json_out.empty())
    io::write_file_atomic(a.json_out, (dc ? fit::to_json(*dc) : fit::to_json(report)).dump(2) + "\n");
  if (a.json_out != "-" && !a.quiet) {
    if (dc) print_procedure(*dc);
    print_report(report);
  }
  if (util::interrupted()) exit_code_ref() = 130;
}

void add_column_options(CLI::App* cmd, fit::ColumnSpec& c) {
  cmd->add_option("--col-n", c.n, "column with parameters N (default: N, params, ...)");
  cmd->add_option("--col-d", c.d, "column with training tokens D (default: D, tokens, ...)");
  cmd->add_option("--col-c", c.c, "column with training compute C in FLOPs (default: C, flops, ...)");
  cmd->add_option("--col-loss", c.loss, "column with the final loss (default: loss, final_loss, ...)");
  cmd->add_option("--col-x", c.x,
                  "column used as x by the power, inference and broken laws (default: samples, test_compute, "
                  "thinking_tokens)");
  cmd->add_option("--col-u", c.u, "column with unique tokens U <= D for data-constrained (default: U, unique_tokens, unique)");
  cmd->add_option("--col-epochs", c.epochs, "column with epochs D/U, instead of --col-u (default: epochs)");
}

}  // namespace

void register_fit(CLI::App& app) {
  auto a = std::make_shared<FitArgs>();
  CLI::App* cmd = app.add_subcommand("fit", "Fit a scaling law to a table of runs (CSV/TSV/JSONL)");
  cmd->add_option("data", a->data,
                  "table of runs (one row per run with N, D and/or C, loss), or a sweep's run store (STORE.db): its "
                  "finished runs")
      ->required();
  cmd->add_option("--sweep", a->sweep, "the sweep to fit when the run store holds several");
  cmd->add_option("--approach", a->approach,
                  "Chinchilla approach: 3 parametric law (default), 2 IsoFLOP parabolas, 1 training-curve envelope")
      ->check(CLI::IsMember({1, 2, 3}));
  cmd->add_option("--col-run", a->col_run, "approach 1: column identifying the run of each curve point")
      ->capture_default_str();
  cmd->add_option("--col-tokens", a->col_tokens, "approach 1: column with tokens seen at each curve point");
  cmd->add_option("--c-tolerance", a->c_tolerance,
                  "approach 2 without a budget column: runs within this relative compute share a budget")
      ->capture_default_str();
  cmd->add_option("--col-budget", a->columns.budget,
                  "approach 2: column with each run's nominal compute budget (default: budget, flops_budget, "
                  "compute_budget, isoflop; any case)");
  cmd->add_option("--edge-vertices", a->edge_vertices,
                  "approach 2: a budget whose parabola vertex lies outside its sampled N or D range is dropped "
                  "(default) or kept and flagged")
      ->check(CLI::IsMember({"drop", "keep"}))
      ->capture_default_str();
  cmd->add_option("--isoflop-bootstrap", a->isoflop_bootstrap,
                  "approach 2 intervals: points (resample runs within budgets, default) | budgets (resample the "
                  "vertices) | subsample80 (Hoffmann Table 2: 80% of runs, 100 times, p10-p90)")
      ->check(CLI::IsMember({"points", "budgets", "subsample80"}))
      ->capture_default_str();
  cmd->add_option("--law", a->law,
                  "chinchilla | kaplan-n | kaplan-d | kaplan-c | kaplan-nd | power | data-constrained | inference | "
                  "broken | broken-2 (docs/LAWS.md)")
      ->check(CLI::IsMember(fit::law_names()));
  cmd->add_option("--compare", a->compare, "fit these laws to the same runs and rank them (AIC, BIC, holdout)")
      ->delimiter(',')
      ->check(CLI::IsMember(fit::law_names()));
  cmd->add_option("--method", a->method, "lbfgs (multi-start, all parameters) | varpro (NNLS for E, A, B)")
      ->check(CLI::IsMember({"lbfgs", "varpro"}));
  cmd->add_flag("--irreducible", a->irreducible, "add an irreducible loss E to the kaplan-n/d/c laws");
  cmd->add_option("--fix", a->fix, "hold a parameter at a value instead of fitting it, NAME=VALUE (repeatable), "
                                   "e.g. --fix R_N_star=5.309")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--procedure", a->procedure,
                  "data-constrained: two-stage (Muennighoff et al.: base law from single-epoch runs, then R_D_star, "
                  "R_N_star) | joint (all 7 at once) | auto (two-stage when the table has both kinds of run)")
      ->check(CLI::IsMember({"auto", "two-stage", "joint"}));
  cmd->add_option("--format", a->format, "input format: auto (by extension) | csv | tsv | jsonl")
      ->check(CLI::IsMember({"auto", "csv", "tsv", "jsonl"}));
  add_column_options(cmd, a->columns);
  cmd->add_option("--exclude-top-loss", a->filters.exclude_top_loss, "drop the K highest-loss runs")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--min-n", a->min_n, "keep runs with N >= this");
  cmd->add_option("--max-n", a->max_n, "keep runs with N <= this");
  cmd->add_option("--min-c", a->min_c, "keep runs with C >= this");
  cmd->add_option("--max-c", a->max_c, "keep runs with C <= this");
  cmd->add_option("--delta", a->options.huber_delta, "Huber delta on log loss (default 1e-3)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--bootstrap", a->options.bootstrap, "bootstrap resamples for SE and 95% intervals (0: none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", a->options.seed, "seed of the bootstrap");
  cmd->add_option("--threads", a->options.threads, "threads (default: all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--holdout-top-compute", a->options.holdout_top_compute,
                  "refit without the K largest-compute runs and report their prediction error")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--holdout-top-x", a->options.holdout_top_x,
                  "refit without the K runs of largest x and report their prediction error (laws of x)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--at-compute", a->at_compute, "compute budgets (FLOPs) for N_opt, D_opt and loss")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--at", a->at_points, "predict the loss at N,D or N,D,U (repeatable)");
  cmd->add_option("--json", a->json_out, "write the result as JSON to FILE ('-' for stdout)");
  cmd->add_flag("-q,--quiet", a->quiet, "no table, no progress");
  cmd->callback([a, cmd] {
    a->bootstrap_given = cmd->count("--bootstrap") > 0;
    run_fit(*a);
  });
}

}  // namespace scalinglab::cli
