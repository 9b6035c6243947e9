#pragma once
// The mirage test (Schaeffer, Miranda & Koyejo 2023): if every one of the L target tokens is
// right independently with probability p, then
//
//   exact match ≈ p^L            token edit distance ≈ L·(1 − p)
//
// so a per-token quality p that improves smoothly with scale produces an exact-match curve that
// sits near 0 and then shoots up — sharp because of the metric, not the model. The test predicts
// both from the measured per-token metric of the same models and compares with what was
// measured. p is token_accuracy (teacher-forced argmax accuracy) when the curve group has it,
// else exp(loglik_per_token) (the geometric-mean target-token probability, which is Schaeffer et
// al.'s p = exp(−CE) exactly).
//
// "Tracks": at every shared model |measured − p^L| ≤ max(tolerance, 2·σ), σ the combined standard
// error of the measurement and of the prediction (delta method: L·p^(L−1)·se(p)). Correlated token
// errors (a model that misses one digit misses the next) push measured exact match above p^L;
// max_abs_error shows by how much.
#include <string>
#include <vector>

#include "scalinglab/emergence/breakthrough.h"
#include "scalinglab/emergence/results_table.h"

namespace scalinglab::emergence {

double predicted_exact_match(double p, int answer_len);   // p^L
double predicted_edit_distance(double p, int answer_len); // L·(1 − p)

struct MirageOptions {
  double tolerance = 0.1;  // absolute, in exact-match units
};

struct MiragePoint {
  std::string model;
  double x = 0;
  double p = 0;          // per-token probability used
  double measured = 0, predicted = 0;
  double sigma = 0;      // combined standard error
  bool within = false;
};

struct MirageTest {
  std::string group;           // Curve::group_label() of the exact-match curve
  std::string exact_label;     // Curve::label() of the exact-match curve
  std::string source_metric;   // "token_accuracy" or "loglik_per_token"
  int answer_len = 0;
  std::vector<MiragePoint> exact;  // p^L against the measured curve, by scale
  double max_abs_error = 0.0 / 0.0, rmse = 0.0 / 0.0;
  double tolerance = 0;
  bool tracks = false;
  Breakthrough predicted;              // I, B, L of the predicted curve
  double predicted_midpoint_log10_x = 0.0 / 0.0, measured_midpoint_log10_x = 0.0 / 0.0;
  std::vector<MiragePoint> edit;       // L·(1 − p) against a measured edit_distance curve, if any
  double edit_max_abs_error = 0.0 / 0.0;
  std::string note;
};

// `exact`: a discrete curve; `per_token`: token_accuracy or loglik_per_token of the same group;
// `edit`: that group's edit_distance curve or nullptr. Points are matched by model name; fewer
// than 3 shared models gives tracks = false with a note. Throws std::invalid_argument when
// answer_len < 1 or per_token is neither metric.
MirageTest mirage_test(const Curve& exact, const Curve& per_token, const Curve* edit, int answer_len,
                       const MirageOptions& options = {});

}  // namespace scalinglab::emergence
