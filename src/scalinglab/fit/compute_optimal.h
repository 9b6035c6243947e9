#pragma once
// Optima of any loss L(N, D) along the training-compute identity C = 6ND, the definition of
// "compute-optimal" of Hoffmann et al. 2022 (§2). Laws without a closed form (Kaplan et al. 2020
// eq. 1.5, the data-constrained law of Muennighoff et al. 2023) are solved numerically here; the
// Chinchilla form's closed forms live in fit/frontier.h and the tests hold these routines
// against them. Both the fitted-law object (fit/fitter.h) and the planner (plan/optimum.h) use
// this one copy.
#include <cmath>
#include <functional>

namespace scalinglab::fit {

struct OptimalPoint {
  double n = NAN, d = NAN, loss = NAN;
};

using LossOfND = std::function<double(double n, double d)>;

// Minimises f over [lo, hi] by golden-section search, assuming f unimodal there; returns the
// argmin. `tol` is the final bracket width.
double golden_section_min(const std::function<double(double)>& f, double lo, double hi, double tol = 1e-10);

// The minimiser of f over [lo, hi] when f may not be unimodal over the whole interval: the best of
// `grid` evenly spaced points, then golden section between its neighbours. NaN when the best grid
// point is an end of the interval (no interior minimum there) and `interior` is true.
double bracketed_min(const std::function<double(double)>& f, double lo, double hi, int grid, bool interior);

// The minimum of L along C = 6ND, found numerically over ln N: the best point of a grid of 0.1 in
// ln N over the whole range N ≥ 1, D ≥ 1 (robust bracketing), then golden section between its
// neighbours. NaN fields when the minimum lies on an edge of that range.
OptimalPoint numeric_optimum(const LossOfND& loss, double compute);

// The least compute C in [1e2, 1e60] FLOPs with optimal_loss(C) ≤ target, by bisection on ln C;
// optimal_loss must be non-increasing in C (a larger budget can always spend like a smaller one).
// NaN when even 1e60 FLOPs does not reach the target.
double min_compute_for_loss(const std::function<double(double)>& optimal_loss, double target);

}  // namespace scalinglab::fit
