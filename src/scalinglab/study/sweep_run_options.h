#pragma once
// The sweep runner's options from a study's (PilotStudyOptions, EmergenceDemoOptions: each has
// out_dir, cache_dir, workers, threads and progress), with the study's store.
#include <string>

#include "scalinglab/sweep/runner.h"

namespace scalinglab::study {

template <class StudyOptions>
sweep::SweepRunOptions sweep_run_options(const StudyOptions& o, const std::string& store_path) {
  sweep::SweepRunOptions so;
  so.store_path = store_path;
  so.out_dir = o.out_dir;
  so.cache_dir = o.cache_dir;
  so.workers = o.workers;
  so.threads_per_worker = o.threads;
  so.progress = o.progress;
  return so;
}

}  // namespace scalinglab::study
