#include "scalinglab/sweep/self_validation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "scalinglab/io/atomic_file.h"
#include "scalinglab/run/train_run.h"
#include "scalinglab/store/run_store.h"
#include "scalinglab/sweep/json_number.h"
#include "scalinglab/sweep/sweep_spec.h"

namespace scalinglab::sweep {

namespace {

nlohmann::json pair_json(double lo, double hi) { return {lo, hi}; }

void read_pair(const nlohmann::json& j, const char* k, double& lo, double& hi) {
  lo = hi = NAN;
  if (j.contains(k) && j[k].is_array() && j[k].size() == 2 && j[k][0].is_number() && j[k][1].is_number()) {
    lo = j[k][0].get<double>();
    hi = j[k][1].get<double>();
  }
}

double read_num(const nlohmann::json& j, const char* k) { return number_or_nan(j, k); }

std::vector<std::string> law_names_of(const ValidationResult& v) {
  std::vector<std::string> names;
  for (const auto& p : v.by_law) names.push_back(p.law);
  return names;
}

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100 * x);
  return buf;
}

}  // namespace

bool form_headline(ValidationResult& v, const std::string& candidate) {
  size_t first = 0, used = 0;
  for (size_t i = 0; i < v.by_law.size(); ++i)
    if (v.by_law[i].law == candidate) first = i, used = 1;
  if (used == 0 && v.by_law.size() > 1 && candidate == combination_name(law_names_of(v))) used = v.by_law.size();
  if (used == 0) return false;
  v.predicted = {};
  v.pi95 = {};
  double sum = 0;
  for (size_t i = first; i < first + used; ++i) {
    const LawPrediction& p = v.by_law[i];
    sum += p.predicted.value;
    v.predicted.lo = i == first ? p.predicted.lo : std::min(v.predicted.lo, p.predicted.lo);
    v.predicted.hi = i == first ? p.predicted.hi : std::max(v.predicted.hi, p.predicted.hi);
    v.pi95.lo = i == first ? p.pi95.lo : std::min(v.pi95.lo, p.pi95.lo);
    v.pi95.hi = i == first ? p.pi95.hi : std::max(v.pi95.hi, p.pi95.hi);
  }
  v.predicted.value = sum / static_cast<double>(used);
  v.headline = candidate;
  if (v.actual > 0) {
    v.rel_error = (v.predicted.value - v.actual) / v.actual;
    v.inside_pi95 = v.pi95.contains(v.actual);
  }
  return true;
}

void choose_headline(ValidationResult& v, ValidationOptions::Headline how) {
  if (how == ValidationOptions::Headline::kChinchilla) {
    form_headline(v, "chinchilla");
    v.headline_reason = "Hoffmann et al.'s law alone, as asked (options.headline)";
    return;
  }
  if (!v.backtest) {
    // Recorded before the backtest existed: the headline then on record stays the headline.
    if (form_headline(v, v.headline)) {
      v.headline_reason = "recorded before the rollout backtest existed";
      return;
    }
    form_headline(v, "chinchilla");
    v.headline_reason = "recorded before the rollout backtest existed; Hoffmann et al.'s law";
    return;
  }
  const Backtest& b = *v.backtest;
  if (!b.chosen.empty() && form_headline(v, b.chosen)) {
    double err = NAN;
    for (const auto& l : b.by_law)
      if (l.law == b.chosen) err = l.mean_abs_rel_error;
    v.headline_reason = "lowest rollout-backtest error (" + percent(err) + " on the sweep's " +
                        std::to_string(b.rollouts.size()) + " rollout" + (b.rollouts.size() == 1 ? "" : "s") + ")";
    return;
  }
  form_headline(v, "chinchilla");
  v.headline_reason = b.chosen.empty() ? "Hoffmann et al.'s law: the backtest chose nothing (" + b.note + ")"
                                       : "Hoffmann et al.'s law: the backtest chose " + b.chosen +
                                             ", which could not be fitted to all of the sweep's runs";
}

