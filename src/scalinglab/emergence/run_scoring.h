#pragma once
// Scores one trained run of an emergence sweep: the weights at each of its log-spaced checkpoints
// (the snapshots train_run wrote, run/train_run.h) on every task, with every metric of score_task,
// recorded in the run store's `evals` table (store/run_store.h).
//
// Crash safety: the metrics of one (checkpoint, task) are recorded in one transaction, so after a
// kill -9 the store holds each pair whole or not at all; a pair already in the store is not scored
// again, and one scored again (never recorded) replaces nothing but itself (the table upserts by
// run, step, task and metric). Scoring is deterministic for given weights, thread count and
// options, so a resumed run records what an uninterrupted one would have.
#include <cstdint>
#include <functional>
#include <vector>

#include "scalinglab/emergence/emergence_spec.h"
#include "scalinglab/emergence/score.h"
#include "scalinglab/emergence/task.h"
#include "scalinglab/run/run_spec.h"
#include "scalinglab/store/run_store.h"

namespace scalinglab::emergence {

// Throws std::invalid_argument naming the task and family.ctx when an eval example cannot be
// scored by a model of context `ctx` (score_task's rule: options.prefix + prompt + the longer of
// the target and each choice must fit), or a task has no eval examples: checked before any
// training, where score_task would only find out after it.
void check_tasks_fit(const std::vector<Task>& tasks, int ctx, const ScoreOptions& options);

// The score options of a sweep's block (max_eval_examples, pass_until).
ScoreOptions score_options(const EmergenceSpec& spec);

struct RunScoring {
  int scored = 0;    // (checkpoint, task) pairs scored and recorded by this call
  int skipped = 0;   // pairs found already recorded
  bool interrupted = false;  // `stop` returned true; the rest is left for the next call
};

// Scores run `run_id` (trained by `spec` into `run_dir`, with spec.snapshot_steps == the steps of
// eval_points(spec.steps(), checkpoints, spacing)) on `tasks`. `stop` is polled before each pair and after
// each example (through ScoreOptions::progress); a pair stopped mid-way is not recorded. Throws
// std::runtime_error naming the file when a snapshot is missing or unreadable, std::invalid_argument
// when the run's snapshot steps are not its planned checkpoints.
RunScoring score_run(store::RunStore& st, int64_t run_id, const run::RunSpec& spec, const std::string& run_dir,
                     const std::vector<Task>& tasks, int checkpoints, CheckpointSpacing spacing,
                     const ScoreOptions& options, const std::function<bool()>& stop);

}  // namespace scalinglab::emergence
