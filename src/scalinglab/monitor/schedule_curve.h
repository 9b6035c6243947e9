#pragma once
// The loss curve a run's learning-rate schedule gives: the LR-annealing law of Tissue et al. 2024
// ("Scaling Law with Learning Rate Annealing", arXiv:2408.11029, eq. 1)
//   L(s) = L0 + A·S1(s)^(−α) − C·S2(s)
// over the areas S1, S2 of the schedule (monitor/lr_history.h), fitted to a run's early
// evaluations and extrapolated along the schedule: a cooldown (WSD's decay, the end of a cosine)
// is then predicted, not flagged as "off the curve".
//
// Constraints (physically meaningful, always): L0 ≥ 0, A ≥ 0, C ≥ 0 and α in [0.02, 3]. For a
// given α the law is linear in (L0, A, C): it is solved exactly by non-negative least squares
// over the 8 active sets (variable projection), and α by a grid plus golden-section search, so the
// optimum is global in (L0, A, C) for every α and no start can be missed.
//
// The annealing coefficient C cannot be told from a window whose lr never decreases (the stable
// phase of WSD, a constant schedule). A prior then fills it in: the relative loss drop that a
// reference anneal (a linear decay to zero over the last 20% of `reference_steps`) would give,
// q = C·S2_ref / L_ref, has mean `drop` and sd `drop_sd` — measured on the project's own runs
// (docs/MONITOR.md). The prior enters as one more observation, so a window that does see a
// decrease (a cosine run after its warmup) overrides it with data, and its uncertainty flows into
// the band: a cooldown is predicted with the width the prior honestly has.
//
// Residuals are relative ((L − L̂)/L̂ ≈ the log residual); Huber's ψ at δ = 1.345·s (s the
// residual scale, 1.4826·MAD; Huber 1964) by iteratively reweighted least squares, so a spike in
// the window does not bend the curve. Covariance of (L0, A, C, α) is the Gauss–Newton inverse of
// the weighted normal matrix with the prior row; the band is
//   log L̂ ± sqrt(S²·gᵀ Cov g / L̂² + t²·σ̂²)
// with Scheffé's simultaneous S for the curve part (one curve is compared with many later
// evaluations; see learning_curve.h) and Student's t for one evaluation's noise.
#include <array>
#include <cmath>
#include <string>
#include <vector>

namespace scalinglab::monitor {

struct CurvePrediction {
  double value = NAN;               // the fitted curve
  double ci_lo = NAN, ci_hi = NAN;  // the curve's uncertainty only
  double pi_lo = NAN, pi_hi = NAN;  // where one more evaluation is expected (adds the noise)
};

constexpr int kMinCurvePoints = 6;  // four parameters (three when the prior holds C) and two+ degrees of freedom

struct AnnealPrior {
  double drop = 0.055;    // mean relative drop of the reference anneal
  double drop_sd = 0.015;  // its sd
};

struct ScheduleFitOptions {
  double lambda = 0.999;  // annealing momentum per step (Tissue et al.'s value)
  AnnealPrior prior;
  double s2_ref = 0;      // S2 at the end of the reference anneal; ≤ 0: no prior
};

struct ScheduleFit {
  bool ok = false;
  std::string message;  // why not ok
  double L0 = NAN, A = NAN, alpha = NAN, C = NAN;
  std::array<double, 16> cov{};  // of (L0, A, C, α), row-major
  double sigma = NAN;            // relative noise of one evaluation (inflated for autocorrelation)
  double rho = 0;                // lag-1 autocorrelation of the residuals (≥ 0)
  double delta = NAN;            // Huber δ of the final fit
  int points = 0, dof = 0;
  bool anneal_identified = false;  // the window saw an lr decrease (else C is the prior's)
  double drop_ref = NAN;           // C·S2_ref/L_ref: the fitted reference-anneal drop
  mutable double cached_level = NAN, cached_t = NAN, cached_s = NAN;

  double value(double s1, double s2) const;
  CurvePrediction at(double s1, double s2, double level, bool simultaneous = true) const;
};

// Fits the law to evaluations (s1[i], s2[i], loss[i]) (s1 > 0, finite loss > 0; others are
// skipped). Needs kMinCurvePoints points.
ScheduleFit fit_schedule_curve(const std::vector<double>& s1, const std::vector<double>& s2,
                               const std::vector<double>& loss, const ScheduleFitOptions& options);

}  // namespace scalinglab::monitor
