#pragma once
// Synthetic long results tables in the schema of results_table.h, from Schaeffer, Miranda &
// Koyejo 2023's toy model with sampling noise: for each task a per-token cross-entropy
// CE(N) = (N/c)^α, p = exp(−CE), answer length L, and four curves — exact_match ≈ p^L,
// token_accuracy ≈ p, loglik_per_token ≈ −CE, edit_distance ≈ L·(1 − p) — each measured on
// n_examples examples (binomial-scale Gaussian noise, clipped to the metric's range). For the
// speed benchmark (`scalinglab bench emergence`) and for demonstrations; the acceptance tests
// build their exact tables themselves.
#include <cstdint>

#include "scalinglab/io/table.h"

namespace scalinglab::emergence {

struct SyntheticTableOptions {
  int tasks = 250;             // × 4 curves
  int scales = 10;             // models, N log-spaced over [n_min, n_max]
  double n_min = 1e7, n_max = 1e11;
  int n_examples = 500;
  std::uint64_t seed = 1;
  // Per task: α uniform in [alpha_lo, alpha_hi], log10 c uniform in [log10_c_lo, log10_c_hi],
  // L uniform in 1…max_answer_len.
  double alpha_lo = -0.8, alpha_hi = -0.3, log10_c_lo = 8.5, log10_c_hi = 10.5;
  int max_answer_len = 8;
};

// Columns: model, params, compute (6·N·20N), task, metric, value, n_examples, answer_len; rows
// numbered as lines 2, 3, … of a CSV. Throws std::invalid_argument naming a bad field.
io::Table synthetic_results_table(const SyntheticTableOptions& options = {});

}  // namespace scalinglab::emergence
