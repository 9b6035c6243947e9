#include "scalinglab/fit/sum_of_power_laws.h"

#include <algorithm>
#include <cmath>

namespace scalinglab::fit {

SumOfPowerLaws::SumOfPowerLaws(std::string name, std::string formula, std::vector<Term> terms, bool irreducible,
                               Style style, StartGrid grid)
    : name_(std::move(name)), formula_(std::move(formula)), terms_(std::move(terms)), irreducible_(irreducible),
      style_(style), grid_(std::move(grid)) {
  for (size_t j = 0; j < m(); ++j) separable_.exponent_index.push_back(static_cast<int>(exp_index(j)));
  separable_.coefficients = static_cast<int>(m() + (irreducible_ ? 1 : 0));
  for (size_t j = 0; j < m(); ++j)
    lse_.terms.push_back({static_cast<int>(j), static_cast<int>(exp_index(j)), terms_[j].variable});
  lse_.e = irreducible_ ? static_cast<int>(e_index()) : -1;
}

std::vector<Variable> SumOfPowerLaws::variables() const {
  std::vector<Variable> v;
  for (const auto& t : terms_) v.push_back(t.variable);
  return v;
}

std::vector<std::string> SumOfPowerLaws::internal_names() const {
  std::vector<std::string> names;
  for (const auto& t : terms_) names.push_back(t.coef_internal);
  if (irreducible_) names.push_back("e");
  for (const auto& t : terms_) names.push_back(t.exponent);
  return names;
}

std::vector<std::string> SumOfPowerLaws::param_names() const {
  std::vector<std::string> names;
  if (irreducible_) names.push_back(e_public_);
  for (const auto& t : terms_) names.push_back(t.coef_public);
  for (const auto& t : terms_) names.push_back(t.exponent);
  return names;
}

double SumOfPowerLaws::log_predict(const double* theta, const LogPoint& p, double* grad) const {
  // At most 2 power terms plus E in every law built on this class; a small fixed buffer
  // keeps the hot loop free of allocation.
  double z[8];
  const size_t k = m() + (irreducible_ ? 1 : 0);
  for (size_t j = 0; j < m(); ++j) z[j] = theta[j] - theta[exp_index(j)] * p.get(terms_[j].variable);
  if (irreducible_) z[m()] = theta[e_index()];
  double zmax = *std::max_element(z, z + k);
  double sum = 0;
  for (size_t j = 0; j < k; ++j) {
    z[j] = std::exp(z[j] - zmax);
    sum += z[j];
  }
  double lse = zmax + std::log(sum);
  if (grad) {
    for (size_t j = 0; j < m(); ++j) {
      double w = z[j] / sum;
      grad[j] = w;
      grad[exp_index(j)] = -w * p.get(terms_[j].variable);
    }
    if (irreducible_) grad[e_index()] = z[m()] / sum;
  }
  return lse;
}

std::vector<double> SumOfPowerLaws::to_public(const double* theta) const {
  std::vector<double> pub;
  if (irreducible_) pub.push_back(std::exp(theta[e_index()]));
  for (size_t j = 0; j < m(); ++j) {
    double alpha = theta[exp_index(j)];
    pub.push_back(style_ == Style::kCoefficient ? std::exp(theta[j]) : std::exp(theta[j] / alpha));
  }
  for (size_t j = 0; j < m(); ++j) pub.push_back(theta[exp_index(j)]);
  return pub;
}

std::vector<double> SumOfPowerLaws::to_internal(const std::vector<double>& pub) const {
  std::vector<double> theta(dim());
  size_t i = 0;
  if (irreducible_) theta[e_index()] = std::log(pub[i++]);
  const size_t first_exponent = i + m();
  for (size_t j = 0; j < m(); ++j) {
    double alpha = pub[first_exponent + j];
    theta[exp_index(j)] = alpha;
    double c = pub[i + j];
    theta[j] = style_ == Style::kCoefficient ? std::log(c) : alpha * std::log(c);
  }
  return theta;
}

std::vector<std::vector<double>> SumOfPowerLaws::default_starts() const {
  // Cartesian product: coefficient values for each term, then e, then exponents per term.
  std::vector<std::vector<double>> axes;
  for (size_t j = 0; j < m(); ++j) axes.push_back(grid_.coef);
  if (irreducible_) axes.push_back(grid_.e);
  for (size_t j = 0; j < m(); ++j) axes.push_back(grid_.exponent);
  std::vector<std::vector<double>> starts{{}};
  for (const auto& axis : axes) {
    std::vector<std::vector<double>> next;
    for (const auto& s : starts)
      for (double v : axis) {
        auto t = s;
        t.push_back(v);
        next.push_back(std::move(t));
      }
    starts = std::move(next);
  }
  return starts;
}

int SumOfPowerLaws::internal_index_of(size_t i) const {
  // Public order: [E], coefficients, exponents. A Kaplan-style X_c = e^(a/α) depends on two θ entries.
  if (irreducible_) {
    if (i == 0) return static_cast<int>(e_index());
    --i;
  }
  if (i < m()) return style_ == Style::kCoefficient ? static_cast<int>(i) : -1;
  i -= m();
  return i < m() ? static_cast<int>(exp_index(i)) : -1;
}

void SumOfPowerLaws::basis(const double* exponents, const LogPoint& p, double* phi) const {
  size_t i = 0;
  if (irreducible_) phi[i++] = 1.0;
  for (size_t j = 0; j < m(); ++j) phi[i++] = std::exp(-exponents[j] * p.get(terms_[j].variable));
}

std::vector<double> SumOfPowerLaws::from_separable(const double* coefficients, const double* exponents) const {
  // A coefficient of exactly zero (an active NNLS bound) has no logarithm; e^-700 is zero for
  // every practical purpose and keeps the LSE finite.
  auto safe_log = [](double c) { return std::log(std::max(c, 1e-300)); };
  std::vector<double> theta(dim());
  size_t i = 0;
  if (irreducible_) theta[e_index()] = safe_log(coefficients[i++]);
  for (size_t j = 0; j < m(); ++j) {
    theta[j] = safe_log(coefficients[i++]);
    theta[exp_index(j)] = exponents[j];
  }
  return theta;
}

}  // namespace scalinglab::fit
