#pragma once
// The data-constrained scaling law of Muennighoff et al. 2023, "Scaling Data-Constrained Language
// Models" (arXiv:2305.16264, eqs. 5–7; parametric fit of their repo's README):
//
//   L = E + A/N'^α + B/D'^β
//   D' = U_D + U_D·R_D*·(1 − e^(−R_D/R_D*)),  R_D = D/U_D − 1   (repeated epochs decay)
//   N' = U_N + U_N·R_N*·(1 − e^(−R_N/R_N*)),  R_N = N/U_N − 1   (excess parameters decay)
//   U_N = min(N, N_opt(U_D)),  N_opt(U) = G·(U·G)^(β/α),  G = (αA/(βB))^(1/(α+β))
//
// U_D are the unique tokens, D the tokens seen; N_opt(U) is the compute-optimal parameter count of
// the law's own Chinchilla part for U tokens (Hoffmann et al. 2022 eq. 4 solved for N given D), so
// U_N depends on the fitted A, B, α, β. We keep that dependence (the paper fits the base law first
// and freezes it — fit/two_stage.h does the same, or fits all seven jointly) and differentiate through it: the min() is
// C¹ because ∂ln N'/∂ln U_N vanishes at R_N = 0. With U_D = D and N ≤ N_opt(D) the law is exactly
// Chinchilla's; runs with N > N_opt(U_D) see their extra parameters decay even at one epoch, as in
// the paper. For α ≤ 0 or β ≤ 0 (G undefined) U_N = N.
//
// θ = (a, b, e, α, β, ln R_D*, ln R_N*) with A, B, E = e^a, e^b, e^e; log L̂ is the log-sum-exp of
// (a − α ln N', b − β ln D', e) as in Hoffmann et al.'s eq. 3.
#include "scalinglab/fit/law.h"

namespace scalinglab::fit {

// ln X' for X' = U + U·R*·(1 − e^(−R/R*)), R = X/U − 1, and its partial derivatives in ln U, ln X
// and ln R*. Shared by D' (U = unique tokens, X = tokens) and N' (U = U_N, X = N).
struct EffectiveLog {
  double value = 0, d_log_unique = 0, d_log_total = 0, d_log_rstar = 0;
};
EffectiveLog effective_log(double log_unique, double log_total, double log_rstar);

// D' (or N') in plain numbers: saturates at U·(1 + R*) as X/U → ∞.
double effective_count(double unique, double total, double rstar);

class DataConstrained : public Law {
 public:
  std::string name() const override { return "data-constrained"; }
  std::string formula() const override {
    return "L = E + A/N'^alpha + B/D'^beta, D' = U + U*R_D_star*(1 - exp(-(D/U - 1)/R_D_star)), "
           "N' = U_N + U_N*R_N_star*(1 - exp(-(N/U_N - 1)/R_N_star)), U_N = min(N, N_opt(U))";
  }
  std::vector<Variable> variables() const override { return {Variable::kN, Variable::kD, Variable::kU}; }
  std::vector<std::string> internal_names() const override {
    return {"a", "b", "e", "alpha", "beta", "ln_R_D_star", "ln_R_N_star"};
  }
  std::vector<std::string> param_names() const override {
    return {"E", "A", "B", "alpha", "beta", "R_D_star", "R_N_star"};
  }
  double log_predict(const double* theta, const LogPoint& p, double* grad) const override;
  std::vector<double> to_public(const double* theta) const override;
  std::vector<double> to_internal(const std::vector<double>& pub) const override;
  std::vector<std::vector<double>> default_starts() const override;
  int internal_index_of(size_t public_index) const override;
  bool irreducible() const override { return true; }

  // ln N_opt(U) of the law's Chinchilla part for U unique tokens (see above); NaN for α, β ≤ 0.
  static double log_n_opt(const double* theta, double log_unique);
};

}  // namespace scalinglab::fit
