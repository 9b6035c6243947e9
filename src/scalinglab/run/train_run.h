#pragma once
// Trains one GPT on a corpus into a run directory:
//   config.json    the resolved RunSpec (written first, before any work)
//   metrics.jsonl  step, tokens, FLOPs, train/eval loss, lr, grad norm, elapsed (one line per log)
//   checkpoint.bin weights + AdamW state + data position (resumable, checksummed)
//   result.json    the outcome (written last, atomically)
//   snapshots/step_<N>.bin  the weights after step N for each of spec.snapshot_steps (Gpt::save_weights,
//                  atomic), written before any checkpoint past N, so a resumed run has them all
// Calling it again on a directory with a checkpoint resumes where the run stopped.
#include <functional>
#include <string>

#include "scalinglab/run/run_spec.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::run {

struct RunOutcome {
  std::string status;   // "done" | "diverged" | "interrupted"
  std::string message;  // why, for diverged
  uint64_t steps = 0, tokens = 0, resumed_from = 0;
  double flops = 0;     // training FLOPs, Chinchilla App. F convention
  double train_loss = NAN, eval_loss = NAN, eval_bits_per_byte = NAN;
  double wall_s = 0;
  int64_t params_total = 0, params_non_embedding = 0;
};

nlohmann::json to_json(const RunOutcome& o);

// <run_dir>/snapshots/step_<step>.bin: the weights after `step` (RunSpec::snapshot_steps).
std::string snapshot_path(const std::string& run_dir, uint64_t step);

// Throws std::invalid_argument / io::InputError for a bad spec or corpus before any training.
// `stop` is polled after every step (default: Ctrl-C); when true the run checkpoints and returns
// with status "interrupted".
RunOutcome train_run(const RunSpec& spec, const std::string& run_dir,
                     util::ProgressMode progress = util::ProgressMode::kAuto,
                     const std::function<bool()>& stop = util::interrupted);

}  // namespace scalinglab::run
