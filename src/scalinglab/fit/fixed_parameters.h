#pragma once
// A law with some public parameters held at given values (`--fix NAME=VALUE`): the optimiser,
// bootstrap and JSON see only the free internal coordinates, while the public parameters (and
// so the JSON's `params`, `ci95`, the planner) still list every parameter, the fixed ones with a
// zero-width interval. Why: a parameter the data cannot identify (the data-constrained law's
// R_N* when no run has more parameters than its unique data can use; Muennighoff et al. 2023 fit
// R_D*, R_N* only after freezing the base law) is better held at a published value than left at
// whatever its start happened to be.
//
// Works for any law whose fixed parameters each map to exactly one internal coordinate
// (Law::internal_index_of); variable projection is not offered for a wrapped law.
#include <memory>

#include "scalinglab/fit/law.h"

namespace scalinglab::fit {

class FixedParameters : public Law {
 public:
  // Throws std::invalid_argument for a name that is not a public parameter of `inner` or that
  // cannot be fixed alone, and for a value whose internal transform is not finite (e.g. ≤ 0 for a
  // parameter fitted in logs).
  FixedParameters(std::unique_ptr<Law> inner, const std::vector<std::pair<std::string, double>>& fixed);

  std::string name() const override { return inner_->name(); }
  std::string formula() const override { return inner_->formula(); }
  std::vector<Variable> variables() const override { return inner_->variables(); }
  std::vector<std::string> internal_names() const override;
  std::vector<std::string> param_names() const override { return inner_->param_names(); }
  double log_predict(const double* theta, const LogPoint& p, double* grad) const override;
  std::vector<double> to_public(const double* theta) const override;
  std::vector<double> to_internal(const std::vector<double>& pub) const override;
  std::vector<std::vector<double>> default_starts() const override;
  std::vector<std::vector<double>> data_starts(const std::vector<LogPoint>& x,
                                               const std::vector<double>& log_loss) const override;
  int internal_index_of(size_t public_index) const override;
  std::vector<std::pair<std::string, double>> fixed() const override { return fixed_; }
  bool irreducible() const override { return inner_->irreducible(); }

 private:
  std::vector<double> expand(const double* free_theta) const;
  std::vector<double> reduce(const std::vector<double>& full) const;
  std::vector<std::vector<double>> reduce_starts(const std::vector<std::vector<double>>& full) const;

  std::unique_ptr<Law> inner_;
  std::vector<std::pair<std::string, double>> fixed_;
  std::vector<double> full_template_;  // inner θ with the fixed coordinates set
  std::vector<size_t> free_;           // inner θ indices that stay free
  size_t inner_dim_ = 0;
};

}  // namespace scalinglab::fit
