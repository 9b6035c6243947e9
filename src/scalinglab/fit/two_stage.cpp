#include "scalinglab/fit/two_stage.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "scalinglab/fit/data_constrained.h"
#include "scalinglab/fit/fit_json.h"
#include "scalinglab/fit/identifiability.h"
#include "scalinglab/fit/problem.h"
#include "scalinglab/fit/synthetic.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::fit {
namespace {

using Fixes = std::vector<std::pair<std::string, double>>;

// The base law's public parameters: the data-constrained law's first five, Chinchilla's five.
const std::vector<std::string> kBase = {"E", "A", "B", "alpha", "beta"};
const std::vector<std::string> kDecay = {"R_D_star", "R_N_star"};

bool is_base(const std::string& name) { return std::find(kBase.begin(), kBase.end(), name) != kBase.end(); }

bool fixed_by(const Fixes& f, const std::string& name) {
  return std::any_of(f.begin(), f.end(), [&](const auto& p) { return p.first == name; });
}

Dataset subset(const Dataset& data, const std::vector<size_t>& index, const std::string& what) {
  Dataset s = data;
  s.runs.clear();
  for (size_t i : index) s.runs.push_back(data.runs[i]);
  if (!what.empty()) s.source = data.source + " (" + what + ")";
  return s;
}

double value_of(const FittedLaw& r, const std::string& name) {
  auto it = std::find(r.param_names.begin(), r.param_names.end(), name);
  return it == r.param_names.end() ? NAN : r.params[static_cast<size_t>(it - r.param_names.begin())].value;
}

// Stage 2's law: the data-constrained law with the base held at `base` (stage 1's public values)
// and the user's R_D* / R_N* fixes.
std::unique_ptr<Law> stage2_law(const FittedLaw& base, const Fixes& decay_fixes) {
  Fixes fixed;
  for (const auto& name : kBase) fixed.emplace_back(name, value_of(base, name));
  fixed.insert(fixed.end(), decay_fixes.begin(), decay_fixes.end());
  return make_law("data-constrained", {false, fixed});
}

// A grid over R_D*, R_N* for stage 2 (two parameters: a wide grid is cheap). Muennighoff et al.
// start from linspace(0, 20, 4) in each; we keep the positive part on a log scale, wider on both
// sides because a user's runs need not resemble theirs.
std::vector<std::vector<double>> stage2_starts(const Law& law, const FittedLaw& base) {
  std::vector<std::vector<double>> out;
  for (double rd : {1.0, 3.0, 10.0, 30.0, 100.0})
    for (double rn : {1.0, 3.0, 10.0, 30.0, 100.0}) {
      std::vector<double> pub;
      for (const auto& name : kBase) pub.push_back(value_of(base, name));
      pub.push_back(rd);
      pub.push_back(rn);
      auto t = law.to_internal(pub);
      if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(std::move(t));
    }
  return out;
}

std::vector<double> public_values(const FittedLaw& r) {
  std::vector<double> v;
  for (const auto& e : r.params) v.push_back(e.value);
  return v;
}

int runs_above_n_opt(const Dataset& data, const std::vector<double>& pub) {
  DataConstrained law;
  const auto theta = law.to_internal(pub);
  int above = 0;
  for (const Run& r : data.runs)
    if (r.u > 0 && std::log(r.n) > DataConstrained::log_n_opt(theta.data(), std::log(r.u))) ++above;
  return above;
}

StageReport stage_summary(const FittedLaw& stage, int runs, const std::vector<std::string>& names, const Fixes& fixes,
                          const FittedLaw& final_report) {
  StageReport s;
  s.runs = runs;
  for (const auto& name : names) {
    if (fixed_by(fixes, name)) continue;
    s.free.push_back(name);
    auto it = std::find(final_report.param_names.begin(), final_report.param_names.end(), name);
    s.estimates.push_back(final_report.params[static_cast<size_t>(it - final_report.param_names.begin())]);
  }
  s.objective = stage.objective;
  s.quality = stage.quality;
  s.starts = stage.starts;
  s.converged_starts = stage.converged_starts;
  s.starts_at_best = stage.starts_at_best;
  s.status = stage.status;
  return s;
}

// Holdout for the two-stage procedure: refit the same procedure without the K largest-compute
// runs and predict them (the joint procedure's holdout is fit::fit's own).
Holdout two_stage_holdout(const Dataset& data, const FitOptions& options, const DataConstrainedOptions& dc) {
  if (!data.has_c) throw std::invalid_argument("holdout_top_compute: needs compute (C, or N and D) for every run");
  Dataset train = data;
  std::stable_sort(train.runs.begin(), train.runs.end(), [](const Run& a, const Run& b) { return a.c > b.c; });
  const size_t hk = static_cast<size_t>(options.holdout_top_compute);
  if (train.runs.size() <= hk)
    throw std::invalid_argument("holdout_top_compute: " + std::to_string(hk) + " leaves no run to fit");
  std::vector<Run> held(train.runs.begin(), train.runs.begin() + static_cast<long>(hk));
  train.runs.erase(train.runs.begin(), train.runs.begin() + static_cast<long>(hk));
  FitOptions ho = options;
  ho.holdout_top_compute = 0;
  ho.at_compute.clear();
  ho.at_points = held;
  ho.progress = false;
  return score_holdout(held, fit_data_constrained(train, ho, dc).report, false);
}

// Distinct values (to 1e-6 relative) of N or D among the runs `index`.
int distinct(const Dataset& data, const std::vector<size_t>& index, bool tokens) {
  std::vector<double> v;
  for (size_t i : index) v.push_back(tokens ? data.runs[i].d : data.runs[i].n);
  std::sort(v.begin(), v.end());
  int k = v.empty() ? 0 : 1;
  for (size_t i = 1; i < v.size(); ++i) k += v[i] > v[i - 1] * (1 + 1e-6);
  return k;
}

}  // namespace

