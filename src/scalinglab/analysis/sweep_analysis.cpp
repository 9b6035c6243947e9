#include "scalinglab/analysis/sweep_analysis.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "scalinglab/analysis/store_runs.h"
#include "scalinglab/fit/fit_json.h"
#include "scalinglab/fit/frontier.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/sweep/sweep_spec.h"

namespace scalinglab::analysis {
namespace {

// The loss of the compute-optimal frontier at a few dozen log-spaced budgets: Kaplan's L(C) is
// fitted to the envelope (approach 1), thinned because neighbouring envelope points are nearly
// copies of one another and would weigh the fit like independent runs.
fit::Dataset frontier_dataset(const fit::EnvelopeResult& env, size_t max_points, const std::string& source) {
  fit::Dataset d;
  d.source = source + " (approach-1 frontier)";
  d.has_c = true;
  std::vector<const fit::FrontierPoint*> used;
  for (const auto& p : env.frontier)
    if (p.used) used.push_back(&p);
  const size_t step = std::max<size_t>(1, used.size() / max_points);
  for (size_t i = 0; i < used.size(); i += step) d.runs.push_back({0, 0, used[i]->c, 0, used[i]->loss, 0});
  return d;
}

template <typename F>
void attempt(std::vector<std::string>& warnings, const std::string& what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    warnings.push_back(what + " skipped: " + e.what());
  }
}

// An IsoFLOP sweep knows each run's nominal budget (its plan): approach 2 groups by it exactly
// instead of by C = 6ND within a tolerance (whole-step token counts move C off the budget).
// Left at 0 (tolerance grouping) when the spec cannot be re-planned or a run is not in the plan.
void assign_budgets(SweepAnalysis& a) {
  std::map<std::string, double> budget_of;
  try {
    for (const auto& p : sweep::plan(sweep::sweep_from_json(a.sweep.spec)))
      if (p.budget > 0) budget_of[p.key] = p.budget;
  } catch (const std::exception&) {
    return;
  }
  for (const auto& key : a.run_keys)
    if (!budget_of.count(key)) return;
  for (size_t i = 0; i < a.run_keys.size(); ++i) a.final_losses.runs[i].budget = budget_of[a.run_keys[i]];
}

}  // namespace

SweepAnalysis analyze_store(const std::string& path, const AnalysisOptions& o) {
  store::RunStore st = store::RunStore::open(path, {store::OpenMode::kReadOnly});
  StoreRuns runs = load_store_runs(st, path, o.sweep);
  SweepAnalysis a;
  a.store_path = path;
  a.sweep = runs.sweep;
  a.counts = runs.counts;
  a.run_keys = std::move(runs.keys);
  a.final_losses = std::move(runs.final_losses);
  a.curves = std::move(runs.curves);
  assign_budgets(a);
  for (const auto& r : a.final_losses.runs) {
    a.c_min = a.c_min == 0 ? r.c : std::min(a.c_min, r.c);
    a.c_max = std::max(a.c_max, r.c);
  }
  if (auto v = st.artifact(a.sweep.id, sweep::kValidationArtifact)) a.validation = sweep::validation_from_json(*v);
  if (a.final_losses.runs.size() < 6) {
    a.warnings.push_back("fewer than 6 finished runs: no law fitted yet");
    return a;
  }
  a.plan_budgets = o.plan_budgets.empty() ? std::vector<double>{10 * a.c_max, 100 * a.c_max, 1000 * a.c_max}
                                          : o.plan_budgets;

  fit::FitOptions fo;
  fo.bootstrap = o.bootstrap;
  fo.threads = o.threads;
  fo.seed = o.seed;
  fo.at_compute = a.plan_budgets;
  attempt(a.warnings, "Chinchilla approach 3", [&] { a.chinchilla = fit::fit(*fit::make_law("chinchilla"), a.final_losses, fo); });
  attempt(a.warnings, "Kaplan L(N, D)", [&] {
    fit::FitOptions ko = fo;
    ko.at_compute.clear();
    a.kaplan_nd = fit::fit(*fit::make_law("kaplan-nd"), a.final_losses, ko);
  });

  fit::IsoflopOptions io;
  io.bootstrap = o.bootstrap;
  io.threads = o.threads;
  io.seed = o.seed;
  io.predict_at = a.plan_budgets;
  attempt(a.warnings, "IsoFLOP analysis (approach 2)", [&] { a.isoflop = fit::fit_isoflop(a.final_losses.runs, io); });

  fit::EnvelopeOptions eo;
  eo.bootstrap = o.bootstrap;
  eo.threads = o.threads;
  eo.seed = o.seed;
  eo.predict_at = a.plan_budgets;
  std::vector<fit::TrainingCurve> usable;
  for (const auto& c : a.curves)
    if (c.points.size() >= 2) usable.push_back(c);
  attempt(a.warnings, "Training-curve envelope (approach 1)", [&] { a.envelope = fit::fit_envelope(usable, eo); });
  if (a.envelope) {
    attempt(a.warnings, "Kaplan L(C)", [&] {
      fit::FitOptions ko = fo;
      ko.at_compute.clear();
      a.kaplan_c = fit::fit(*fit::make_law("kaplan-c"), frontier_dataset(*a.envelope, 40, path), ko);
    });
  }
  std::vector<fit::ExponentAgreement::Entry> on_a;
  if (a.envelope) on_a.push_back({"approach1", a.envelope->scaling.a});
  if (a.isoflop) on_a.push_back({"approach2", a.isoflop->scaling.a});
  if (a.chinchilla && !a.chinchilla->derived.empty()) on_a.push_back({"approach3", a.chinchilla->derived[0].estimate});
  a.agreement = fit::agreement_on_a(on_a);
  return a;
}

