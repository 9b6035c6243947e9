#pragma once
// The 4-parameter logistic of an emergence curve (the sigmoid of Wei et al. 2022's plots; also
// the second step of the two-step task forecast, Bhagia et al. 2024):
//
//   y(t) = floor + (ceiling − floor) / (1 + exp(−k·(t − x0))),   k ≥ 0,
//
// with t = log10 of the scale (or the task loss in the two-step forecast). `floor` is the
// asymptote at small t and `ceiling` the one at large t, so a falling curve has floor > ceiling
// and k stays non-negative (the (floor, ceiling, k) ↔ (ceiling, floor, −k) symmetry removed).
//
// Fit: least squares by variable projection — for fixed (x0, k) the model is linear in
// (floor, ceiling), solved exactly under box bounds — so only (x0, ln k) is searched: a 41 × 25
// grid over the whole box (the multi-start), then Nelder–Mead from the three best distinct grid
// cells; the lowest sum of squares wins (ties: first start). Derivative-free on purpose: at the
// step limit (k → k_max) the Jacobian in x0 vanishes between two scales and Gauss–Newton stalls.
// Search box (t_min, t_max the data range, span = t_max − t_min, g the smallest gap between
// distinct t):
//   x0 ∈ [t_min − span, t_max + span];  k ∈ [0.1/span, 40/g]
//   floor, ceiling ∈ the metric's range when it is bounded (accuracy: [0, 1]), else within
//   2 × (y range) of the data (an unbounded asymptote is not identified and would run away).
// At k_max the curve is a step (σ(±20) at the neighbouring scales): x0 is then located only
// between the two scales that bracket the jump. At k_min or with x0 outside the data the curve
// shows no sigmoid inside the observed range.
//
// Bootstrap interval for x0 (`coverage`, default 95%), two schemes, each replicate seeded by
// fit::resample_seed(seed, b) through SplitMix64 (model/rng.h), so results do not depend on threads:
//   kResiduals (default): y* = ŷ + r*, r* drawn with replacement from the centred modified
//     residuals r_i / sqrt(1 − h_ii) (leverages of the linearised fit over the parameters not at a
//     bound; Davison & Hinkley 1997, eq. 6.9); needs n ≥ 5. The percentile interval treats the
//     residual spread as known, which it is not with n − p residual degrees of freedom (it covered
//     0.76 at n = 6), so each side is widened about x̂0 by t_{n−p, q} / z_q, as a t interval would
//     be.
//   kCases: n points drawn with replacement, plain percentile interval; replicates with fewer
//     than 4 distinct scales are skipped (counted in bootstrap_used). Conservative.
// Each replicate refits from a 9 × 7 grid plus the full-data optimum. The measured coverage of
// both schemes is in docs/EMERGENCE.md (tests/emergence/test_logistic.cpp measures it).
#include <cstdint>
#include <span>
#include <string>

namespace scalinglab::emergence {

struct Logistic {
  double floor = 0, ceiling = 0, x0 = 0, k = 0;
  // floor when k is 0 or not finite (a flat fit).
  double operator()(double t) const;
};

enum class BootstrapKind { kResiduals, kCases };
const char* to_string(BootstrapKind k);  // "residuals", "cases"
// Inverse of to_string; throws std::invalid_argument naming `field` otherwise.
BootstrapKind bootstrap_kind_from(const std::string& text, const std::string& field = "bootstrap_kind");

struct LogisticOptions {
  double lo = -1.0 / 0.0, hi = 1.0 / 0.0;  // natural range of floor and ceiling (e.g. 0, 1)
  int bootstrap = 0;                        // replicates for the x0 interval; 0: none
  BootstrapKind bootstrap_kind = BootstrapKind::kResiduals;
  std::uint64_t seed = 1;
  double coverage = 0.95;
  // Refit near a known optimum (e.g. of the full data, when refitting a resample elsewhere): the
  // coarse 9 × 7 grid plus a simplex from this start, as the bootstrap replicates do, instead of
  // the full multi-start search. nullptr: the full search.
  const Logistic* warm_start = nullptr;
};

struct LogisticFit {
  // false: fewer than 4 points or 3 distinct scales, or a flat curve (then p is the constant
  // mean, k = 0, x0 NaN, so predictions still work). `note` says why.
  bool fitted = false;
  Logistic p;
  double sse = 0, rmse = 0;
  int n = 0;
  double k_min = 0, k_max = 0;   // the search box in k
  bool k_at_max = false;         // a step: x0 only located between two scales
  bool k_at_min = false;         // no sigmoid in range (nearly linear)
  bool x0_inside = false;        // t_min ≤ x0 ≤ t_max
  double x0_lo = 0.0 / 0.0, x0_hi = 0.0 / 0.0;  // bootstrap interval (NaN: none)
  int bootstrap_requested = 0, bootstrap_used = 0;
  std::string note;
  // Width of the 10%–90% rise in t: 2·ln 9 / k (inf when k = 0).
  double rise_width() const;
};

// t and y of equal length (finite); t need not be sorted. Throws std::invalid_argument on a size
// mismatch or non-finite input. Never fails otherwise: see `fitted`.
LogisticFit fit_logistic(std::span<const double> t, std::span<const double> y, const LogisticOptions& options = {});

}  // namespace scalinglab::emergence