void predict_heldout(ValidationResult& v, const fit::Dataset& data, const std::vector<double>& budgets,
                     const ValidationOptions& o, const fit::FittedLaw* chinchilla) {
  const auto& laws = o.backtest.laws;
  if (std::find(laws.begin(), laws.end(), "chinchilla") == laws.end())
    throw std::invalid_argument("backtest.laws must include chinchilla (the fallback headline and N_opt's law)");
  fit::FitOptions fo;
  fo.bootstrap = o.bootstrap;
  fo.threads = o.threads;
  const fit::Run at{v.n, v.d, 6 * v.n * v.d, 0, 1, 0};
  v.by_law.clear();
  for (const auto& name : laws) {
    try {
      const fit::PointPrediction p = name == "chinchilla" && chinchilla
                                         ? chinchilla->loss(at)
                                         : fit::fit(fit::make_law(name), data, fo).loss(at);
      if (std::isfinite(p.loss.value)) v.by_law.push_back({name, p.loss, p.pi95, NAN});
    } catch (const std::exception&) {
      if (name == "chinchilla") throw;
      // Left out of by_law; the backtest records why it fails (or it fails only on all the runs,
      // and choose_headline then falls back to Chinchilla).
    }
  }
  BacktestOptions bo = o.backtest;
  bo.threads = o.threads;
  v.backtest = rollout_backtest(data, budgets, bo);
  choose_headline(v, o.headline);
}

nlohmann::json to_json(const ValidationResult& v) {
  nlohmann::json laws = nlohmann::json::array();
  for (const auto& a : v.by_law)
    laws.push_back({{"law", a.law},
                    {"predicted_loss", a.predicted.value},
                    {"ci95", pair_json(a.predicted.lo, a.predicted.hi)},
                    {"pi95", pair_json(a.pi95.lo, a.pi95.hi)},
                    {"rel_error", a.rel_error}});
  nlohmann::json j = {{"key", v.key},
          {"by_law", laws},
          {"headline", v.headline},
          {"headline_reason", v.headline_reason},
          {"run_dir", v.run_dir},
          {"compute", v.compute},
          {"N", v.n},
          {"D", v.d},
          {"N_opt", v.n_opt},
          {"D_opt", v.d_opt},
          {"predicted_loss", v.predicted.value},
          {"ci95", pair_json(v.predicted.lo, v.predicted.hi)},
          {"pi95", pair_json(v.pi95.lo, v.pi95.hi)},
          {"actual_loss", v.actual},
          {"rel_error", v.rel_error},
          {"inside_pi95", v.inside_pi95},
          {"status", v.status}};
  if (v.backtest) j["backtest"] = to_json(*v.backtest);
  return j;
}

ValidationResult validation_from_json(const nlohmann::json& j) {
  ValidationResult v;
  v.key = j.value("key", "");
  v.run_dir = j.value("run_dir", "");
  v.headline = j.value("headline", "chinchilla");
  v.headline_reason = j.value("headline_reason", "");
  if (j.contains("backtest") && j["backtest"].is_object()) v.backtest = backtest_from_json(j["backtest"]);
  v.compute = read_num(j, "compute");
  v.n = read_num(j, "N");
  v.d = read_num(j, "D");
  v.n_opt = read_num(j, "N_opt");
  v.d_opt = read_num(j, "D_opt");
  v.predicted.value = read_num(j, "predicted_loss");
  read_pair(j, "ci95", v.predicted.lo, v.predicted.hi);
  read_pair(j, "pi95", v.pi95.lo, v.pi95.hi);
  v.actual = read_num(j, "actual_loss");
  v.rel_error = read_num(j, "rel_error");
  v.inside_pi95 = j.value("inside_pi95", false);
  v.status = j.value("status", "");
  // Artifacts recorded before by_law existed kept Chinchilla's prediction as the headline and the
  // other laws as "alternatives" (without their law-only intervals, which then read as NaN).
  const bool legacy = !j.contains("by_law");
  const char* key = legacy ? "alternatives" : "by_law";
  if (j.contains(key) && j[key].is_array()) {
    if (legacy) v.by_law.push_back({"chinchilla", v.predicted, v.pi95, v.rel_error});
    for (const auto& a : j[key]) {
      LawPrediction p;
      p.law = a.value("law", "");
      p.predicted.value = read_num(a, "predicted_loss");
      read_pair(a, "ci95", p.predicted.lo, p.predicted.hi);
      read_pair(a, "pi95", p.pi95.lo, p.pi95.hi);
      p.rel_error = read_num(a, "rel_error");
      v.by_law.push_back(p);
    }
  }
  return v;
}

namespace {

nlohmann::json artifact_json(const ValidationResult& v, double compute_factor) {
  nlohmann::json j = to_json(v);
  j["compute_factor"] = compute_factor;
  return j;
}

void write_validation_file(const std::string& out_dir, const ValidationResult& v) {
  io::write_file_atomic(out_dir + "/validation.json", to_json(v).dump(2) + "\n");
}

}  // namespace

