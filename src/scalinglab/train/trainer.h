#pragma once
// The training loop, independent of what the model is: it owns data order, the lr schedule,
// clipping, AdamW, evaluation, the metrics log and checkpoints, and talks to the model only
// through two callbacks over the flat parameter buffer. Runs resume from the run directory's
// checkpoint and then produce exactly the parameters an uninterrupted run would have.
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "scalinglab/data/corpus.h"
#include "scalinglab/train/adamw.h"
#include "scalinglab/train/metrics.h"
#include "scalinglab/train/param_table.h"
#include "scalinglab/train/schedule.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::train {

// When a run has diverged: a non-finite loss or gradient beyond `max_nonfinite_steps` skipped
// updates, or a training loss above `spike_factor` times the best smoothed loss so far and at
// least `spike_min_increase` nats above it (after `spike_after_steps`, so the noisy start does not
// count; the absolute margin keeps ordinary noise on a very low loss from counting as a spike). The run then ends with
// TrainResult::diverged and a message, and no checkpoint of the broken state is written.
struct DivergenceConfig {
  uint64_t max_nonfinite_steps = 0;
  double spike_factor = 3.0;  // <= 0 disables the spike test
  double spike_min_increase = 1.0;  // nats
  uint64_t spike_after_steps = 20;
};

struct TrainerConfig {
  uint32_t batch_size = 8;
  uint32_t ctx = 128;
  uint64_t seed = 0;          // data order
  ScheduleConfig schedule;    // schedule.total_steps is the run length
  AdamWConfig adamw;
  double grad_clip = 1.0;     // max global grad norm; <= 0 disables clipping
  uint64_t log_every = 10;    // metrics line every this many steps (and at the last step)
  uint64_t eval_every = 100;  // validation loss every this many steps (and at the last); 0: last only
  uint64_t eval_windows = 0;  // validation windows per evaluation; 0: the whole split
  // Windows of the last evaluation, the one fits use: a larger set there costs one forward pass
  // and cuts the noise of the final loss. 0: eval_windows.
  uint64_t final_eval_windows = 0;
  uint64_t checkpoint_every = 0;  // 0: only at the end and on interruption
  DivergenceConfig divergence;
  double flops_per_token = 0;     // training FLOPs per token from the model (e.g. 6N, Kaplan et al. 2020)
  std::string run_dir;            // holds checkpoint.bin and metrics.jsonl; created if missing
  // `snapshot(step, params)` is called right after each of these steps (ascending, each in
  // [1, total_steps]) and before that step's checkpoint, if any, is written: a checkpoint past a
  // snapshot step therefore implies its snapshot was taken, and a run resumed from an earlier
  // checkpoint takes it again with the same parameters (training is deterministic). Not called for
  // a step whose update made the run diverge. An exception from it ends the run (propagated).
  std::vector<uint64_t> snapshot_steps;
  std::function<void(uint64_t step, std::span<const float> params)> snapshot;
  // Called with each metrics line just before it is written (the run layer watches the run with
  // the monitor and fills the row's est_final_* fields); returns text for the progress note,
  // e.g. the estimated final loss beside the ETA. An exception from it ends the run.
  std::function<std::string(MetricsRow& row)> on_metrics;
  std::string config_json;        // recorded in checkpoints for provenance
  util::ProgressMode progress = util::ProgressMode::kAuto;
};

struct ModelHooks {
  // Mean next-token cross-entropy in nats over the rows x ctx predictions of `batch`
  // (rows x (ctx + 1) tokens); overwrites `grads` with its gradient.
  std::function<double(const float* params, const int32_t* batch, uint32_t rows, uint32_t ctx, float* grads)>
      loss_and_grad;
  // The same loss without gradients, for evaluation.
  std::function<double(const float* params, const int32_t* batch, uint32_t rows, uint32_t ctx)> loss;
};

struct TrainResult {
  uint64_t step = 0;             // updates completed (== total_steps unless stopped)
  uint64_t tokens = 0;
  uint64_t resumed_from = 0;     // step of the checkpoint this call started from; 0 for a fresh run
  uint64_t skipped_steps = 0;    // steps with a non-finite gradient norm, not applied
  bool stopped = false;          // stop() asked to end early; a checkpoint was written
  bool diverged = false;         // see DivergenceConfig; `message` says why
  std::string message;
  std::optional<double> final_eval_loss;
  double last_train_loss = NAN;  // mean train loss over the steps of the last metrics line
};

class Trainer {
 public:
  // Validates the config (schedule, split sizes against ctx) and the table against `params`.
  Trainer(TrainerConfig config, const data::Corpus& corpus, std::vector<ParamTensor> table,
          std::vector<float>& params, ModelHooks hooks);

  // Trains to schedule.total_steps, resuming from <run_dir>/checkpoint.bin when present (its
  // layout and data settings must match). `stop` is polled after every step; when it returns
  // true the trainer saves a checkpoint and returns. Callers wanting Ctrl-C handling install
  // util::install_interrupt_handler() first; the default polls its flag.
  TrainResult run(const std::function<bool()>& stop = util::interrupted);

  std::string checkpoint_path() const;
  std::string metrics_path() const;
  // Mean validation loss (nats/token) over the configured evaluation windows.
  double evaluate() const;                   // over eval_windows
  double evaluate(uint64_t max_windows) const;  // 0: the whole split

 private:
  TrainerConfig cfg_;
  const data::Corpus& corpus_;
  std::vector<ParamTensor> table_;
  std::vector<float>& params_;
  ModelHooks hooks_;
};

}  // namespace scalinglab::train
