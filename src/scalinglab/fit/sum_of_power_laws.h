#pragma once
// The family L = [E +] Σ_j A_j·X_j^(−α_j), fitted in the log-sum-exp form of Hoffmann et al. 2022
// (eq. 3/11): log L̂ = LSE(a_j − α_j·ln X_j, …, e), a_j = ln A_j, e = ln E. This one class covers
// Chinchilla's L(N, D), Kaplan's single-variable laws L = (X_c/X)^α (Kaplan et al. 2020,
// eqs. 1.1–1.3, where A = X_c^α) with or without an irreducible E, and the generic power law.
#include "scalinglab/fit/law.h"

namespace scalinglab::fit {

class SumOfPowerLaws : public Law {
 public:
  // How the coefficient of a term is reported: Chinchilla's A (= e^a) or Kaplan's X_c (= e^(a/α)).
  enum class Style { kCoefficient, kCriticalScale };
  struct Term {
    Variable variable;
    std::string coef_internal;  // "a"
    std::string coef_public;    // "A" or "N_c"
    std::string exponent;       // "alpha"
  };
  struct StartGrid {
    std::vector<double> coef, exponent, e;
  };

  SumOfPowerLaws(std::string name, std::string formula, std::vector<Term> terms, bool irreducible, Style style,
                 StartGrid grid);

  std::string name() const override { return name_; }
  std::string formula() const override { return formula_; }
  std::vector<Variable> variables() const override;
  std::vector<std::string> internal_names() const override;
  std::vector<std::string> param_names() const override;
  double log_predict(const double* theta, const LogPoint& p, double* grad) const override;
  std::vector<double> to_public(const double* theta) const override;
  std::vector<double> to_internal(const std::vector<double>& pub) const override;
  std::vector<std::vector<double>> default_starts() const override;
  const Separable* separable() const override { return &separable_; }
  const LseForm* lse_form() const override { return &lse_; }
  void basis(const double* exponents, const LogPoint& p, double* phi) const override;
  std::vector<double> from_separable(const double* coefficients, const double* exponents) const override;
  bool irreducible() const override { return irreducible_; }
  int internal_index_of(size_t public_index) const override;
  // Public name of the irreducible term (default "E"; the inference-scaling law calls it L_inf).
  void set_irreducible_name(std::string public_name) { e_public_ = std::move(public_name); }

 private:
  // θ layout: [a_1..a_m, e (if irreducible), α_1..α_m]
  size_t m() const { return terms_.size(); }
  size_t e_index() const { return m(); }
  size_t exp_index(size_t j) const { return m() + (irreducible_ ? 1 : 0) + j; }

  std::string name_, formula_, e_public_ = "E";
  std::vector<Term> terms_;
  bool irreducible_;
  Style style_;
  StartGrid grid_;
  Separable separable_;
  LseForm lse_;
};

}  // namespace scalinglab::fit
