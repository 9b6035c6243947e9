#pragma once
// Model-free shape statistics of one curve y_0..y_{n−1} ordered by scale (BIG-bench, Srivastava
// et al. 2022, as quoted by Schaeffer, Miranda & Koyejo 2023):
//
//   I(y) = sign(argmax y − argmin y) · (max y − min y)
//   B(y) = I(y) / sqrt(median_i (y_{i+1} − y_i)²)         breakthroughness
//   L(y) = I(y) / sqrt(mean_i (y_{i+1} − y_i)²)           linearity
//
// and the emergence point by midpoint crossing. Conventions (docs/EMERGENCE.md):
// - lower-is-better metrics are negated first, so I > 0 always means "improves with scale";
// - argmax / argmin are the FIRST index attaining the extreme (numpy's argmax), so ties in y
//   resolve towards smaller scales; ties in scale are ordered by the caller (the analysis keeps
//   table order);
// - a flat curve (max = min) gives I = B = L = 0; a pure step (every step but one is 0) gives
//   B = ±inf (the median squared step is 0) while L stays finite (= sqrt(n − 1) for one step);
// - the median of an even number of squared steps is the mean of the middle two (numpy);
// - steps count scales in order and ignore their spacing: for evenly log-spaced scales a
//   straight line in log scale gives B = L = n − 1.
#include <span>
#include <string>
#include <vector>

#include "scalinglab/emergence/metric_kind.h"

namespace scalinglab::emergence {

struct Breakthrough {
  double I = 0;  // signed improvement, in the metric's units (after orientation)
  double B = 0;  // breakthroughness
  double L = 0;  // linearity
  int n = 0;     // points
};

// NaN fields when n < 2. Values must be finite (the analysis refuses the rest).
Breakthrough breakthrough(std::span<const double> y, bool higher_is_better);

// |B| / (n − 1): 1 for a straight line over evenly spaced scales, ±inf for a pure step, 0 flat.
// Comparable across curves with different numbers of scales. NaN when n < 2.
double sharpness(const Breakthrough& b);

// The series on which the verdict measures sharpness, and its name: discrete and unknown metrics
// as they are ("value"); continuous metrics as ln q of their loss-like quantity ("log_loss"),
// where a power law in evenly spaced scales is a straight line (sharpness 1) — a decelerating
// loss curve is not a breakthrough. Falls back to "value" when some q ≤ 0 (e.g. an edit
// distance that reaches 0).
struct SharpnessSeries {
  std::vector<double> y;
  bool higher_is_better = true;
  std::string basis;  // "value" or "log_loss"
};
SharpnessSeries sharpness_series(const MetricInfo& metric, std::span<const double> y);

// log10 x of the first crossing of the level (min y + max y)/2 in the direction of improvement
// (sign of I; independent of orientation), by linear interpolation in log10 x between the two
// bracketing points: the first i with z_i < level ≤ z_{i+1}, z = sign(I)·y. NaN when the curve is
// flat or has fewer than 2 points. log10_x must be ordered (ties allowed).
double midpoint_crossing(std::span<const double> log10_x, std::span<const double> y);

// Index of the first point after the crossing (i + 1 above), or −1 when there is none.
int first_index_after_crossing(std::span<const double> y);

}  // namespace scalinglab::emergence
