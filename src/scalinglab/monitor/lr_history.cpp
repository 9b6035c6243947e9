#include "scalinglab/monitor/lr_history.h"

#include <algorithm>
#include <cmath>

namespace scalinglab::monitor {

LrHistory LrHistory::from_schedule(const train::ScheduleConfig& schedule, double lambda) {
  train::validate(schedule);
  LrHistory h(lambda);
  for (uint64_t s = 0; s < schedule.total_steps; ++s) h.push(train::learning_rate(schedule, s));
  return h;
}

LrHistory LrHistory::constant(uint64_t steps, double lambda) {
  LrHistory h(lambda);
  for (uint64_t s = 0; s < std::max<uint64_t>(steps, 1); ++s) h.push(1.0);
  return h;
}

void LrHistory::push(double lr) {
  double d = 0;
  if (lr >= peak_) {
    if (lr > peak_) peak_step_ = lr_.size();
    peak_ = lr;  // a new maximum (warmup): no annealing
  } else if (!lr_.empty()) {
    d = lr_.back() - lr;  // a decrease (or, below the peak, a re-warmup taking annealing back)
  }
  m_ = lambda_ * m_ + d;
  s1_.push_back(s1_.back() + lr);
  s2_.push_back(s2_.back() + m_);
  lr_.push_back(lr);
}

bool LrHistory::add(double step, double lr) {
  if (!std::isfinite(step) || !std::isfinite(lr) || !(lr > 0)) return false;
  const double s = std::round(step);
  if (s < 0 || (!lr_.empty() && s < static_cast<double>(lr_.size()))) return false;
  const uint64_t target = static_cast<uint64_t>(s);  // lr_[target] = lr
  if (lr_.empty()) {
    while (lr_.size() <= target) push(lr);
    return true;
  }
  const double last = lr_.back();
  const uint64_t from = lr_.size() - 1;
  while (lr_.size() <= target) {
    double f = static_cast<double>(lr_.size() - from) / static_cast<double>(target - from);
    push(last + f * (lr - last));
  }
  return true;
}

LrHistory LrHistory::continued(const LrHistory& plan) const {
  LrHistory h = *this;
  for (uint64_t s = h.lr_.size(); s < plan.steps(); ++s) h.push(plan.lr(s));
  return h;
}

double LrHistory::lr(uint64_t step) const {
  if (lr_.empty()) return NAN;
  return lr_[std::min<uint64_t>(step, lr_.size() - 1)];
}

double LrHistory::s1(double s) const {
  if (lr_.empty() || !(s > 0)) return 0;
  const double n = static_cast<double>(lr_.size());
  if (s >= n) return (s1_.back() + (s - n) * lr_.back()) / peak_;
  const size_t i = static_cast<size_t>(s);
  return (s1_[i] + (s - static_cast<double>(i)) * (s1_[i + 1] - s1_[i])) / peak_;
}

double LrHistory::s2(double s) const {
  if (lr_.empty() || !(s > 0)) return 0;
  const size_t n = lr_.size();
  if (s >= static_cast<double>(n)) {
    // No further change past the end: the momentum decays geometrically.
    const double k = s - static_cast<double>(n);
    const double tail = lambda_ < 1 ? m_ * lambda_ * (1 - std::pow(lambda_, k)) / (1 - lambda_) : m_ * k;
    return (s2_[n] + tail) / peak_;
  }
  const size_t i = static_cast<size_t>(s);
  return (s2_[i] + (s - static_cast<double>(i)) * (s2_[i + 1] - s2_[i])) / peak_;
}

}  // namespace scalinglab::monitor