namespace {

// Non-finite and unbounded numbers (fit::is_unbounded) as null; the identification_reason says why.
nlohmann::json number(double v) { return std::isfinite(v) && !fit::is_unbounded(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
nlohmann::json interval(const fit::Estimate& e) { return {number(e.lo), number(e.hi)}; }

// {value, ci95, identified, identification_reason[, identification_remedy]}
nlohmann::json estimate(const fit::Estimate& e) {
  nlohmann::json j = {{"value", number(e.value)},
                      {"ci95", interval(e)},
                      {"identified", fit::to_string(e.ident.verdict)},
                      {"identification_reason", e.ident.reason}};
  if (!e.ident.remedy.empty()) j["identification_remedy"] = e.ident.remedy;
  return j;
}

nlohmann::json law_summary(const fit::FittedLaw& r) {
  nlohmann::json params = nlohmann::json::object();
  for (size_t i = 0; i < r.param_names.size(); ++i) params[r.param_names[i]] = estimate(r.params[i]);
  nlohmann::json j = {{"law", r.law},
                      {"formula", r.formula},
                      {"params", params},
                      {"points", r.points},
                      {"r2_log", r.quality.r2_log},
                      {"rmse_log", r.quality.rmse_log},
                      {"aic", r.quality.aic},
                      {"bootstrap", r.bootstrap_done}};
  for (const auto& d : r.derived) j["derived"][d.name] = estimate(d.estimate);
  return j;
}

nlohmann::json scaling_summary(const fit::OptimalScaling& s) {
  return {{"a", estimate(s.a)},
          {"b", estimate(s.b)},
          {"k_N", number(s.k_n.value)},
          {"k_D", number(s.k_d.value)},
          {"k_N_identified", fit::to_string(s.k_n.ident.verdict)},
          {"k_D_identified", fit::to_string(s.k_d.ident.verdict)}};
}

}  // namespace

nlohmann::json summary_json(const SweepAnalysis& a) {
  nlohmann::json j;
  j["schema"] = "scalinglab.summary/1";
  j["store"] = a.store_path;
  j["sweep"] = a.sweep.name;
  j["runs"] = {{"planned", a.counts.total()},
               {"done", a.counts.done},
               {"diverged", a.counts.diverged},
               {"failed", a.counts.failed},
               {"unfinished", a.counts.queued + a.counts.running},
               {"fitted", a.final_losses.runs.size()}};
  double n_lo = 0, n_hi = 0;
  for (const auto& r : a.final_losses.runs) {
    n_lo = n_lo == 0 ? r.n : std::min(n_lo, r.n);
    n_hi = std::max(n_hi, r.n);
  }
  j["compute_range"] = {{"min", a.c_min},
                        {"max", a.c_max},
                        {"orders_of_magnitude", a.c_min > 0 ? std::log10(a.c_max / a.c_min) : 0.0}};
  j["params_range"] = {{"min", n_lo}, {"max", n_hi}};
  nlohmann::json fits = nlohmann::json::object();
  if (a.chinchilla) fits["approach3"] = law_summary(*a.chinchilla);
  if (a.isoflop) fits["approach2"] = scaling_summary(a.isoflop->scaling);
  if (a.envelope) fits["approach1"] = scaling_summary(a.envelope->scaling);
  if (a.kaplan_nd) fits["kaplan_nd"] = law_summary(*a.kaplan_nd);
  if (a.kaplan_c) fits["kaplan_c"] = law_summary(*a.kaplan_c);
  j["fits"] = fits;
  nlohmann::json frontier = nlohmann::json::array();
  if (a.chinchilla)
    for (const auto& c : a.chinchilla->at_compute)
      frontier.push_back({{"C", c.compute},
                          {"N_opt", estimate(c.n_opt)},
                          {"D_opt", estimate(c.d_opt)},
                          {"tokens_per_param", estimate(c.tokens_per_param)},
                          {"loss", estimate(c.loss)}});
  j["frontier"] = frontier;
  nlohmann::json on_a = nlohmann::json::array();
  for (const auto& e : a.agreement.entries) on_a.push_back({{"approach", e.approach}, {"a", estimate(e.a)}});
  j["agreement_on_a"] = {{"verdict", a.agreement.verdict}, {"detail", a.agreement.detail}, {"approaches", on_a}};
  if (a.validation) {
    const auto& v = *a.validation;
    j["heldout"] = {{"key", v.key},
                    {"status", v.status},
                    {"compute", v.compute},
                    {"compute_factor", a.c_max > 0 ? v.compute / a.c_max : NAN},
                    {"N", v.n},
                    {"D", v.d},
                    {"predicted_loss", v.predicted.value},
                    {"headline", v.headline},
                    // The interval a single run is expected in (law uncertainty, run-to-run
                    // scatter and, for a combination, the spread of the laws); ci95_law is the
                    // expected loss alone.
                    {"ci95", {v.pi95.lo, v.pi95.hi}},
                    {"ci95_law", {v.predicted.lo, v.predicted.hi}},
                    {"actual_loss", v.actual},
                    {"rel_error", v.rel_error},
                    {"inside_ci95", v.inside_pi95}};
    // Each law's own prediction of the same run, fitted to the same runs.
    nlohmann::json laws = nlohmann::json::array();
    for (const auto& x : v.by_law)
      laws.push_back({{"law", x.law},
                      {"predicted_loss", x.predicted.value},
                      {"ci95", {x.pi95.lo, x.pi95.hi}},
                      {"ci95_law", {x.predicted.lo, x.predicted.hi}},
                      {"rel_error", x.rel_error}});
    j["heldout"]["by_law"] = laws;
    // How the headline law was chosen: the rollout backtest on the sweep's own runs.
    j["heldout"]["headline_reason"] = v.headline_reason;
    j["heldout"]["backtest"] = v.backtest ? sweep::to_json(*v.backtest) : nlohmann::json(nullptr);
  } else {
    j["heldout"] = nullptr;
  }
  j["warnings"] = a.warnings;
  return j;
}

std::vector<std::string> write_sweep_files(const SweepAnalysis& a, const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path fits = fs::path(dir) / "fits";
  fs::create_directories(fits);
  std::vector<std::string> written;
  auto put = [&](const fs::path& p, const std::string& text) {
    io::write_file_atomic(p.string(), text);
    written.push_back(p.string());
  };
  if (a.chinchilla) put(fits / "chinchilla.json", fit::to_json(*a.chinchilla).dump(2) + "\n");
  if (a.kaplan_nd) put(fits / "kaplan-nd.json", fit::to_json(*a.kaplan_nd).dump(2) + "\n");
  if (a.kaplan_c) put(fits / "kaplan-c.json", fit::to_json(*a.kaplan_c).dump(2) + "\n");
  if (a.envelope) put(fits / "approach1.json", fit::to_json(*a.envelope).dump(2) + "\n");
  if (a.isoflop) put(fits / "approach2.json", fit::to_json(*a.isoflop).dump(2) + "\n");
  put(fs::path(dir) / "runs.csv", runs_csv(a.run_keys, a.final_losses));
  return written;
}

std::vector<std::string> write_sweep_outputs(const SweepAnalysis& a, nlohmann::json& summary, const std::string& dir) {
  namespace fs = std::filesystem;
  const std::vector<std::string> written = write_sweep_files(a, dir);
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : written) files.push_back(fs::relative(f, dir).generic_string());
  summary["files"] = files;
  io::write_file_atomic((fs::path(dir) / "summary.json").string(), summary.dump(2) + "\n");
  return written;
}

}  // namespace scalinglab::analysis
