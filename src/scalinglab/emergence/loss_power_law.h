#pragma once
// The power law of a continuous metric's loss-like quantity q (metric_kind.h) against scale:
//
//   q(x) = offset + a·x^(−b)      (offset = 0 unless asked for)
//
// e.g. Schaeffer, Miranda & Koyejo 2023's per-token cross-entropy CE = (N/c)^α, α < 0, which is
// a = c^(−α), b = −α; or the first step of the two-step task forecast (task loss vs compute,
// Bhagia et al. 2024; Llama 3 §3.2.1). Without offset: ordinary least squares of ln q on ln x
// (fit::fit_power_law, multiplicative scatter). With offset (an irreducible floor): the offset is
// profiled over [0, min q) — a 64-point grid, then golden section in the best bracket — with a
// and b from the log-log fit of q − offset at each step, minimising Σ (ln q − ln q̂)².
#include <span>
#include <string>

namespace scalinglab::emergence {

struct LossPowerLaw {
  bool fitted = false;  // false: see note (a non-positive q, too few points, one scale)
  double a = 0.0 / 0.0, b = 0.0 / 0.0, offset = 0;
  bool with_offset = false;
  double r2 = 0.0 / 0.0;        // of ln q
  double rmse_log = 0.0 / 0.0;  // of ln q
  int n = 0;
  std::string note;
  double predict(double x) const;  // NaN when not fitted
  // The scale at which a·x^(−b) = 1, a^(1/b): Schaeffer et al.'s c (then α = −b).
  double unit_scale() const;
};

// x > 0 and q of equal length. Needs ≥ 2 points (≥ 4 with offset) at ≥ 2 distinct scales and
// every q > 0; otherwise returns fitted = false with a note. Throws std::invalid_argument on a
// size mismatch.
LossPowerLaw fit_loss_power_law(std::span<const double> x, std::span<const double> q, bool offset = false);

}  // namespace scalinglab::emergence
