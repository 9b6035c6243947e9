#include "scalinglab/fit/fixed_parameters.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace scalinglab::fit {

FixedParameters::FixedParameters(std::unique_ptr<Law> inner, const std::vector<std::pair<std::string, double>>& fixed)
    : inner_(std::move(inner)), fixed_(fixed), inner_dim_(inner_->dim()) {
  if (inner_dim_ > 16) throw std::invalid_argument("law " + inner_->name() + " has too many parameters to fix some");
  const auto names = inner_->param_names();
  // The internal value of a fixed parameter: to_internal of any public vector with that value,
  // read at its one coordinate (no other public parameter moves it, by internal_index_of's contract).
  const auto starts = inner_->default_starts();
  std::vector<double> pub = inner_->to_public(starts.at(starts.size() / 2).data());
  std::vector<char> is_fixed(inner_dim_, 0);
  full_template_.assign(inner_dim_, 0);
  std::vector<std::pair<size_t, double>> at;
  for (const auto& [name, value] : fixed_) {
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      throw std::invalid_argument("law " + inner_->name() + " has no parameter '" + name + "' to fix (parameters: " +
                                  known + ")");
    }
    const size_t pi = static_cast<size_t>(it - names.begin());
    const int ii = inner_->internal_index_of(pi);
    if (ii < 0)
      throw std::invalid_argument("parameter '" + name + "' of law " + inner_->name() +
                                  " is a function of several internal parameters and cannot be fixed alone");
    if (is_fixed[static_cast<size_t>(ii)]) throw std::invalid_argument("parameter '" + name + "' is fixed twice");
    pub[pi] = value;
    at.emplace_back(static_cast<size_t>(ii), value);
    is_fixed[static_cast<size_t>(ii)] = 1;
  }
  const std::vector<double> internal = inner_->to_internal(pub);
  for (const auto& [ii, value] : at) {
    if (!std::isfinite(internal[ii]))
      throw std::invalid_argument("cannot fix " + inner_->internal_names()[ii] + " from the value " +
                                  std::to_string(value) + " (the law keeps it positive)");
    full_template_[ii] = internal[ii];
  }
  for (size_t j = 0; j < inner_dim_; ++j)
    if (!is_fixed[j]) free_.push_back(j);
}

std::vector<std::string> FixedParameters::internal_names() const {
  const auto all = inner_->internal_names();
  std::vector<std::string> out;
  for (size_t j : free_) out.push_back(all[j]);
  return out;
}

std::vector<double> FixedParameters::expand(const double* free_theta) const {
  std::vector<double> full = full_template_;
  for (size_t k = 0; k < free_.size(); ++k) full[free_[k]] = free_theta[k];
  return full;
}

std::vector<double> FixedParameters::reduce(const std::vector<double>& full) const {
  std::vector<double> out;
  for (size_t j : free_) out.push_back(full[j]);
  return out;
}

double FixedParameters::log_predict(const double* theta, const LogPoint& p, double* grad) const {
  // Small fixed buffers: laws have at most a handful of parameters, and this is the hot loop.
  double full[16], g[16];
  std::copy(full_template_.begin(), full_template_.end(), full);
  for (size_t k = 0; k < free_.size(); ++k) full[free_[k]] = theta[k];
  double v = inner_->log_predict(full, p, grad ? g : nullptr);
  if (grad)
    for (size_t k = 0; k < free_.size(); ++k) grad[k] = g[free_[k]];
  return v;
}

std::vector<double> FixedParameters::to_public(const double* theta) const {
  auto full = expand(theta);
  return inner_->to_public(full.data());
}

std::vector<double> FixedParameters::to_internal(const std::vector<double>& pub) const {
  return reduce(inner_->to_internal(pub));
}

std::vector<std::vector<double>> FixedParameters::reduce_starts(const std::vector<std::vector<double>>& full) const {
  // Starts that differed only in a fixed coordinate collapse into one.
  std::set<std::vector<double>> seen;
  std::vector<std::vector<double>> out;
  for (const auto& s : full) {
    auto r = reduce(s);
    if (seen.insert(r).second) out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::vector<double>> FixedParameters::default_starts() const {
  return reduce_starts(inner_->default_starts());
}

std::vector<std::vector<double>> FixedParameters::data_starts(const std::vector<LogPoint>& x,
                                                              const std::vector<double>& log_loss) const {
  return reduce_starts(inner_->data_starts(x, log_loss));
}

int FixedParameters::internal_index_of(size_t public_index) const {
  const int ii = inner_->internal_index_of(public_index);
  if (ii < 0) return -1;
  auto it = std::find(free_.begin(), free_.end(), static_cast<size_t>(ii));
  return it == free_.end() ? -1 : static_cast<int>(it - free_.begin());
}

}  // namespace scalinglab::fit
