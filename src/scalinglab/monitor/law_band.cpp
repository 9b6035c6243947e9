#include "scalinglab/monitor/law_band.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "scalinglab/fit/problem.h"

namespace scalinglab::monitor {

double select_quantile(std::vector<double>& v, double q) {
  if (v.empty()) return NAN;
  const double h = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(lo), v.end());
  double a = v[lo];
  if (lo + 1 >= v.size()) return a;
  double b = *std::min_element(v.begin() + static_cast<long>(lo) + 1, v.end());
  return a + (h - static_cast<double>(lo)) * (b - a);
}

LawBand::LawBand(std::shared_ptr<const fit::FittedLaw> fit, double params, double level)
    : fit_(std::move(fit)), params_(params), level_(level) {
  if (!fit_ || !fit_->model) throw std::invalid_argument("the fit holds no law");
  for (fit::Variable v : fit_->model->variables()) {
    if ((v == fit::Variable::kN || v == fit::Variable::kC) && !(params_ > 0))
      throw std::invalid_argument("law " + fit_->model->name() + " needs the run's parameter count: give --params N");
  }
  if (fit_->bootstrap_theta.size() < 2)
    throw std::invalid_argument("the fit has no bootstrap replicates, so it gives no band; rerun `scalinglab fit` with --bootstrap K (K ≥ 100) and --json");
  log_residuals_ = fit_->log_residuals();
  if (log_residuals_.empty()) throw std::invalid_argument("the fit has no residuals, so it gives no band");
}

Band LawBand::at(double tokens) const {
  // The run's variables: D = tokens so far, C = 6ND; a `power` law reads x as tokens.
  fit::Run r{params_, tokens, 6 * params_ * tokens, tokens, 1, 0};
  fit::LogPoint p = fit::log_point(r);
  const fit::Law& law = *fit_->model;
  Band b;
  b.predicted = std::exp(law.log_predict(fit_->theta.data(), p, nullptr));
  // As fit::prediction_interval: every replicate paired with residuals in a fixed stride pattern.
  const auto& reps = fit_->bootstrap_theta;
  const auto& res = log_residuals_;
  const size_t per = std::max<size_t>(1, 2000 / reps.size());
  std::vector<double> draws;
  draws.reserve(reps.size() * per);
  for (size_t i = 0; i < reps.size(); ++i) {
    double mean = law.log_predict(reps[i].data(), p, nullptr);
    for (size_t j = 0; j < per; ++j) draws.push_back(std::exp(mean - res[(i * 7919 + j * 104729) % res.size()]));
  }
  b.lo = select_quantile(draws, 0.5 - level_ / 2);
  b.hi = select_quantile(draws, 0.5 + level_ / 2);
  return b;
}

}  // namespace scalinglab::monitor
