#include "scalinglab/emergence/synthetic_results.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "scalinglab/model/rng.h"

namespace scalinglab::emergence {

namespace {

std::string g17(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

}  // namespace

io::Table synthetic_results_table(const SyntheticTableOptions& o) {
  auto bad = [](const std::string& f, const std::string& w) { throw std::invalid_argument(f + ": " + w); };
  if (o.tasks < 1) bad("tasks", "must be >= 1");
  if (o.scales < 2) bad("scales", "must be >= 2");
  if (!(o.n_min > 0) || !(o.n_max > o.n_min)) bad("n_min", "need 0 < n_min < n_max");
  if (o.n_examples < 1) bad("n_examples", "must be >= 1");
  if (o.max_answer_len < 1) bad("max_answer_len", "must be >= 1");
  if (!(o.alpha_lo <= o.alpha_hi) || !(o.alpha_hi < 0)) bad("alpha_hi", "need alpha_lo <= alpha_hi < 0");
  io::Table t;
  t.source = "synthetic";
  t.columns = {"model", "params", "compute", "task", "metric", "value", "n_examples", "answer_len"};
  model::SplitMix64 rng(o.seed);
  const double n_ex = o.n_examples;
  long line = 2;
  for (int k = 0; k < o.tasks; ++k) {
    const double alpha = o.alpha_lo + (o.alpha_hi - o.alpha_lo) * rng.uniform();
    const double c = std::pow(10.0, o.log10_c_lo + (o.log10_c_hi - o.log10_c_lo) * rng.uniform());
    const int L = 1 + static_cast<int>(rng.next_u64() % static_cast<std::uint64_t>(o.max_answer_len));
    std::string task = "task";
    task += std::to_string(k);
    for (int i = 0; i < o.scales; ++i) {
      const double n = o.n_min * std::pow(o.n_max / o.n_min, double(i) / (o.scales - 1));
      const double ce = std::pow(n / c, alpha), p = std::exp(-ce), em = std::pow(p, L);
      auto noisy = [&](double v, double sd, double lo, double hi) { return std::clamp(v + sd * rng.normal(), lo, hi); };
      const double values[4] = {
          noisy(em, std::sqrt(std::max(em * (1 - em), 1 / n_ex) / n_ex), 0, 1),
          noisy(p, std::sqrt(std::max(p * (1 - p), 1 / n_ex) / (n_ex * L)), 0, 1),
          noisy(-ce, 0.5 * std::max(ce, 1e-3) / std::sqrt(n_ex * L), -INFINITY, 0),
          noisy(L * (1 - p), std::sqrt(L * std::max(p * (1 - p), 1 / n_ex) / n_ex), 0, INFINITY)};
      const char* metrics[4] = {"exact_match", "token_accuracy", "loglik_per_token", "edit_distance"};
      std::string model = "m";
      model += std::to_string(i);
      for (int m = 0; m < 4; ++m) {
        t.rows.push_back({model, g17(n), g17(120 * n * n), task, metrics[m], g17(values[m]),
                          std::to_string(o.n_examples), std::to_string(L)});
        t.lines.push_back(line++);
      }
    }
  }
  return t;
}

}  // namespace scalinglab::emergence
