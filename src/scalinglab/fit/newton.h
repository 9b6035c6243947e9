#pragma once
// Trust-region Newton with the exact Hessian, for the Huber objective of laws with an LSE form
// (law.h: log L̂ = LSE of terms linear in θ, e.g. Chinchilla's 5 parameters). Why not L-BFGS:
// with five parameters the exact Hessian costs about as much as the gradient (15 extra sums per
// point), and Newton reaches the gradient tolerance (1e-6, typically to 1e-8) in ~20–60
// iterations, where L-BFGS needs hundreds of evaluations with line-search restarts and, near the
// optimum, stops on "no relative change" before the gradient is small (what the status
// "stalled" used to mean on every fit).
//
// The per-point work runs over structure-of-arrays copies of ln X and log L (precomputed once per
// objective) with Eigen's vectorised exp/log: value + gradient + Hessian on 240 points costs
// ~2 µs of CPU (AVX-512). Start screening on top of it: multistart.h.
//
// The Huber kink makes the Hessian jump where a residual crosses ±δ; the trust region (Moré &
// Sorensen 1983 step, ratio test on the actual decrease) keeps every accepted step a descent
// step across those seams, and handles indefinite Hessians far from the data.
#include <optional>
#include <vector>

#include <Eigen/Core>

#include "scalinglab/fit/huber_objective.h"
#include "scalinglab/fit/lbfgs.h"

namespace scalinglab::fit {

// The Huber objective of one (law, problem, weights) in array form. Points of weight zero (not
// drawn by a bootstrap resample) are dropped at construction.
class LseHuber {
 public:
  // nullopt unless the law's LseForm has two terms and E (Chinchilla's shape; the kernel itself
  // handles 1–2 terms with or without E, but only this shape is tested against the full grid).
  static std::optional<LseHuber> make(const HuberObjective& objective);

  // Scratch arrays for one evaluation; one per thread (evaluation is otherwise const).
  struct Workspace {
    Eigen::ArrayXd z[3], u[3], zmax, sum, r, rho1, rho2, kink, q, qk;
    long inside = 0;  // points with |r| ≤ δ at the last evaluation
  };
  // At most 6 parameters (2 terms + e); fixed capacity keeps the solver free of heap allocation.
  using Vec = Eigen::Matrix<double, Eigen::Dynamic, 1, 0, 6, 1>;
  using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, 0, 6, 6>;

  // Scaled objective (HuberObjective::scale() × Σ w·Huber); fills the scaled gradient g (dim)
  // and, when H is non-null, the scaled Hessian (dim × dim) and K (below). Non-finite input
  // gives +inf.
  //
  // K = Σ over points outside the kink of (δ/|r|)·∇r ∇rᵀ: the curvature of Huber's quadratic
  // majoriser there (the IRLS weight ρ'(r)/r), where the exact Hessian has none. Adding it to the
  // model while residuals still cross ±δ makes each Newton step anticipate the kinks ahead (an
  // L1-like objective's curvature sits at its kinks) instead of overshooting them.
  double eval(const Vec& theta, Vec& g, Mat* H, Mat* K, Workspace& ws) const;
  int dim() const { return dim_; }
  const HuberObjective& objective() const { return *objective_; }

 private:
  const HuberObjective* objective_ = nullptr;
  int dim_ = 0, terms_ = 0;  // terms_: z's per point including e
  int coef_[3] = {-1, -1, -1}, exponent_[3] = {-1, -1, -1};  // -1: no exponent (the e term)
  Eigen::ArrayXd logx_[2], y_, w_;
  double delta_ = 0, scale_ = 1;
};

// Minimises from `start`. Stops with kGradient when the scaled gradient norm is at most
// options.gradient_tolerance; with kStalled when the trust region has shrunk to rounding level
// (no step of any length lowers the objective: the point is a minimum to machine precision even
// though the gradient is above the tolerance, which happens with ~1e4 points where the gradient's
// own rounding exceeds it); kMaxIterations after options.max_iterations; kNonFinite when the
// start is not finite. `objective` (unscaled) and `gradient_norm` are those of the best point;
// the objective agrees with HuberObjective::value to rounding (summation order), and
// solve_from_starts recomputes the winner's with it so that both solvers report the same number.
// The trust-region steps: with the model Hessian H + K while the set of points inside the kink
// changes between iterates, with the exact H once it has settled (quadratic convergence there).
Optimum minimize_newton(const LseHuber& f, const std::vector<double>& start, const SolverOptions& options,
                        LseHuber::Workspace& ws);

}  // namespace scalinglab::fit
