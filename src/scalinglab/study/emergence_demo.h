#pragma once
// `scalinglab emergence demo`: train a small family on 2-digit addition and a+b mod 97 mixed
// into the embedded corpus, score every run at ten checkpoints, and analyse the results in two
// views (emergence/results_views.h): across the family (final checkpoints) and along each run's
// training. Resumable like every sweep: run it again after a crash, kill or Ctrl-C.
#include <string>

#include "scalinglab/emergence/analyze.h"
#include "scalinglab/sweep/runner.h"
#include "scalinglab/sweep/sweep_spec.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::study {

// The demo's family (measured in docs/EMERGENCE.md): six 2-layer GPTs, d = 16 … 64 (1.1e4 …
// 1.2e5 parameters), RoPE, 30 tokens per parameter (C = 2.1e10 … 2.4e12 FLOPs, 2.1 decades), the
// default width rule for the learning rate; tasks add2 ("07+45=" → "052\n", L = 4) and mod97
// ("05+17%97=" → "22\n", L = 3), 75% of the training bytes; 9 linearly spaced checkpoints and
// the end; 500 held-out problems per task. Why 2 layers everywhere: 1-layer members never learn
// the carry, so a family that mixes depths jumps in every metric at the depth change.
sweep::SweepSpec default_emergence_spec();

struct EmergenceDemoOptions {
  std::string out_dir = "scalinglab-emergence";  // store.db, runs/, results.csv, family.* and training.*
  std::string cache_dir;
  int workers = 0, threads = 0;
  int bootstrap = 200;
  util::ProgressMode progress = util::ProgressMode::kAuto;
};

struct EmergenceDemoResult {
  std::string store_path, results_csv;
  sweep::SweepOutcome sweep;
  emergence::AnalysisResult family, training;  // analyses of the two views
  std::vector<std::string> files;              // everything written, in order
  bool interrupted = false;                    // Ctrl-C: run again to continue
  double wall_s = 0;
};

// Runs (or resumes) the sweep into <out_dir>/store.db, then writes <out_dir>/results.csv (the
// long table), family.csv / training.csv (the views), family.json / training.json (the
// analyses, docs/EMERGENCE.md schema) and family.html / training.html (the report sections).
// Throws std::invalid_argument for a spec without an `emergence` block (naming it).
EmergenceDemoResult run_emergence_demo(const sweep::SweepSpec& spec, const EmergenceDemoOptions& options);

}  // namespace scalinglab::study