const char* procedure_name(DataConstrainedProcedure p) {
  switch (p) {
    case DataConstrainedProcedure::kJoint: return "joint";
    case DataConstrainedProcedure::kTwoStage: return "two-stage";
    default: return "auto";
  }
}

bool is_single_epoch(const Run& run) {
  // U from an epochs column is D/epochs: allow its rounding.
  return run.u > 0 && run.d <= run.u * (1 + 1e-9);
}

DataConstrainedFit fit_data_constrained(const Dataset& data, const FitOptions& options,
                                        const DataConstrainedOptions& dc) {
  const auto t0 = std::chrono::steady_clock::now();
  DataConstrainedFit out;
  std::vector<size_t> single_idx, multi_idx;
  for (size_t i = 0; i < data.runs.size(); ++i) (is_single_epoch(data.runs[i]) ? single_idx : multi_idx).push_back(i);
  out.single_epoch_runs = static_cast<int>(single_idx.size());
  out.multi_epoch_runs = static_cast<int>(multi_idx.size());
  Fixes base_fixes, decay_fixes;
  for (const auto& f : dc.fixed) (is_base(f.first) ? base_fixes : decay_fixes).push_back(f);
  const size_t base_free = kBase.size() - base_fixes.size();
  const bool enough_single = single_idx.size() > base_free;
  // E + A/N^α + B/D^β needs three distinct N (E, A, α along N) and three distinct D (B, β and the
  // level they share with E): with two D values E and B/D^β trade freely. Necessary, not sufficient.
  const int distinct_n = distinct(data, single_idx, false), distinct_d = distinct(data, single_idx, true);
  const bool spans = distinct_n >= 3 && distinct_d >= 3;
  const std::string spread = "the single-epoch runs have " + std::to_string(distinct_n) + " distinct N and " +
                             std::to_string(distinct_d) + " distinct D values; the base law needs at least 3 of each";
  const std::string counts = std::to_string(single_idx.size()) + " single-epoch (D <= U) and " +
                             std::to_string(multi_idx.size()) + " multi-epoch runs";

  // 1. Which procedure.
  out.chosen_by_default = dc.procedure == DataConstrainedProcedure::kAuto;
  if (dc.procedure == DataConstrainedProcedure::kTwoStage) {
    if (!enough_single && data.has_u)
      throw std::invalid_argument("procedure: two-stage needs more single-epoch runs (D <= U) than the base law's " +
                                  std::to_string(base_free) + " free parameters for stage 1; " + data.source +
                                  " has " + std::to_string(single_idx.size()) + " (joint fits all runs at once)");
    out.procedure = DataConstrainedProcedure::kTwoStage;
    out.reason = "asked for; the table holds " + counts;
  } else if (dc.procedure == DataConstrainedProcedure::kJoint) {
    out.procedure = DataConstrainedProcedure::kJoint;
    out.reason = "asked for; the table holds " + counts;
  } else if (data.has_u && enough_single && spans && !multi_idx.empty()) {
    out.procedure = DataConstrainedProcedure::kTwoStage;
    out.reason = "default: the table holds " + counts + " (Muennighoff et al. 2023 fit the base law first)";
  } else {
    out.procedure = DataConstrainedProcedure::kJoint;
    out.reason = "default: the table holds " + counts +
                 (multi_idx.empty()        ? " (no run repeats data, so there is no second stage)"
                  : single_idx.empty()     ? " (no single-epoch run to fit the base law on)"
                  : !enough_single         ? " (too few single-epoch runs for the base law's " +
                                                 std::to_string(base_free) + " parameters)"
                                           : " (" + spread + ")");
  }

  // Without unique tokens neither procedure can run: fit::fit's error (naming how to give U) is the
  // one to show, so such data goes the joint way.
  if (!data.has_u) out.procedure = DataConstrainedProcedure::kJoint;
  if (out.procedure == DataConstrainedProcedure::kJoint) {
    auto law = make_law("data-constrained", {false, dc.fixed});
    out.report = fit(*law, data, options);
    out.runs_above_n_opt = runs_above_n_opt(data, public_values(out.report));
    out.r_n_star_determined = out.runs_above_n_opt > 0;
    return out;
  }

  // 2. Stage 1: the Chinchilla base on the single-epoch runs.
  if (options.holdout_top_x > 0)
    throw std::invalid_argument("holdout_top_x: the data-constrained law has no x variable (use holdout_top_compute)");
  const Dataset single = subset(data, single_idx, "single-epoch runs");
  FitOptions o1 = options;
  o1.starts.clear();  // options.starts are data-constrained θ (joint fit); stage 1 uses Chinchilla's grid
  o1.at_compute.clear();
  o1.at_points.clear();
  o1.holdout_top_compute = 0;
  o1.bootstrap = 0;  // the propagated bootstrap below gives stage 1's intervals
  o1.progress = false;
  const auto base_law = make_law("chinchilla", {false, base_fixes});
  const FittedLaw s1 = fit(*base_law, single, o1);

  // 3. Stage 2: R_D*, R_N* on all runs with the base held. Its own bootstrap (base held at its
  // optimum) is the conditional interval reported beside the propagated one.
  const auto law2 = stage2_law(s1, decay_fixes);
  FitOptions o2 = options;
  o2.starts = stage2_starts(*law2, s1);
  o2.at_compute.clear();
  o2.holdout_top_compute = 0;
  o2.progress = false;
  const FittedLaw s2 = fit(*law2, data, o2);

  // 4. Propagated bootstrap: stratified resample, stage 1 then stage 2 per replicate, each seeded
  // by its stage's full-data optimum (as fit::fit seeds its own refits).
  const std::shared_ptr<const Law> final_law = make_law("data-constrained", {false, dc.fixed});
  const int nb = std::max(0, options.bootstrap);
  std::vector<std::vector<double>> reps(static_cast<size_t>(nb));
  std::vector<char> ok(reps.size(), 0);
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  if (nb > 0) {
    util::Progress bar("bootstrap", nb, "two-stage refits",
                       options.progress ? util::ProgressMode::kAuto : util::ProgressMode::kQuiet);
    FitOptions ob1 = o1, ob2 = o1;
    ob1.threads = ob2.threads = 1;
    ob1.starts = {s1.theta};
    ob2.starts = {s2.theta};
    std::atomic<bool> stop{false};
#pragma omp parallel for schedule(dynamic) num_threads(threads)
    for (int b = 0; b < nb; ++b) {
      if (stop.load() || util::interrupted()) {
        stop = true;
        continue;
      }
      // One stream per replicate: results do not depend on threads or scheduling.
      NormalStream rng(resample_seed(options.seed, static_cast<uint64_t>(b)));
      std::vector<size_t> pick_single, pick_all;
      for (size_t i = 0; i < single_idx.size(); ++i) pick_single.push_back(single_idx[rng.next_u64() % single_idx.size()]);
      pick_all = pick_single;
      for (size_t i = 0; i < multi_idx.size(); ++i) pick_all.push_back(multi_idx[rng.next_u64() % multi_idx.size()]);
      try {
        const FittedLaw r1 = fit(*base_law, subset(data, pick_single, ""), ob1);
        const FittedLaw r2 = fit(*stage2_law(r1, decay_fixes), subset(data, pick_all, ""), ob2);
        auto theta = final_law->to_internal(public_values(r2));
        if (std::all_of(theta.begin(), theta.end(), [](double v) { return std::isfinite(v); }) &&
            std::isfinite(r2.objective)) {
          reps[static_cast<size_t>(b)] = std::move(theta);
          ok[static_cast<size_t>(b)] = 1;
        }
      } catch (const std::exception&) {
        // counted as failed below
      }
      bar.advance();
    }
    bar.finish();
  }

  // 5. The final report: stage 2's fit of every run, in the plain law's coordinates, with the
  // propagated replicates.
  FittedLaw rep = s2;
  const auto pub = public_values(s2);
  rep.law_options.fixed = dc.fixed;
  rep.model = final_law;  // the plain law: stage 2 held the base, the result does not
  rep.internal_names = final_law->internal_names();
  rep.theta = final_law->to_internal(pub);
  rep.bootstrap_theta.clear();
  rep.bootstrap_failed = 0;
  for (size_t b = 0; b < reps.size(); ++b) {
    if (ok[b]) {
      rep.bootstrap_theta.push_back(reps[b]);
    } else if (!util::interrupted()) {
      ++rep.bootstrap_failed;
    }
  }
  rep.bootstrap_requested = options.bootstrap;
  rep.bootstrap_done = static_cast<int>(rep.bootstrap_theta.size());
  std::vector<std::vector<double>> columns(pub.size());
  for (const auto& t : rep.bootstrap_theta) {
    const auto p = final_law->to_public(t.data());
    for (size_t j = 0; j < p.size(); ++j) columns[j].push_back(p[j]);
  }
  for (size_t j = 0; j < pub.size(); ++j) rep.params[j] = summarize(pub[j], columns[j]);
  // Every free parameter was fitted (in one stage or the other): the information criteria count them all.
  const int k_old = rep.quality.parameters, k_new = static_cast<int>(final_law->dim());
  rep.quality.parameters = k_new;
  rep.quality.aic += 2.0 * (k_new - k_old);
  rep.quality.bic += (k_new - k_old) * std::log(static_cast<double>(rep.points));
  std::vector<double> log_res;
  for (const auto& x : rep.residuals) log_res.push_back(x.log_residual);
  for (size_t i = 0; i < rep.at_points.size(); ++i) {
    rep.at_points[i].loss = predict_loss(*final_law, rep.theta, rep.bootstrap_theta, options.at_points[i]);
    rep.at_points[i].pi95 = prediction_interval(*final_law, rep.bootstrap_theta, log_res, options.at_points[i]);
  }
  {
    // Verdicts again: stage 2's own ones call the base "fixed", but here it was fitted (stage 1)
    // with propagated replicates. Same layout and no-effect test as fit() (identifiability.h).
    for (size_t i = 0; i < rep.at_points.size(); ++i) {
      std::vector<double> col;
      const LogPoint lp = log_point(options.at_points[i]);
      for (const auto& t : rep.bootstrap_theta) col.push_back(std::exp(final_law->log_predict(t.data(), lp, nullptr)));
      columns.push_back(std::move(col));
    }
    const Problem problem = make_problem(*final_law, data);
    const size_t k = final_law->dim();
    std::vector<double> g(k), total(k, 0.0);
    for (const auto& x : problem.x) {
      final_law->log_predict(rep.theta.data(), x, g.data());
      for (size_t j = 0; j < k; ++j) total[j] += std::fabs(g[j]);
    }
    std::vector<bool> no_effect(k, false);
    for (size_t j = 0; j < k; ++j) no_effect[j] = !(total[j] > 1e-12 * static_cast<double>(problem.size()));
    identify_fit(rep, *final_law, columns, no_effect, 0);
  }
  rep.warnings.clear();
  if (!spans) rep.warnings.push_back("stage 1: " + spread + "; the base law is not determined by them");
  for (const auto& w : s1.warnings) rep.warnings.push_back("stage 1 (base law on the single-epoch runs): " + w);
  for (const auto& w : s2.warnings)
    if (w.find("bootstrap") == std::string::npos) rep.warnings.push_back(w);  // its bootstrap is the conditional one
  if (util::interrupted() && nb > 0)
    rep.warnings.push_back("bootstrap interrupted after " + std::to_string(rep.bootstrap_done) + " of " +
                           std::to_string(nb) + " resamples; intervals use those");
  if (rep.bootstrap_failed > 0)
    rep.warnings.push_back(std::to_string(rep.bootstrap_failed) + " two-stage bootstrap refits failed and were left out");
  if (options.holdout_top_compute > 0) rep.holdout = two_stage_holdout(data, options, {DataConstrainedProcedure::kTwoStage, dc.fixed});

  out.runs_above_n_opt = runs_above_n_opt(data, pub);
  out.r_n_star_determined = out.runs_above_n_opt > 0;
  out.stage1 = stage_summary(s1, static_cast<int>(single_idx.size()), kBase, base_fixes, rep);
  out.stage2 = stage_summary(s2, static_cast<int>(data.runs.size()), kDecay, decay_fixes, rep);
  for (const auto& name : out.stage2->free) {
    auto it = std::find(s2.param_names.begin(), s2.param_names.end(), name);
    out.stage2->base_fixed.push_back(s2.params[static_cast<size_t>(it - s2.param_names.begin())]);
  }
  rep.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.report = std::move(rep);
  return out;
}

