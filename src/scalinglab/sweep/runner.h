#pragma once
// Runs a sweep to completion against its store: registers the planned runs (idempotently), then
// worker processes claim runs one at a time, train them into <out>/runs/<key>/ and record the
// outcome and every logged point. Killed at any moment (Ctrl-C, kill -9, power loss), the sweep is
// resumed by calling run_sweep again (or resume_sweep with only the store): finished runs are
// never repeated, unfinished ones continue from their last checkpoint.
#include <string>

#include "scalinglab/sweep/sweep_spec.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::sweep {

struct SweepRunOptions {
  std::string store_path;  // SQLite store; created if missing
  std::string out_dir;     // run directories go to <out_dir>/runs/<key>
  std::string cache_dir;   // tokenized corpora; empty: the default cache
  int workers = 0;         // parallel worker processes; 0: decided from measured throughput
  int threads_per_worker = 0;
  util::ProgressMode progress = util::ProgressMode::kAuto;
};

struct SweepOutcome {
  int64_t sweep_id = 0;
  int64_t total = 0, done = 0, diverged = 0, failed = 0, queued = 0;
  int workers = 0, threads_per_worker = 0;
  bool interrupted = false;
  double wall_s = 0;
};

// How to split the cores: `workers` processes × `threads` each. Measures the training throughput
// of the sweep's smallest and largest shapes with all threads in one run versus one thread per
// run, and picks whichever finishes the planned tokens sooner.
struct Schedule {
  int workers = 1, threads = 1;
  double est_seconds = 0;  // estimated wall time of the whole sweep
};
Schedule choose_schedule(const std::vector<PlannedRun>& runs, int cores);

SweepOutcome run_sweep(const SweepSpec& spec, const SweepRunOptions& options);
// Continues the sweep recorded in the store (the only sweep in it, or the one named).
SweepOutcome resume_sweep(const SweepRunOptions& options, const std::string& sweep_name = "");

}  // namespace scalinglab::sweep
