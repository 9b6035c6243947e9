#pragma once
// Synthetic runs drawn from a known Chinchilla law with multiplicative noise: the ground truth
// for recovery tests, the bundled example dataset and `scalinglab synth`.
#include <cstdint>
#include <vector>

#include "scalinglab/fit/dataset.h"

namespace scalinglab::fit {

struct ChinchillaParams {
  double E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28;  // Hoffmann et al. 2022 eq. 10
  double loss(double n, double d) const;
};

struct SyntheticDesign {
  enum class Kind { kIsoFlop, kGrid } kind = Kind::kIsoFlop;
  // IsoFLOP: `budgets` log-spaced compute values in [c_min, c_max], `per_budget` N values spanning
  // `n_span` (a factor) on each side of the law's compute-optimal N.
  double c_min = 1e17, c_max = 1e20;
  int budgets = 6, per_budget = 8;
  double n_span = 8;
  // Grid: N log-spaced in [n_min, n_max] times tokens-per-parameter ratios.
  double n_min = 1e6, n_max = 1e9;
  int n_count = 8;
  std::vector<double> tokens_per_param = {5, 10, 20, 40, 80};
  double noise = 0.015;  // σ of the multiplicative log-normal noise on the loss
  uint64_t seed = 1;
};

Dataset make_synthetic(const ChinchillaParams& truth, const SyntheticDesign& design);

// Deterministic standard normal draws independent of the C++ library's distributions, so that
// the same seed gives the same data with any compiler.
class NormalStream {
 public:
  explicit NormalStream(uint64_t seed) : state_(seed ? seed : 0x9E3779B97F4A7C15ull) {}
  double next();
  uint64_t next_u64();  // splitmix64
  double uniform();     // (0, 1)

 private:
  uint64_t state_;
  bool have_spare_ = false;
  double spare_ = 0;
};

}  // namespace scalinglab::fit
