#pragma once
// Hoffmann et al. 2022 eq. 3: Σ_i Huber_δ(log L̂_i − log L_i), summed over runs (not averaged).
//
// Why a scale: with δ = 1e-3 the objective and its gradient are ~1e-3 and below, so absolute
// stopping tolerances fire almost at the start (Besiroglu et al. 2024 traced Chinchilla's
// implausibly narrow intervals to exactly this). The optimiser therefore sees the objective
// multiplied by `scale` (default 1/δ², which makes a residual of δ cost O(1)); the minimiser is
// unchanged and the reported objective is always the unscaled sum.
#include <vector>

#include "scalinglab/fit/law.h"
#include "scalinglab/fit/problem.h"

namespace scalinglab::fit {

double huber(double r, double delta);
double huber_derivative(double r, double delta);

class HuberObjective {
 public:
  HuberObjective(const Law& law, const Problem& problem, const std::vector<double>* weights, double delta,
                 double scale);
  // Unscaled objective; fills grad (size dim) with the unscaled gradient when non-null.
  double value(const double* theta, double* grad) const;
  double delta() const { return delta_; }
  double scale() const { return scale_; }
  const Law& law() const { return law_; }
  const Problem& problem() const { return problem_; }
  const std::vector<double>* weights() const { return weights_; }

 private:
  const Law& law_;
  const Problem& problem_;
  const std::vector<double>* weights_;  // nullptr: all ones
  double delta_, scale_;
};

}  // namespace scalinglab::fit
