#pragma once
// Scores one model on one task's eval set: every metric of the emergence lab for one
// (run × checkpoint × task). (Contract; implemented in score.cpp.)
//
// Metrics (names as in the long results table, docs/EMERGENCE.md):
//   exact_match       greedy output (up to answer_len tokens, stopping after the target's last
//                     token, e.g. "\n") equals the target                       higher is better
//   token_accuracy    teacher-forced: argmax at each target position == target token, averaged
//                     over target tokens                                        higher is better
//   edit_distance     token Levenshtein distance of the greedy output to the target (mean)
//   loglik_per_token  teacher-forced log-likelihood of the target, nats, mean per target token
//   loglik_sum        the same summed over the target (mean over examples)
//   brier             multiple choice only: Σ_c (p_c − 1[c = answer])², p = softmax over the
//                     choices' summed log-likelihoods (mean over examples)
//   pass_until        optional (ScoreOptions::pass_until): PassUntil estimate (Hu et al. 2023)
//                     of the per-sample success probability at temperature 1, with an interval
#include <cstdint>
#include <string>
#include <vector>

#include "scalinglab/emergence/task.h"
#include "scalinglab/model/gpt.h"

namespace scalinglab::emergence {

struct PassUntilOptions {
  int successes = 4;          // K: stop an instance's sampling after K successes...
  int max_samples = 256;      // ...or after this many samples of it
  double temperature = 1.0;
  std::uint64_t seed = 1;
};

struct ScoreOptions {
  int max_examples = 0;       // score the first n eval examples; 0: all
  bool pass_until = false;    // also estimate pass_until (costs up to max_samples per example)
  PassUntilOptions pass_until_options;
};

struct MetricValue {
  std::string metric;         // one of the names above
  double value = 0;
  double stderr = 0;          // standard error over examples (for pass_until: from its interval)
  double ci_lo = 0, ci_hi = 0;  // 95% interval (pass_until; else value ± 1.96·stderr)
  int n = 0;                  // examples scored
  bool higher_is_better = true;
};

// Every metric that applies to the task, in the order above. The model is not modified (scoring
// uses its own buffers). Throws std::invalid_argument when an example does not fit the model's
// context (prompt + target longer than ctx) or the task has no eval examples.
std::vector<MetricValue> score_task(const model::Gpt& model, const Task& task, const ScoreOptions& options = {});

// The training text of a task: its train examples as prompt + target, one after another, in a
// fixed order from the task's seed (what an emergence sweep mixes into the corpus).
std::string training_text(const Task& task);

}  // namespace scalinglab::emergence
