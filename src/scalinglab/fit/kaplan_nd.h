#pragma once
// Kaplan et al. 2020, eq. 1.5 / 4.1: L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D.
// θ = (ln N_c, ln D_c, α_N, α_D); log L = α_D·LSE((α_N/α_D)(ln N_c − ln N), ln D_c − ln D).
#include "scalinglab/fit/law.h"

namespace scalinglab::fit {

class KaplanND : public Law {
 public:
  std::string name() const override { return "kaplan-nd"; }
  std::string formula() const override { return "L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D"; }
  std::vector<Variable> variables() const override { return {Variable::kN, Variable::kD}; }
  std::vector<std::string> internal_names() const override { return {"ln_N_c", "ln_D_c", "alpha_N", "alpha_D"}; }
  std::vector<std::string> param_names() const override { return {"N_c", "D_c", "alpha_N", "alpha_D"}; }
  double log_predict(const double* theta, const LogPoint& p, double* grad) const override;
  std::vector<double> to_public(const double* theta) const override;
  std::vector<double> to_internal(const std::vector<double>& pub) const override;
  std::vector<std::vector<double>> default_starts() const override;
  bool irreducible() const override { return false; }
  int internal_index_of(size_t i) const override { return i < 4 ? static_cast<int>(i) : -1; }
};

}  // namespace scalinglab::fit
