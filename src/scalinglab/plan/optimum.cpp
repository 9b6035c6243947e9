#include "scalinglab/plan/optimum.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "scalinglab/fit/frontier.h"

namespace scalinglab::plan {

Optimum numeric_optimum(const Surface& s, double c) {
  return fit::numeric_optimum([&s](double n, double d) { return s.loss(n, d); }, c);
}

Optimum optimum(const Surface& s, double c) {
  if (!s.has_closed_form()) return numeric_optimum(s, c);
  const auto& p = s.chinchilla;
  const double n = fit::chinchilla_n_opt(p, c), d = fit::chinchilla_d_opt(p, c);
  return {n, d, s.loss(n, d)};
}

double min_compute_for_loss(const Surface& s, double target) {
  if (!(target > s.irreducible())) return NAN;
  if (s.has_closed_form()) return fit::chinchilla_compute_for_loss(s.chinchilla, target);
  return fit::min_compute_for_loss([&s](double c) { return optimum(s, c).loss; }, target);
}

double tokens_for_loss(const Surface& s, double n, double target) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (s.form == Surface::Form::kKaplan) {
    // [x + D_c/D]^α_D = L  ⇔  D = D_c / (L^(1/α_D) − x), x = (N_c/N)^(α_N/α_D).
    const auto& k = s.kaplan;
    const double room = std::pow(target, 1 / k.alpha_d) - std::pow(k.n_c / n, k.alpha_n / k.alpha_d);
    return room > 0 ? k.d_c / room : kInf;
  }
  if (!s.data) {
    const auto& p = s.chinchilla;
    const double room = target - p.E - p.A * std::pow(n, -p.alpha);
    return room > 0 ? std::pow(p.B / room, 1 / p.beta) : kInf;
  }
  // Data-constrained: L(N, D) decreases in D (D' and U_N both grow with D), so bisect on ln D.
  double lo = 0, hi = std::log(1e40);
  if (!(s.loss(n, std::exp(hi)) <= target)) return kInf;
  if (s.loss(n, 1.0) <= target) return 1.0;
  for (int i = 0; i < 200 && hi - lo > 1e-13; ++i) {
    const double mid = 0.5 * (lo + hi);
    (s.loss(n, std::exp(mid)) <= target ? hi : lo) = mid;
  }
  return std::exp(hi);
}

}  // namespace scalinglab::plan
