#include "scalinglab/run/train_run.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "scalinglab/data/corpus.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/model/gpt.h"
#include "scalinglab/model/train_hooks.h"
#include "scalinglab/monitor/live_estimate.h"
#include "scalinglab/train/metrics.h"
#include "scalinglab/train/trainer.h"

namespace scalinglab::run {

nlohmann::json to_json(const RunOutcome& o) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"status", o.status},
          {"message", o.message},
          {"steps", o.steps},
          {"tokens", o.tokens},
          {"resumed_from", o.resumed_from},
          {"flops", o.flops},
          {"train_loss", num(o.train_loss)},
          {"eval_loss", num(o.eval_loss)},
          {"eval_bits_per_byte", num(o.eval_bits_per_byte)},
          {"wall_s", o.wall_s},
          {"params_total", o.params_total},
          {"params_non_embedding", o.params_non_embedding}};
}

std::string snapshot_path(const std::string& run_dir, uint64_t step) {
  return run_dir + "/snapshots/step_" + std::to_string(step) + ".bin";
}

RunOutcome train_run(const RunSpec& spec, const std::string& run_dir, util::ProgressMode progress,
                     const std::function<bool()>& stop) {
  spec.validate();
  kernels::cpu::require_precision(spec.precision);  // bf16 on a CPU without it: fail before any output
  const std::string cache = spec.cache_dir.empty() ? default_cache_dir() : spec.cache_dir;
  data::Corpus corpus = data::Corpus::build_or_open(spec.corpus, cache);
  if (spec.threads > 0) omp_set_num_threads(spec.threads);

  const nlohmann::json config = to_json(spec);
  std::filesystem::create_directories(run_dir);
  const std::string config_path = run_dir + "/config.json";
  if (std::filesystem::exists(config_path)) {
    // Resuming: the directory must belong to the same run.
    nlohmann::json old;
    try {
      old = nlohmann::json::parse(std::ifstream(config_path));
    } catch (const nlohmann::json::exception&) {
      throw std::invalid_argument(config_path + ": not a run config (corrupt JSON)");
    }
    nlohmann::json a = old, b = config;
    a.erase("threads");
    b.erase("threads");
    if (a != b)
      throw std::invalid_argument(run_dir + ": holds a different run (config.json differs); choose another --out");
  } else {
    io::write_file_atomic(config_path, config.dump(2) + "\n");
  }

  model::Gpt gpt(spec.model, spec.seed);
  gpt.set_precision(spec.precision);
  std::vector<float> params(gpt.params().begin(), gpt.params().end());
  train::TrainerConfig tc;
  tc.batch_size = spec.batch;
  tc.ctx = static_cast<uint32_t>(spec.model.ctx);
  tc.seed = spec.seed;
  tc.schedule = spec.resolved_schedule();
  tc.adamw = spec.adamw;
  tc.grad_clip = spec.grad_clip;
  const uint64_t steps = spec.steps();
  tc.eval_every = spec.evals > 0 ? std::max<uint64_t>(1, steps / spec.evals) : 0;
  tc.log_every = std::max<uint64_t>(1, std::min<uint64_t>(tc.eval_every > 0 ? tc.eval_every : steps, steps / 50 + 1));
  tc.eval_windows = spec.eval_windows;
  tc.final_eval_windows = spec.final_eval_windows;
  tc.checkpoint_every = spec.checkpoint_every;
  tc.divergence = spec.divergence;
  tc.flops_per_token = spec.model.train_flops_per_token_chinchilla();
  tc.run_dir = run_dir;
  tc.config_json = config.dump();
  tc.progress = progress;
  tc.snapshot_steps = spec.snapshot_steps;
  if (!tc.snapshot_steps.empty()) {
    std::filesystem::create_directories(run_dir + "/snapshots");
    // The hooks copy the trainer's buffer into the model at every call, so overwriting the model's
    // parameters here changes nothing else.
    tc.snapshot = [&gpt, &run_dir](uint64_t step, std::span<const float> p) {
      std::copy(p.begin(), p.end(), gpt.params().begin());
      gpt.save_weights(snapshot_path(run_dir, step));
    };
  }

  // The estimated final loss as the run goes (beside the ETA, and in each metrics line).
  monitor::LiveEstimate live(tc.schedule, run_dir + "/metrics.jsonl");
  if (std::filesystem::exists(run_dir + "/metrics.jsonl")) {
    try {
      live.seed(train::read_metrics(run_dir + "/metrics.jsonl"));
    } catch (const std::exception&) {
      // A log the trainer will cut back on resume; the estimate then starts from the new lines.
    }
  }
  tc.on_metrics = [&live](train::MetricsRow& row) { return live.observe(row); };
  auto t0 = std::chrono::steady_clock::now();
  train::Trainer trainer(tc, corpus, model::param_table(gpt), params, model::make_train_hooks(gpt));
  train::TrainResult r = trainer.run(stop);

  RunOutcome o;
  o.status = r.diverged ? "diverged" : (r.stopped ? "interrupted" : "done");
  o.message = r.message;
  o.steps = r.step;
  o.tokens = r.tokens;
  o.resumed_from = r.resumed_from;
  o.flops = tc.flops_per_token * static_cast<double>(r.tokens);
  o.train_loss = r.last_train_loss;
  if (r.final_eval_loss) {
    o.eval_loss = *r.final_eval_loss;
    o.eval_bits_per_byte = train::bits_per_byte(o.eval_loss, 1.0);  // byte tokenizer: 1 token per byte
  }
  o.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  o.params_total = spec.model.params_total();
  o.params_non_embedding = spec.model.params_non_embedding();
  io::write_file_atomic(run_dir + "/result.json", to_json(o).dump(2) + "\n");
  return o;
}

}  // namespace scalinglab::run
