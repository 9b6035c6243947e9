#include "scalinglab/run/run_spec.h"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "scalinglab/io/input_error.h"
#include "scalinglab/io/read_file.h"

namespace scalinglab::run {

uint64_t RunSpec::steps() const {
  return static_cast<uint64_t>(std::ceil(tokens / static_cast<double>(std::max<uint64_t>(1, tokens_per_step()))));
}

train::ScheduleConfig RunSpec::resolved_schedule() const {
  train::ScheduleConfig s = schedule;
  s.total_steps = steps();
  s.warmup_steps = warmup_steps > 0 ? warmup_steps : static_cast<uint64_t>(std::floor(warmup_frac * static_cast<double>(s.total_steps)));
  return s;
}

void RunSpec::validate() const {
  model.validate();
  auto bad = [](const std::string& field, const std::string& what) {
    throw std::invalid_argument(field + ": " + what);
  };
  if (batch == 0) bad("batch", "must be at least 1");
  if (!(tokens >= 1) || !std::isfinite(tokens)) bad("tokens", "must be a positive number of training tokens");
  if (!(schedule.peak_lr > 0)) bad("lr", "must be positive");
  if (warmup_frac < 0 || warmup_frac >= 1) bad("warmup", "fraction must be in [0, 1)");
  if (grad_clip < 0) bad("clip", "must be >= 0 (0 disables clipping)");
  if (threads < 0) bad("threads", "must be >= 0");
  if (model.vocab != 256) bad("vocab", "the byte tokenizer has 256 tokens");
  train::validate(resolved_schedule());
  for (size_t i = 0; i < snapshot_steps.size(); ++i) {
    if (snapshot_steps[i] < 1 || snapshot_steps[i] > steps())
      bad("snapshot_steps", "step " + std::to_string(snapshot_steps[i]) + " is outside the run's [1, " + std::to_string(steps()) + "]");
    if (i > 0 && snapshot_steps[i] <= snapshot_steps[i - 1]) bad("snapshot_steps", "must be strictly ascending");
  }
}

std::string default_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/scalinglab";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/scalinglab";
  return ".scalinglab-cache";
}

nlohmann::json to_json(const RunSpec& s) {
  auto sched = s.resolved_schedule();
  nlohmann::json j = {{"model",
           {{"vocab", s.model.vocab},
            {"ctx", s.model.ctx},
            {"d_model", s.model.d_model},
            {"n_layer", s.model.n_layer},
            {"n_head", s.model.n_head},
            {"rope", s.model.rope}}},
          {"params_total", s.model.params_total()},
          {"params_non_embedding", s.model.params_non_embedding()},
          {"flops_per_token", {{"kaplan", s.model.train_flops_per_token_kaplan()},
                               {"chinchilla", s.model.train_flops_per_token_chinchilla()},
                               {"6N_total", 6.0 * static_cast<double>(s.model.params_total())}}},
          {"batch", s.batch},
          {"tokens_per_step", s.tokens_per_step()},
          {"tokens", s.tokens},
          {"steps", s.steps()},
          {"lr", s.schedule.peak_lr},
          {"schedule", train::to_string(s.schedule.kind)},
          {"final_lr_frac", train::final_fraction(sched)},
          {"warmup_steps", sched.warmup_steps},
          {"cooldown_frac", s.schedule.cooldown_frac},
          {"cooldown_shape", train::to_string(s.schedule.cooldown_shape)},
          {"adamw", {{"beta1", s.adamw.beta1}, {"beta2", s.adamw.beta2}, {"eps", s.adamw.eps},
                     {"weight_decay", s.adamw.weight_decay}}},
          {"grad_clip", s.grad_clip},
          {"evals", s.evals},
          {"eval_windows", s.eval_windows},
          {"final_eval_windows", s.final_eval_windows},
          {"checkpoint_every", s.checkpoint_every},
          {"seed", s.seed},
          {"threads", s.threads},
          {"corpus", s.corpus},
          {"divergence", {{"max_nonfinite_steps", s.divergence.max_nonfinite_steps},
                          {"spike_factor", s.divergence.spike_factor},
                          {"spike_min_increase", s.divergence.spike_min_increase},
                          {"spike_after_steps", s.divergence.spike_after_steps}}}};
  if (s.precision != kernels::cpu::Precision::fp32) j["precision"] = kernels::cpu::precision_name(s.precision);
  if (!s.snapshot_steps.empty()) j["snapshot_steps"] = s.snapshot_steps;
  return j;
}

RunSpec spec_from_json(const nlohmann::json& j) {
  RunSpec s;
  try {
    const auto& m = j.at("model");
    s.model = {m.at("vocab").get<int>(), m.at("ctx").get<int>(), m.at("d_model").get<int>(),
               m.at("n_layer").get<int>(), m.at("n_head").get<int>(), m.value("rope", false)};
    s.batch = j.at("batch").get<uint32_t>();
    s.tokens = j.at("tokens").get<double>();
    s.schedule.peak_lr = j.at("lr").get<double>();
    s.schedule.kind = train::parse_schedule_kind(j.value("schedule", "cosine"));
    s.schedule.cooldown_frac = j.value("cooldown_frac", 0.2);
    s.schedule.cooldown_shape = train::parse_cooldown_shape(j.value("cooldown_shape", "1-sqrt"));
    s.warmup_steps = j.value("warmup_steps", uint64_t{0});
    if (j.contains("adamw")) {
      const auto& a = j["adamw"];
      s.adamw = {a.value("beta1", 0.9), a.value("beta2", 0.95), a.value("eps", 1e-8), a.value("weight_decay", 0.1)};
    }
    s.grad_clip = j.value("grad_clip", 1.0);
    s.evals = j.value("evals", uint64_t{10});
    s.eval_windows = j.value("eval_windows", uint64_t{64});
    s.final_eval_windows = j.value("final_eval_windows", uint64_t{0});
    s.checkpoint_every = j.value("checkpoint_every", uint64_t{0});
    s.seed = j.value("seed", uint64_t{1});
    s.threads = j.value("threads", 0);
    s.corpus = j.value("corpus", std::string("kjv"));
    if (j.contains("snapshot_steps")) s.snapshot_steps = j.at("snapshot_steps").get<std::vector<uint64_t>>();
    try {
      s.precision = kernels::cpu::parse_precision(j.value("precision", std::string("fp32")));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("run config: field 'precision': ") + e.what());
    }
    if (j.contains("divergence")) {
      const auto& d = j["divergence"];
      s.divergence.max_nonfinite_steps = d.value("max_nonfinite_steps", uint64_t{0});
      s.divergence.spike_factor = d.value("spike_factor", 3.0);
      s.divergence.spike_min_increase = d.value("spike_min_increase", 1.0);
      s.divergence.spike_after_steps = d.value("spike_after_steps", uint64_t{20});
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("run config: ") + e.what());
  }
  return s;
}

RunSpec load_spec(const std::string& path) {
  nlohmann::json j = nlohmann::json::parse(io::read_file(path, "run config"), nullptr, false);
  if (j.is_discarded()) throw io::InputError(path, 0, "", "not valid JSON");
  try {
    return spec_from_json(j);
  } catch (const std::invalid_argument& e) {
    throw io::InputError(path, 0, "", e.what());
  }
}

}  // namespace scalinglab::run
