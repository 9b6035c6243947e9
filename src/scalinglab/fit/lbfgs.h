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
  // Multi-start screening (Newton path only, multistart.h): every start runs this many
  // iterations; of those not yet converged, the `continue_best` lowest objectives (pairwise
  // distinct by 1e-2 in some coordinate) run on to convergence. 0: every start to the end.
  int screen_iterations = 4;
  int continue_best = 16;
};

// kGradient: the scaled gradient norm reached the tolerance. kStalled: stopped before that
// because no further decrease was measurable (L-BFGS: the objective changed by less than
// relative_change_tolerance over change_window iterations, or a line search failed where the
// gradient was already negligible; Newton: the trust region shrank to rounding level) — a
// minimum to machine precision in practice, but not certified by the gradient. describe() says
// which, with the numbers.
enum class SolverStatus { kGradient, kStalled, kLineSearch, kMaxIterations, kNonFinite };
const char* status_name(SolverStatus s);

struct Optimum {
  std::vector<double> theta;
  double objective = 0;  // unscaled Σ Huber
  double gradient_norm = 0;  // of the scaled objective
  // Newton: iterations. L-BFGS: objective evaluations (LBFGS++ loses its iteration count when a
  // line search throws, which happens on most starts; evaluations are always known).
  int iterations = 0;
  SolverStatus status = SolverStatus::kNonFinite;
  bool newton = false;  // solved by trust-region Newton (newton.h), else L-BFGS
  bool converged() const { return status == SolverStatus::kGradient || status == SolverStatus::kStalled; }
};

// One line for the terminal and JSON: the solver, how it stopped, the gradient norm against the
// tolerance and the iterations, e.g. "converged: gradient norm 3.1e-09 <= 1e-06 after 14
// trust-region Newton iterations".
std::string describe(const Optimum& o, const SolverOptions& options);

Optimum minimize(const HuberObjective& objective, const std::vector<double>& start, const SolverOptions& options = {});

}  // namespace scalinglab::fit
