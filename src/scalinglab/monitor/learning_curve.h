#pragma once
// The learning curve of one run, L(D) = E + B·D^(−β) over tokens seen D (the data term of
// Hoffmann et al. 2022 eq. 2 with the model-size term folded into E; the `power` law of
// fit/law_registry), fitted to the points of a run with the project's fitting machinery: Huber
// loss on log loss, multi-start L-BFGS over the log-sum-exp parametrisation.
//
// Two stages: a first fit with the project's δ = 1e-3 (Hoffmann et al. 2022) gives robust
// residuals; their scale s (1.4826·MAD, Hampel 1974) sets δ = 1.345·s for the final fit
// (Huber 1964's tuning, 95% efficient for Gaussian noise yet robust to a spike). With δ at the
// noise scale the estimator's covariance is the M-estimator sandwich (Huber 1981, §7.6), taken
// in φ = (ln B, E, β) so that a fit at E → 0 keeps E uncertain (in e = ln E it would not):
//   Cov(φ) ≈ K² · [Σψ(r)²/(n−p)] / [mean ψ'(r)]² · (JᵀJ)⁻¹,  K = 1 + (p/n)·var(ψ')/mean(ψ')²,
// J the Jacobian of log L̂ in φ; the scale is floored by the classical RSS/(n−p), since with a
// dozen points the median-based scale can come out several times too small by chance.
// The band is the linearised prediction interval with Scheffé's simultaneous factor for the
// curve part (Scheffé 1953; the Working–Hotelling band of regression):
//   log L̂(D) ± sqrt(S²·g(D)ᵀ Cov g(D) + t²·σ̂²),  S = sqrt(p·F_level(p, n−p)), t = t_{n−p},
// σ̂² = Σψ²/(n−p) / mean(ψ')². Why simultaneous: the monitor compares many later evaluations
// with ONE extrapolated curve, so an error of the curve is shared by all of them and a pointwise
// band (t instead of S) flags ~5% of healthy runs after three consecutive misses
// (tests/monitor/test_detection.cpp measured it); S covers the whole curve at the level.
#include <cmath>
#include <string>
#include <vector>

#include "scalinglab/fit/law.h"

namespace scalinglab::monitor {

struct CurvePrediction {
  double value = NAN;                 // the fitted curve
  double ci_lo = NAN, ci_hi = NAN;    // the curve's uncertainty only
  double pi_lo = NAN, pi_hi = NAN;    // where one more evaluation is expected (adds the noise)
};

struct CurveFit {
  bool ok = false;
  std::string message;          // why not ok
  std::vector<double> theta;    // θ of the `power` law: [a = ln B, e = ln E, β]
  std::vector<double> cov;      // 3×3 row-major covariance of φ = (ln B, E, β) (see fit_learning_curve)
  double sigma = NAN;           // noise scale of log loss (σ̂ above)
  double delta = NAN;           // Huber δ of the final fit
  int points = 0, dof = 0;
  double E = NAN, B = NAN, beta = NAN;
  // Quantiles for the last level asked (at() is called for every evaluation and plot point).
  mutable double cached_level = NAN, cached_t = NAN, cached_s = NAN;

  // ci/pi at `level`; `simultaneous` uses Scheffé's S for the curve part (the monitor's band),
  // otherwise the pointwise t (the final-loss estimate, one prediction at one D).
  CurvePrediction at(double tokens, double level, bool simultaneous = true) const;
};

constexpr int kMinCurvePoints = 6;  // three parameters and at least three degrees of freedom

// Fits the curve to (tokens, loss) pairs (tokens > 0, finite loss > 0). `warm_start` (a previous
// θ) is tried first, with a smaller grid, which makes refits as a run goes cheap.
CurveFit fit_learning_curve(const std::vector<double>& tokens, const std::vector<double>& loss,
                            const std::vector<double>* warm_start = nullptr);

// The `power` law object the curve is expressed in (x = tokens).
const fit::Law& curve_law();

}  // namespace scalinglab::monitor
