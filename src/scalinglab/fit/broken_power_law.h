#pragma once
// Broken neural scaling law of Caballero et al. 2022, "Broken Neural Scaling Laws"
// (arXiv:2210.14891, eq. 1) with n = 1 or 2 breaks over the free variable x:
//
//   y = a + b·x^(−c0)·Π_i (1 + (x/d_i)^(1/f_i))^(−c_i·f_i)
//
// Far below d_1 the curve is a power law of slope c0; past break i the slope grows by c_i (so
// c0 + c1 after one break); f_i sets how sharp the break is (small f: sharp).
//
// Fitted like the other laws on log y with the Huber loss: log ŷ = LSE(ln a, ln b − c0·ln x −
// Σ_i c_i f_i·softplus((ln x − ln d_i)/f_i)), so the positive a, b, d_i, f_i live in logs and the
// slopes c_i are free (a negative c_i flattens the curve). θ = (ln a, ln b, c0, c1, ln d1, ln f1
// [, c2, ln d2, ln f2]).
//
// Starts depend on the data (data_starts): break locations at quantiles of the observed ln x and
// b matched to the smallest-x point, so the grid stays small (108 starts for one break, 216 for
// two) whatever the units of x. (Caballero et al.'s script brute-forces a 6-D grid instead.)
#include "scalinglab/fit/law.h"

namespace scalinglab::fit {

class BrokenPowerLaw : public Law {
 public:
  explicit BrokenPowerLaw(int breaks);

  std::string name() const override { return breaks_ == 1 ? "broken" : "broken-2"; }
  std::string formula() const override;
  std::vector<Variable> variables() const override { return {Variable::kX}; }
  std::vector<std::string> internal_names() const override;
  std::vector<std::string> param_names() const override;
  double log_predict(const double* theta, const LogPoint& p, double* grad) const override;
  std::vector<double> to_public(const double* theta) const override;
  std::vector<double> to_internal(const std::vector<double>& pub) const override;
  // Without data: break locations spread over ln x ∈ {5, 10, 15, 20} (x from ~1e2 to ~5e8).
  std::vector<std::vector<double>> default_starts() const override;
  std::vector<std::vector<double>> data_starts(const std::vector<LogPoint>& x,
                                               const std::vector<double>& log_loss) const override;
  int internal_index_of(size_t public_index) const override;
  bool irreducible() const override { return true; }

 private:
  // Starts with the given candidate break locations (ln d) and the point (ln x0, ln y0) that b is
  // matched to; y_floor = the smallest observed y (for the asymptote a).
  std::vector<std::vector<double>> grid(const std::vector<double>& log_breaks, double log_x0, double log_y0,
                                        double log_y_min) const;
  int breaks_;
};

}  // namespace scalinglab::fit