ValidationResult validate_sweep(const std::string& store_path, const ValidationOptions& o) {
  store::RunStore st = store::RunStore::open(store_path, {store::OpenMode::kReadWrite});
  auto sweeps = st.sweeps();
  std::optional<store::SweepRecord> sw = o.sweep.empty() ? (sweeps.size() == 1 ? std::optional(sweeps[0]) : std::nullopt)
                                                         : st.sweep(o.sweep);
  if (!sw) throw std::invalid_argument(store_path + ": name the sweep to validate (--sweep)");
  // A finished validation of the same design is not repeated (the prediction came first and is
  // kept; a re-run would only retrain the same run).
  if (auto prev = st.artifact(sw->id, kValidationArtifact)) {
    ValidationResult v = validation_from_json(*prev);
    if (v.status == "done" && prev->value("compute_factor", 0.0) == o.compute_factor) {
      // The laws' predictions and the backtest were recorded before the run; only the headline
      // is re-formed by the rule asked for (and recorded, so that readers of the store see what
      // this call reported).
      choose_headline(v, o.headline);
      nlohmann::json j = artifact_json(v, o.compute_factor);
      if (j != *prev) st.put_artifact(sw->id, kValidationArtifact, j);
      if (!o.out_dir.empty()) write_validation_file(o.out_dir, v);
      return v;
    }
  }
  SweepSpec spec = sweep_from_json(sw->spec);

  // Each run's design budget, by key (0 for a grid or WSD design: the backtest then groups by compute).
  std::map<std::string, double> budget_of;
  for (const auto& p : plan(spec)) budget_of[p.key] = p.budget;

  fit::Dataset data;
  data.source = store_path;
  data.has_n = data.has_d = data.has_c = true;
  std::vector<double> budgets;
  double c_max = 0;
  for (const auto& r : st.runs(sw->id, store::RunStatus::kDone)) {
    if (!r.eval_loss) continue;
    const double n = static_cast<double>(r.params_total);
    data.runs.push_back({n, r.tokens, 6 * n * r.tokens, 0, *r.eval_loss, r.id});
    auto b = budget_of.find(r.key);
    budgets.push_back(b == budget_of.end() ? 0.0 : b->second);
    c_max = std::max(c_max, 6 * n * r.tokens);
  }
  if (data.runs.size() < 6) throw std::invalid_argument(store_path + ": fewer than 6 finished runs to fit");

  ValidationResult v;
  v.compute = o.compute_factor * c_max;
  fit::FitOptions fo;
  fo.bootstrap = o.bootstrap;
  fo.threads = o.threads;
  // One fit per law; the allocation and the predictions are questions asked of it.
  const fit::FittedLaw chinchilla = fit::fit(fit::make_law("chinchilla"), data, fo);
  const fit::ComputePrediction opt = chinchilla.optimum(v.compute);
  v.n_opt = opt.n_opt.value;
  v.d_opt = opt.d_opt.value;

  // The family member nearest N_opt, trained for the tokens that spend the budget.
  model::GptConfig shape = shape_for_params(v.n_opt, spec.family);
  v.n = static_cast<double>(shape.params_total());
  run::RunSpec rs = run_spec_for(spec, shape, v.compute / (6 * v.n), spec.seeds.front());
  rs.threads = o.threads;
  rs.cache_dir = o.cache_dir;
  // An emergence sweep's runs train on its mixed corpus (named in their stored specs), not on
  // spec.corpus: the held-out run must see the same text as the runs it is predicted from.
  if (spec.emergence)
    for (const auto& r : st.runs(sw->id, store::RunStatus::kDone))
      if (r.spec.contains("corpus") && r.spec["corpus"].is_string()) {
        rs.corpus = r.spec["corpus"].get<std::string>();
        break;
      }
  v.d = static_cast<double>(rs.steps() * rs.tokens_per_step());

  // Every law's prediction, the backtest and the headline choice, from the sweep's runs alone;
  // the Chinchilla fit above is asked, not refitted.
  predict_heldout(v, data, budgets, o, &chinchilla);

  char key[96];
  std::snprintf(key, sizeof key, "heldout-C%.1e-N%.2e", v.compute, v.n);
  v.key = key;
  v.run_dir = o.out_dir + "/heldout/" + v.key;
  // The prediction is on record before the run trains: the comparison cannot be tuned afterwards.
  v.status = "running";
  auto record = [&] { st.put_artifact(sw->id, kValidationArtifact, artifact_json(v, o.compute_factor)); };
  record();
  run::RunOutcome out = run::train_run(rs, v.run_dir);
  v.status = out.status;
  v.actual = out.eval_loss;
  for (auto& a : v.by_law) a.rel_error = (a.predicted.value - v.actual) / v.actual;
  form_headline(v, v.headline);  // the candidate chosen before the run; only its error is new
  record();
  write_validation_file(o.out_dir, v);
  return v;
}

}  // namespace scalinglab::sweep
