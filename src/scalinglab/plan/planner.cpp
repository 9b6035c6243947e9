#include "scalinglab/plan/planner.h"

#include <array>
#include <cmath>
#include <stdexcept>

#include "scalinglab/fit/frontier.h"

namespace scalinglab::plan {

std::vector<std::string> preset_law_names() { return {"chinchilla", "epoch"}; }

fit::ChinchillaParams preset_law(const std::string& name) {
  if (name == "chinchilla") return {1.69, 406.4, 410.7, 0.34, 0.28};           // Hoffmann et al. 2022 eq. 10
  if (name == "epoch") return {1.8172, 482.01, 2085.43, 0.3478, 0.3658};      // Besiroglu et al. 2024
  throw std::invalid_argument("unknown law preset '" + name + "' (known: chinchilla, epoch, or a fit JSON file)");
}

Allocation optimal_allocation(const PlanLaw& law, double c) {
  auto one = [c](const fit::ChinchillaParams& p) {
    const double n = fit::chinchilla_n_opt(p, c), d = fit::chinchilla_d_opt(p, c);
    return std::array<double, 4>{n, d, d / n, p.loss(n, d)};
  };
  auto v = one(law.point);
  std::array<std::vector<double>, 4> reps;
  for (const auto& r : law.replicates) {
    auto x = one(r);
    for (size_t i = 0; i < 4; ++i) reps[i].push_back(x[i]);
  }
  Allocation a;
  a.compute = c;
  a.n = fit::summarize(v[0], reps[0]);
  a.d = fit::summarize(v[1], reps[1]);
  a.tokens_per_param = fit::summarize(v[2], reps[2]);
  a.loss = fit::summarize(v[3], reps[3]);
  return a;
}

double compute_for_loss(const fit::ChinchillaParams& p, double target) {
  // L*(C) − E = (A·G^−α + B·G^β)·(C/6)^(−αβ/(α+β)), solved for C.
  const double dl = target - p.E;
  if (!(dl > 0)) return NAN;
  const double g = fit::chinchilla_G(p);
  const double k = p.A * std::pow(g, -p.alpha) + p.B * std::pow(g, p.beta);
  return 6.0 * std::pow(dl / k, -(p.alpha + p.beta) / (p.alpha * p.beta));
}

FixedSize fixed_size(const fit::ChinchillaParams& p, double n, double c) {
  FixedSize f;
  f.n = n;
  f.d = c / (6.0 * n);
  f.loss = p.loss(n, f.d);
  f.optimal_loss = fit::chinchilla_loss_opt(p, c);
  f.loss_penalty = f.loss - f.optimal_loss;
  f.compute_overhead = c / compute_for_loss(p, f.loss) - 1.0;
  return f;
}

}  // namespace scalinglab::plan
