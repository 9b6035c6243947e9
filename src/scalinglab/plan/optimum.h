#pragma once
// Optima of any loss surface L(N, D) under the training-compute identity C = 6ND. The Chinchilla
// form has closed forms (Hoffmann et al. 2022 eq. 4, fit/frontier.h); every other surface is
// solved numerically by the routines of fit/compute_optimal.h (the one copy, shared with
// fit::FittedLaw), which the tests hold against the closed forms.
#include <cmath>
#include <functional>

#include "scalinglab/fit/compute_optimal.h"
#include "scalinglab/plan/surface.h"

namespace scalinglab::plan {

using Optimum = fit::OptimalPoint;
using fit::bracketed_min;
using fit::golden_section_min;

// The minimum of L along C = 6ND, numerically (fit::numeric_optimum: a grid of 0.1 in ln N over
// N ≥ 1, D ≥ 1, then golden section). NaN fields when the minimum lies on an edge of that range.
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
