#pragma once
// Scores one model on one task's eval set: every metric of the emergence lab for one
// (run × checkpoint × task). (Contract; implemented in score.cpp.)
//
// Every example is scored with ScoreOptions::prefix + prompt as the context (default "\n": in
// the training text every prompt follows the previous example's final newline, so scoring sees
// the prompt the way training did, and the first token is never asked to be a sequence start).
// Each metric is first computed per example and then averaged over examples, so every example
// weighs the same and the standard error is the one over examples (sample sd / √n).
//
// Metrics (names as in the long results table, docs/EMERGENCE.md):
//   exact_match       greedy output (at most |target| tokens, stopping after the target's last
//                     token when it is "\n") equals the target                   higher is better
//   token_accuracy    teacher-forced: argmax at each target position == target token (lowest id
//                     on ties, as greedy decoding), fraction of the example's target tokens
//   edit_distance     token Levenshtein distance of that greedy output to the target (≤ |target|)
//   loglik_per_token  teacher-forced log-likelihood of the target, nats, mean per target token
//                     (each probability clipped below at 1e-30, so at worst −69 nats a token)
//   loglik_sum        the same summed over the target
//   brier             multiple choice only: Σ_c (q_c − 1[c = answer])², q = softmax over the
//                     choices' summed log-likelihoods, in [0, 2]
//   multiple_choice_grade  multiple choice only: the answer has the highest summed
//                     log-likelihood (ties count as wrong), in [0, 1]
//   pass_until        optional (ScoreOptions::pass_until): PassUntil estimate (Hu et al. 2023)
//                     of the per-sample success probability, with its interval (pass_until.h)
// With constant-length targets (every generated task), the per-example means equal the pooled
// per-token means.
//
// Cost: the teacher-forced metrics run as batched Gpt::forward passes over (prompt + target)
// rows, padded at the end (causal attention: padding never changes an earlier position); the
// greedy and sampled outputs call model::generate once per example and sample.
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "scalinglab/emergence/pass_until.h"
#include "scalinglab/emergence/task.h"
#include "scalinglab/model/gpt.h"

namespace scalinglab::emergence {

struct ScoreOptions {
  int max_examples = 0;       // score the first n eval examples; 0: all
  bool pass_until = false;    // also estimate pass_until (costs up to max_samples per example)
  PassUntilOptions pass_until_options;
  std::string prefix = "\n";  // context before every prompt (see above); may be empty
  // Called after each example's generation and each PassUntil instance with (done, total); return
  // false to stop: score_task then throws ScoreStopped (e.g. on Ctrl-C, util::interrupted()).
  std::function<bool(int done, int total)> progress;
};

struct ScoreStopped : std::runtime_error {
  ScoreStopped() : std::runtime_error("scoring stopped") {}
};

struct MetricValue {
  std::string metric;         // one of the names above
  double value = 0;
  double stderr = 0;          // standard error over examples (pass_until: over instances, pass_until.h)
  double ci_lo = 0, ci_hi = 0;  // 95% interval (pass_until; else value ± 1.96·stderr)
  int n = 0;                  // examples scored
  bool higher_is_better = true;
};

// One example's scores (the rows score_task averages).
struct ExampleScore {
  std::string output;          // greedy output, as bytes
  bool exact = false;
  double edit_distance = 0;
  double token_accuracy = 0;   // fraction of target tokens
  double loglik_sum = 0;       // nats over the target
  int target_tokens = 0;
  std::vector<double> choice_loglik;  // multiple choice: summed log-likelihood of each choice
  double brier = 0;            // multiple choice
  bool choice_correct = false; // multiple choice
  PassUntilInstance pass_until;  // when ScoreOptions::pass_until
};

// Per-example scores of the first max_examples eval examples. Same errors as score_task.
std::vector<ExampleScore> score_examples(const model::Gpt& model, const Task& task, const ScoreOptions& options = {});

// The multiple-choice scores of one example from its choices' summed log-likelihoods: the Brier
// score Σ_c (q_c − 1[c = answer])² with q = softmax(loglik), and whether the answer is the strict
// maximum. Throws std::invalid_argument for fewer than 2 choices or an answer out of range.
double brier_score(std::span<const double> choice_loglik, int answer);
bool choice_correct(std::span<const double> choice_loglik, int answer);

// Every metric that applies to the task, in the order above. The model is not modified (scoring
// uses its own buffers). Throws std::invalid_argument when an example does not fit the model's
// context (prefix + prompt + target longer than ctx), holds a byte outside the model's vocabulary,
// the task has no eval examples, or an option is out of range (naming it).
std::vector<MetricValue> score_task(const model::Gpt& model, const Task& task, const ScoreOptions& options = {});

// The training text of a task: its train examples as prompt + target, one after another, in a
// fixed order from the task's seed (what an emergence sweep mixes into the corpus). A target that
// does not end in "\n" (user tasks) is followed by one, so examples never run together.
std::string training_text(const Task& task);

}  // namespace scalinglab::emergence
