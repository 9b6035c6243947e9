#include "scalinglab/fit/frontier.h"

#include <cmath>

namespace scalinglab::fit {

ChinchillaParams chinchilla_params(const Law& law, const std::vector<double>& theta) {
  const auto p = law.to_public(theta.data());  // E, A, B, alpha, beta
  return {p[0], p[1], p[2], p[3], p[4]};
}

double chinchilla_G(const ChinchillaParams& p) {
  return std::pow(p.alpha * p.A / (p.beta * p.B), 1.0 / (p.alpha + p.beta));
}
double chinchilla_a(const ChinchillaParams& p) { return p.beta / (p.alpha + p.beta); }
double chinchilla_b(const ChinchillaParams& p) { return p.alpha / (p.alpha + p.beta); }
double chinchilla_n_opt(const ChinchillaParams& p, double c) { return chinchilla_G(p) * std::pow(c / 6, chinchilla_a(p)); }
double chinchilla_d_opt(const ChinchillaParams& p, double c) { return std::pow(c / 6, chinchilla_b(p)) / chinchilla_G(p); }
double chinchilla_loss_opt(const ChinchillaParams& p, double c) {
  return p.loss(chinchilla_n_opt(p, c), chinchilla_d_opt(p, c));
}

double chinchilla_compute_for_loss(const ChinchillaParams& p, double target) {
  if (!(target > p.E)) return NAN;
  const double g = chinchilla_G(p);
  const double k = p.A * std::pow(g, -p.alpha) + p.B * std::pow(g, p.beta);
  return 6.0 * std::pow((target - p.E) / k, -(p.alpha + p.beta) / (p.alpha * p.beta));
}

}  // namespace scalinglab::fit
