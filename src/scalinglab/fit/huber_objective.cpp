#include "scalinglab/fit/huber_objective.h"

#include <cmath>

namespace scalinglab::fit {

double huber(double r, double delta) {
  double a = std::fabs(r);
  return a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
}

double huber_derivative(double r, double delta) {
  if (r > delta) return delta;
  if (r < -delta) return -delta;
  return r;
}

HuberObjective::HuberObjective(const Law& law, const Problem& problem, const std::vector<double>* weights,
                               double delta, double scale)
    : law_(law), problem_(problem), weights_(weights), delta_(delta), scale_(scale > 0 ? scale : 1.0 / (delta * delta)) {}

double HuberObjective::value(const double* theta, double* grad) const {
  const size_t k = law_.dim();
  double g_point[16];
  double total = 0;
  if (grad)
    for (size_t j = 0; j < k; ++j) grad[j] = 0;
  for (size_t i = 0; i < problem_.size(); ++i) {
    double w = weights_ ? (*weights_)[i] : 1.0;
    if (w == 0) continue;
    double pred = law_.log_predict(theta, problem_.x[i], grad ? g_point : nullptr);
    double r = pred - problem_.log_loss[i];
    total += w * huber(r, delta_);
    if (grad) {
      double dr = w * huber_derivative(r, delta_);
      for (size_t j = 0; j < k; ++j) grad[j] += dr * g_point[j];
    }
  }
  return total;
}

}  // namespace scalinglab::fit
