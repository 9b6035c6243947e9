#pragma once
// Optima of any loss surface L(N, D) under the training-compute identity C = 6ND. The Chinchilla
// form has closed forms (Hoffmann et al. 2022 eq. 4; the inverse from Besiroglu et al. 2024's
// analysis); every other surface is solved numerically by the same routines, which the tests hold
// against the closed forms.
#include <cmath>
#include <functional>

#include "scalinglab/plan/surface.h"

namespace scalinglab::plan {

struct Optimum {
  double n = NAN, d = NAN, loss = NAN;
};

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
Optimum numeric_optimum(const Surface& s, double compute);

// The closed form where the surface has one, else numeric_optimum.
Optimum optimum(const Surface& s, double compute);

// The least compute whose optimum reaches `target` (closed form for the Chinchilla form, else
// bisection on ln C over [1e2, 1e60] FLOPs); NaN when no budget up to 1e60 FLOPs reaches it (at or
// below the irreducible loss, or the data-constrained saturation).
double min_compute_for_loss(const Surface& s, double target);

// The tokens D with L(N, D) = target at fixed N (closed forms for the Chinchilla and Kaplan forms,
// else bisection on ln D, L being decreasing in D); +inf when even D → ∞ cannot reach it.
double tokens_for_loss(const Surface& s, double n, double target);

}  // namespace scalinglab::plan
