#pragma once
// One pilot training run, fully specified: model shape, data, optimiser and schedule. Its JSON
// form is the run directory's config.json, from which the run can be resumed or repeated.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scalinglab/kernels/cpu/gemm.h"
#include "scalinglab/model/gpt_config.h"
#include "scalinglab/train/adamw.h"
#include "scalinglab/train/schedule.h"
#include "scalinglab/train/trainer.h"

namespace scalinglab::run {

struct RunSpec {
  model::GptConfig model{256, 128, 128, 4, 4, false};
  uint32_t batch = 16;            // sequences per step; tokens per step = batch · ctx
  double tokens = 2e6;            // training tokens; the run takes ceil(tokens / (batch·ctx)) steps
  train::ScheduleConfig schedule;  // peak_lr, kind, cooldown; total_steps is derived from tokens
  double warmup_frac = 0.05;      // warmup as a fraction of the run (when warmup_steps is 0)
  uint64_t warmup_steps = 0;
  train::AdamWConfig adamw;
  double grad_clip = 1.0;
  uint64_t evals = 10;            // evaluations over the run (and always one at the end)
  uint64_t eval_windows = 64;     // validation windows of ctx tokens per evaluation (0: whole split)
  uint64_t final_eval_windows = 0;  // windows of the final evaluation (0: eval_windows)
  uint64_t checkpoint_every = 0;  // steps; 0: at the end and on Ctrl-C only
  uint64_t seed = 1;              // weights and data order
  int threads = 0;                // OpenMP threads; 0: all cores
  // Matmul precision (model::Gpt::set_precision): fp32, or bf16 with fp32 master weights. In
  // JSON only when not fp32, so config.json of earlier fp32 runs still matches on resume.
  kernels::cpu::Precision precision = kernels::cpu::Precision::fp32;
  std::string corpus = "kjv";     // text file, directory of text, or the default corpus
  std::string cache_dir;          // tokenized corpora; empty: $XDG_CACHE_HOME/scalinglab or ~/.cache/scalinglab
  train::DivergenceConfig divergence;
  // Steps after which the weights are saved to <run_dir>/snapshots/step_<N>.bin (train_run.h), for
  // scoring the run at those points later (an emergence sweep's log-spaced checkpoints). Strictly
  // ascending, each in [1, steps()]. In JSON only when non-empty, so config.json of earlier runs
  // still matches on resume.
  std::vector<uint64_t> snapshot_steps;

  uint64_t steps() const;
  uint64_t tokens_per_step() const { return static_cast<uint64_t>(batch) * static_cast<uint64_t>(model.ctx); }
  // Throws std::invalid_argument with one line naming the field for an inconsistent spec.
  void validate() const;
  // The schedule with total_steps and warmup resolved.
  train::ScheduleConfig resolved_schedule() const;
};

nlohmann::json to_json(const RunSpec& spec);
RunSpec spec_from_json(const nlohmann::json& j);  // throws std::invalid_argument naming the field
// A run directory's config.json. Throws io::InputError naming the file (unreadable, not JSON, or
// not a run spec: the field).
RunSpec load_spec(const std::string& path);
std::string default_cache_dir();

}  // namespace scalinglab::run
