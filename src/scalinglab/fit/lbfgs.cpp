#include "scalinglab/fit/lbfgs.h"

#include <Eigen/Core>
#include <LBFGS.h>
#include <cmath>
#include <cstdio>
#include <limits>

namespace scalinglab::fit {

const char* status_name(SolverStatus s) {
  switch (s) {
    case SolverStatus::kGradient: return "converged";
    case SolverStatus::kStalled: return "stalled";
    case SolverStatus::kLineSearch: return "line_search_failed";
    case SolverStatus::kMaxIterations: return "max_iterations";
    default: return "non_finite";
  }
}

std::string describe(const Optimum& o, const SolverOptions& options) {
  auto num = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2g", v);
    return std::string(buf);
  };
  const std::string solver = o.newton ? "trust-region Newton" : "L-BFGS";
  const std::string grad = "gradient norm " + num(o.gradient_norm);
  // L-BFGS++ loses its iteration count when a line search throws; evaluations are always known.
  const std::string after = o.newton ? " after " + std::to_string(o.iterations) + " " + solver + " iterations"
                                     : " after " + std::to_string(o.iterations) + " " + solver + " evaluations";
  switch (o.status) {
    case SolverStatus::kGradient:
      return "converged: " + grad + " <= " + num(options.gradient_tolerance) + after;
    case SolverStatus::kStalled:
      return o.newton ? "stopped at a minimum to rounding: no step lowers the objective any more (" + grad +
                            ", tolerance " + num(options.gradient_tolerance) + ")" + after
                      : "stopped: the objective changed by less than " + num(options.relative_change_tolerance) +
                            " (relative) over " + std::to_string(options.change_window) +
                            " iterations, or a line search found no lower point where the gradient was already at "
                            "rounding level (" + grad + ", tolerance " + num(options.gradient_tolerance) + ")" + after;
    case SolverStatus::kLineSearch:
      return "line search failed: no lower point found (" + grad + ")" + after;
    case SolverStatus::kMaxIterations:
      return "iteration limit " + std::to_string(options.max_iterations) + " reached (" + grad + ")";
    default:
      return "non-finite objective at the start";
  }
}

namespace {

// Gradient norm of the scaled objective below which a stalled line search counts as convergence.
// Each run contributes up to ~|∂log L̂/∂θ|/δ ≈ 20/δ to the gradient and the curvature inside the
// Huber zone is ~(20/δ)², so 1e-6·n/δ leaves the parameters within ~1e-10 of the stationary point.
double stall_gradient(const HuberObjective& objective) {
  return 1e-6 * static_cast<double>(objective.problem().size()) / objective.delta();
}

// Adapts HuberObjective to LBFGS++ and remembers the best point evaluated, because the line
// search may throw while standing on a worse trial point.
struct ScaledObjective {
  const HuberObjective& obj;
  double best_f = std::numeric_limits<double>::infinity();
  Eigen::VectorXd best_x, best_g;
  int evaluations = 0;

  double operator()(const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    ++evaluations;
    double f = obj.value(x.data(), g.data()) * obj.scale();
    g *= obj.scale();
    if (!std::isfinite(f) || !g.allFinite()) {
      g.setZero();
      return std::numeric_limits<double>::infinity();
    }
    if (f < best_f) {
      best_f = f;
      best_x = x;
      best_g = g;
    }
    return f;
  }
};

}  // namespace

Optimum minimize(const HuberObjective& objective, const std::vector<double>& start, const SolverOptions& options) {
  const int n = static_cast<int>(start.size());
  LBFGSpp::LBFGSParam<double> param;
  param.m = 10;
  param.epsilon = options.gradient_tolerance;
  param.epsilon_rel = 0;
  param.past = options.change_window;
  param.delta = options.relative_change_tolerance;
  param.max_iterations = options.max_iterations;
  param.max_linesearch = 60;
  param.linesearch = LBFGSpp::LBFGS_LINESEARCH_BACKTRACKING_STRONG_WOLFE;
  LBFGSpp::LBFGSSolver<double> solver(param);

  ScaledObjective f{objective, std::numeric_limits<double>::infinity(), {}, {}, 0};
  Eigen::VectorXd x = Eigen::Map<const Eigen::VectorXd>(start.data(), n);
  double fx = 0;
  Optimum out;
  int iterations = 0;  // completed L-BFGS runs' iterations (for the iteration limit)
  // A failed line search usually means the quasi-Newton model went stale where residuals cross
  // the Huber kink; restarting from the best point with fresh curvature memory gets past it.
  for (int attempt = 0; attempt <= options.restarts; ++attempt) {
    try {
      iterations += solver.minimize(f, x, fx);
      out.status = iterations >= options.max_iterations ? SolverStatus::kMaxIterations : SolverStatus::kStalled;
      break;
    } catch (const std::exception&) {
      out.status = SolverStatus::kLineSearch;
      if (!std::isfinite(f.best_f) || f.best_g.norm() <= stall_gradient(objective)) break;
      x = f.best_x;
    }
  }
  if (!std::isfinite(f.best_f)) {
    out.status = SolverStatus::kNonFinite;
    out.theta = start;
    out.objective = std::numeric_limits<double>::infinity();
    out.gradient_norm = std::numeric_limits<double>::infinity();
    return out;
  }
  out.iterations = f.evaluations;
  out.theta.assign(f.best_x.data(), f.best_x.data() + n);
  out.objective = f.best_f / objective.scale();
  out.gradient_norm = f.best_g.norm();
  if (out.gradient_norm <= options.gradient_tolerance) out.status = SolverStatus::kGradient;
  // A line search that fails at a point where the gradient is already negligible relative to the
  // objective's natural size is convergence to rounding, not a failure.
  if (out.status == SolverStatus::kLineSearch && out.gradient_norm <= stall_gradient(objective)) out.status = SolverStatus::kStalled;
  return out;
}

}  // namespace scalinglab::fit
