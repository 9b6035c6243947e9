#pragma once
// One L-BFGS minimisation of the Huber objective (LBFGS++ with Eigen, analytic gradients).
#include <string>
#include <vector>

#include "scalinglab/fit/huber_objective.h"

namespace scalinglab::fit {

struct SolverOptions {
  int max_iterations = 1000;
  // Stop when the gradient of the scaled objective is below this norm. The scaled objective is
  // O(1) per point, so 1e-6 is deep convergence (see HuberObjective for why it is scaled).
  double gradient_tolerance = 1e-6;
  // Also stop when the scaled objective changed by less than this times max(1, |f|) over the last
  // `change_window` iterations.
  double relative_change_tolerance = 1e-13;
  int change_window = 10;
  // Restart from the best point after a failed line search (fresh curvature memory).
  int restarts = 3;
};

enum class SolverStatus { kGradient, kStalled, kLineSearch, kMaxIterations, kNonFinite };
const char* status_name(SolverStatus s);

struct Optimum {
  std::vector<double> theta;
  double objective = 0;  // unscaled Σ Huber
  double gradient_norm = 0;  // of the scaled objective
  int iterations = 0;
  SolverStatus status = SolverStatus::kNonFinite;
  bool converged() const { return status == SolverStatus::kGradient || status == SolverStatus::kStalled; }
};

Optimum minimize(const HuberObjective& objective, const std::vector<double>& start, const SolverOptions& options = {});

}  // namespace scalinglab::fit
