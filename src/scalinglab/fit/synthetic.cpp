#include "scalinglab/fit/synthetic.h"

#include <cmath>
#include <memory>

#include "scalinglab/fit/frontier.h"
#include "scalinglab/fit/law.h"
#include "scalinglab/fit/problem.h"

namespace scalinglab::fit {

double ChinchillaParams::loss(double n, double d) const {
  // The formula is written once, as the registry's law (law_registry.cpp); this evaluates it.
  static const std::unique_ptr<Law> law = make_law("chinchilla");
  const std::vector<double> theta = law->to_internal({E, A, B, alpha, beta});
  return std::exp(law->log_predict(theta.data(), log_point(Run{n, d, 6 * n * d, 0, 1, 0}), nullptr));
}

uint64_t NormalStream::next_u64() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double NormalStream::uniform() { return (static_cast<double>(next_u64() >> 11) + 0.5) * 0x1.0p-53; }

double NormalStream::next() {
  if (have_spare_) {
    have_spare_ = false;
    return spare_;
  }
  // Box–Muller
  double u1 = uniform(), u2 = uniform();
  double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = r * std::sin(2 * M_PI * u2);
  have_spare_ = true;
  return r * std::cos(2 * M_PI * u2);
}

Dataset make_synthetic(const ChinchillaParams& t, const SyntheticDesign& design) {
  Dataset ds;
  ds.source = "synthetic";
  ds.has_n = ds.has_d = ds.has_c = true;
  NormalStream noise(design.seed);
  auto logspace = [](double lo, double hi, int k, int i) {
    return k == 1 ? lo : std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * i / (k - 1));
  };
  long line = 2;
  auto add = [&](double n, double d) {
    double loss = t.loss(n, d) * std::exp(design.noise * noise.next());
    ds.runs.push_back({n, d, 6 * n * d, 0, loss, line++});
  };
  if (design.kind == SyntheticDesign::Kind::kIsoFlop) {
    for (int b = 0; b < design.budgets; ++b) {
      double c = logspace(design.c_min, design.c_max, design.budgets, b);
      double n_opt = chinchilla_n_opt(t, c);
      for (int i = 0; i < design.per_budget; ++i) {
        double n = logspace(n_opt / design.n_span, n_opt * design.n_span, design.per_budget, i);
        add(n, c / (6 * n));
      }
    }
  } else {
    for (int i = 0; i < design.n_count; ++i) {
      double n = logspace(design.n_min, design.n_max, design.n_count, i);
      for (double r : design.tokens_per_param) add(n, r * n);
    }
  }
  return ds;
}

}  // namespace scalinglab::fit
