#include "scalinglab/sweep/self_validation.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "scalinglab/io/atomic_file.h"
#include "scalinglab/run/train_run.h"
#include "scalinglab/store/run_store.h"
#include "scalinglab/sweep/sweep_spec.h"

namespace scalinglab::sweep {

nlohmann::json to_json(const ValidationResult& v) {
  nlohmann::json alternatives = nlohmann::json::array();
  for (const auto& a : v.alternatives)
    alternatives.push_back({{"law", a.law}, {"predicted_loss", a.predicted}, {"pi95", {a.pi95.lo, a.pi95.hi}}, {"rel_error", a.rel_error}});
  return {{"key", v.key},
          {"alternatives", alternatives},
          {"run_dir", v.run_dir},
          {"compute", v.compute},
          {"N", v.n},
          {"D", v.d},
          {"N_opt", v.n_opt},
          {"D_opt", v.d_opt},
          {"predicted_loss", v.predicted.value},
          {"ci95", {v.predicted.lo, v.predicted.hi}},
          {"pi95", {v.pi95.lo, v.pi95.hi}},
          {"actual_loss", v.actual},
          {"rel_error", v.rel_error},
          {"inside_pi95", v.inside_pi95},
          {"status", v.status}};
}

ValidationResult validation_from_json(const nlohmann::json& j) {
  auto num = [&](const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<double>() : NAN; };
  auto pair = [&](const char* k, double& lo, double& hi) {
    lo = hi = NAN;
    if (j.contains(k) && j[k].is_array() && j[k].size() == 2 && j[k][0].is_number() && j[k][1].is_number()) {
      lo = j[k][0].get<double>();
      hi = j[k][1].get<double>();
    }
  };
  ValidationResult v;
  v.key = j.value("key", "");
  v.run_dir = j.value("run_dir", "");
  v.compute = num("compute");
  v.n = num("N");
  v.d = num("D");
  v.n_opt = num("N_opt");
  v.d_opt = num("D_opt");
  v.predicted.value = num("predicted_loss");
  pair("ci95", v.predicted.lo, v.predicted.hi);
  pair("pi95", v.pi95.lo, v.pi95.hi);
  v.actual = num("actual_loss");
  v.rel_error = num("rel_error");
  v.inside_pi95 = j.value("inside_pi95", false);
  v.status = j.value("status", "");
  if (j.contains("alternatives") && j["alternatives"].is_array())
    for (const auto& a : j["alternatives"]) {
      AlternativePrediction p;
      p.law = a.value("law", "");
      p.predicted = a.contains("predicted_loss") && a["predicted_loss"].is_number() ? a["predicted_loss"].get<double>() : NAN;
      if (a.contains("pi95") && a["pi95"].is_array() && a["pi95"].size() == 2 && a["pi95"][0].is_number() && a["pi95"][1].is_number())
        p.pi95 = {a["pi95"][0].get<double>(), a["pi95"][1].get<double>()};
      p.rel_error = a.contains("rel_error") && a["rel_error"].is_number() ? a["rel_error"].get<double>() : NAN;
      v.alternatives.push_back(p);
    }
  return v;
}

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
    if (v.status == "done" && prev->value("compute_factor", 0.0) == o.compute_factor) return v;
  }
  SweepSpec spec = sweep_from_json(sw->spec);

  fit::Dataset data;
  data.source = store_path;
  data.has_n = data.has_d = data.has_c = true;
  double c_max = 0;
  for (const auto& r : st.runs(sw->id, store::RunStatus::kDone)) {
    if (!r.eval_loss) continue;
    const double n = static_cast<double>(r.params_total);
    data.runs.push_back({n, r.tokens, 6 * n * r.tokens, 0, *r.eval_loss, r.id});
    c_max = std::max(c_max, 6 * n * r.tokens);
  }
  if (data.runs.size() < 6) throw std::invalid_argument(store_path + ": fewer than 6 finished runs to fit");

  ValidationResult v;
  v.compute = o.compute_factor * c_max;
  fit::FitOptions fo;
  fo.bootstrap = o.bootstrap;
  fo.threads = o.threads;
  fo.at_compute = {v.compute};
  auto law = fit::make_law("chinchilla");
  fit::FitReport first = fit::fit(*law, data, fo);
  v.n_opt = first.at_compute[0].n_opt.value;
  v.d_opt = first.at_compute[0].d_opt.value;

  // The family member nearest N_opt, trained for the tokens that spend the budget.
  model::GptConfig shape = shape_for_params(v.n_opt, spec.family);
  v.n = static_cast<double>(shape.params_total());
  run::RunSpec rs = run_spec_for(spec, shape, v.compute / (6 * v.n), spec.seeds.front());
  rs.threads = o.threads;
  rs.cache_dir = o.cache_dir;
  v.d = static_cast<double>(rs.steps() * rs.tokens_per_step());

  fo.at_compute.clear();
  fo.at_points = {fit::Run{v.n, v.d, 6 * v.n * v.d, 0, 1, 0}};
  fit::FitReport pred = fit::fit(*law, data, fo);
  v.predicted = pred.at_points[0].loss;
  v.pi95 = pred.at_points[0].pi95;
  try {
    fit::FitReport k = fit::fit(*fit::make_law("kaplan-nd"), data, fo);
    v.alternatives.push_back({"kaplan-nd", k.at_points[0].loss.value, k.at_points[0].pi95, NAN});
  } catch (const std::exception&) {
    // A comparison only: the validation stands without it.
  }

  char key[96];
  std::snprintf(key, sizeof key, "heldout-C%.1e-N%.2e", v.compute, v.n);
  v.key = key;
  v.run_dir = o.out_dir + "/heldout/" + v.key;
  // The prediction is on record before the run trains: the comparison cannot be tuned afterwards.
  v.status = "running";
  auto record = [&] {
    nlohmann::json j = to_json(v);
    j["compute_factor"] = o.compute_factor;
    st.put_artifact(sw->id, kValidationArtifact, j);
  };
  record();
  run::RunOutcome out = run::train_run(rs, v.run_dir);
  v.status = out.status;
  v.actual = out.eval_loss;
  v.rel_error = (v.predicted.value - v.actual) / v.actual;
  v.inside_pi95 = v.pi95.contains(v.actual);
  for (auto& a : v.alternatives) a.rel_error = (a.predicted - v.actual) / v.actual;
  record();
  io::write_file_atomic(o.out_dir + "/validation.json", to_json(v).dump(2) + "\n");
  return v;
}

}  // namespace scalinglab::sweep
