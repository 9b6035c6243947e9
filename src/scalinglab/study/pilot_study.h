#pragma once
// The whole loop of a pilot study, as `scalinglab demo` runs it: train a sweep into a crash-safe
// store, fit the laws, predict a run at several times the largest compute and train it, then write
// summary.json, report.html, and fits/<law>.json with runs.csv (for `plan --law`, `predict --law`
// and `fit runs.csv`). Every step is resumable: run it again after a crash, kill or Ctrl-C and it
// continues where it stopped (finished runs and a finished validation are kept).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "scalinglab/analysis/sweep_analysis.h"
#include "scalinglab/sweep/runner.h"
#include "scalinglab/sweep/self_validation.h"
#include "scalinglab/sweep/sweep_spec.h"

namespace scalinglab::study {

// The demo's default sweep on the embedded corpus, tuned so that on 2 cores it spans two orders
// of magnitude of compute and finishes, validation included, in well under 10 minutes (the rules
// and the measurements behind them are in docs/SWEEP.md).
sweep::SweepSpec default_pilot_spec();

struct PilotStudyOptions {
  std::string out_dir = "scalinglab-demo";  // store.db, runs/, heldout/, summary.json, report.html, fits/, runs.csv
  std::string cache_dir;                    // tokenized corpora; empty: the default cache
  int workers = 0, threads = 0;             // 0: from measured throughput / all cores
  int bootstrap = 300;
  double validation_factor = 4;             // held-out compute / largest compute of the sweep
  util::ProgressMode progress = util::ProgressMode::kAuto;
};

struct PilotStudyResult {
  std::string store_path, summary_path, report_path;
  std::vector<std::string> files;  // fits/<law>.json and runs.csv (analysis::write_sweep_files)
  sweep::SweepOutcome sweep;
  std::optional<sweep::ValidationResult> validation;
  std::optional<analysis::SweepAnalysis> analysis;
  nlohmann::json summary;
  bool interrupted = false;  // Ctrl-C: nothing written after the interrupted step; run again to resume
  double wall_s = 0;
};

// Throws std::invalid_argument for an unusable spec, io::InputError for a foreign store file.
PilotStudyResult run_pilot_study(const sweep::SweepSpec& spec, const PilotStudyOptions& options);

}  // namespace scalinglab::study