nlohmann::json to_json(const DataConstrainedFit& f) {
  using nlohmann::json;
  // nlohmann::json writes non-finite numbers as null, as the rest of the fit JSON does.
  json j = to_json(f.report);
  json p = {{"name", procedure_name(f.procedure)},
            {"chosen_by_default", f.chosen_by_default},
            {"reason", f.reason},
            {"single_epoch_runs", f.single_epoch_runs},
            {"multi_epoch_runs", f.multi_epoch_runs},
            {"runs_above_n_opt", f.runs_above_n_opt},
            {"R_N_star_determined", f.r_n_star_determined}};
  auto stage_json = [&](const StageReport& s, const std::string& law, const std::string& runs) {
    json est = json::object();
    for (size_t i = 0; i < s.free.size(); ++i) {
      est[s.free[i]] = to_json(s.estimates[i]);
      if (!s.base_fixed.empty()) est[s.free[i]]["ci95_base_fixed"] = json::array({s.base_fixed[i].lo, s.base_fixed[i].hi});
    }
    return json{{"law", law},
                {"runs", s.runs},
                {"fitted_to", runs},
                {"free", s.free},
                {"params", est},
                {"objective", s.objective},
                {"starts", s.starts},
                {"converged_starts", s.converged_starts},
                {"starts_at_best", s.starts_at_best},
                {"status", s.status},
                {"quality", {{"r2_log", s.quality.r2_log},
                             {"rmse_log", s.quality.rmse_log},
                             {"mean_abs_rel_error", s.quality.mean_abs_rel_error}}}};
  };
  if (f.stage1) p["stage1"] = stage_json(*f.stage1, "chinchilla", "single-epoch");
  if (f.stage2) p["stage2"] = stage_json(*f.stage2, "data-constrained (base held at stage 1)", "all");
  if (f.stage1)
    p["bootstrap"] = "stratified: single-epoch and multi-epoch runs resampled separately; each replicate refits "
                     "stage 1, then stage 2 with that replicate's base held";
  j["procedure"] = p;
  return j;
}

}  // namespace scalinglab::fit
