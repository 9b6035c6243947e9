#include "scalinglab/fit/broken_power_law.h"

#include <algorithm>
#include <cmath>

namespace scalinglab::fit {
namespace {

// ln(1 + e^z) without overflow, and its derivative σ(z).
double softplus(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }
double sigmoid(double z) { return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z)); }

// θ layout: [ln a, ln b, c0, then per break i: c_i, ln d_i, ln f_i]
constexpr size_t kLogA = 0, kLogB = 1, kC0 = 2;
size_t c_index(int i) { return 3 + 3 * static_cast<size_t>(i); }

}  // namespace

BrokenPowerLaw::BrokenPowerLaw(int breaks) : breaks_(breaks) {}

std::string BrokenPowerLaw::formula() const {
  return breaks_ == 1 ? "y = a + b*x^(-c0)*(1 + (x/d1)^(1/f1))^(-c1*f1)"
                      : "y = a + b*x^(-c0)*(1 + (x/d1)^(1/f1))^(-c1*f1)*(1 + (x/d2)^(1/f2))^(-c2*f2)";
}

std::vector<std::string> BrokenPowerLaw::internal_names() const {
  std::vector<std::string> n{"ln_a", "ln_b", "c0"};
  for (int i = 1; i <= breaks_; ++i) {
    auto k = std::to_string(i);
    n.insert(n.end(), {"c" + k, "ln_d" + k, "ln_f" + k});
  }
  return n;
}

std::vector<std::string> BrokenPowerLaw::param_names() const {
  std::vector<std::string> n{"a", "b", "c0"};
  for (int i = 1; i <= breaks_; ++i) {
    auto k = std::to_string(i);
    n.insert(n.end(), {"c" + k, "d" + k, "f" + k});
  }
  return n;
}

double BrokenPowerLaw::log_predict(const double* th, const LogPoint& p, double* grad) const {
  const double lx = p.x;
  // z = ln(b·x^−c0·Π…) = ln b − c0·ln x − Σ c_i f_i·softplus(u_i), u_i = (ln x − ln d_i)/f_i.
  double z = th[kLogB] - th[kC0] * lx;
  double dz[9] = {0, 1, -lx, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < breaks_; ++i) {
    const size_t ci = c_index(i);
    const double c = th[ci], f = std::exp(th[ci + 2]);
    const double u = (lx - th[ci + 1]) / f;
    const double sp = softplus(u), sg = sigmoid(u);
    z -= c * f * sp;
    dz[ci] = -f * sp;                   // ∂z/∂c_i
    dz[ci + 1] = c * sg;                // ∂z/∂ln d_i: −c f σ(u)·(−1/f)
    dz[ci + 2] = -c * f * (sp - sg * u);  // ∂z/∂ln f_i: ∂u/∂ln f = −u
  }
  const double ea = th[kLogA];
  const double m = std::max(ea, z);
  const double wa = std::exp(ea - m), wz = std::exp(z - m);
  if (grad) {
    const double pa = wa / (wa + wz), pz = wz / (wa + wz);
    const size_t k = 3 + 3 * static_cast<size_t>(breaks_);
    for (size_t j = 0; j < k; ++j) grad[j] = pz * dz[j];
    grad[kLogA] = pa;
  }
  return m + std::log(wa + wz);
}

std::vector<double> BrokenPowerLaw::to_public(const double* th) const {
  std::vector<double> p{std::exp(th[kLogA]), std::exp(th[kLogB]), th[kC0]};
  for (int i = 0; i < breaks_; ++i) {
    const size_t ci = c_index(i);
    p.insert(p.end(), {th[ci], std::exp(th[ci + 1]), std::exp(th[ci + 2])});
  }
  return p;
}

std::vector<double> BrokenPowerLaw::to_internal(const std::vector<double>& pub) const {
  std::vector<double> t{std::log(pub[0]), std::log(pub[1]), pub[2]};
  for (int i = 0; i < breaks_; ++i) {
    const size_t ci = c_index(i);
    t.insert(t.end(), {pub[ci], std::log(pub[ci + 1]), std::log(pub[ci + 2])});
  }
  return t;
}

int BrokenPowerLaw::internal_index_of(size_t i) const {
  return i < 3 + 3 * static_cast<size_t>(breaks_) ? static_cast<int>(i) : -1;  // same order, each public parameter maps to one θ entry
}

std::vector<std::vector<double>> BrokenPowerLaw::grid(const std::vector<double>& log_breaks, double log_x0,
                                                      double log_y0, double log_y_min) const {
  std::vector<std::vector<double>> starts;
  // Asymptote a well below or just below the smallest y; b so that a + b·x0^−c0 ≈ y0 (the
  // break factors are ≈ 1 left of the breaks).
  const std::vector<double> log_a{log_y_min - 2.3, log_y_min - 0.36};
  const std::vector<double> c0s = breaks_ == 1 ? std::vector<double>{0.1, 0.5, 1.0} : std::vector<double>{0.1, 0.5};
  const std::vector<double> cs{-0.3, 0.5, 1.5};
  auto log_b_for = [&](double la, double c0) {
    const double y0 = std::exp(log_y0), a = std::exp(la);
    return std::log(std::max(y0 - a, 0.5 * y0)) + c0 * log_x0;
  };
  for (double la : log_a)
    for (double c0 : c0s) {
      const double lb = log_b_for(la, c0);
      if (breaks_ == 1) {
        for (double c1 : cs)
          for (double ld : log_breaks)
            for (double f : {0.25, 1.0}) starts.push_back({la, lb, c0, c1, ld, std::log(f)});
      } else {
        for (size_t i = 0; i < log_breaks.size(); ++i)
          for (size_t j = i + 1; j < log_breaks.size(); ++j)
            for (double c1 : cs)
              for (double c2 : cs)
                starts.push_back({la, lb, c0, c1, log_breaks[i], std::log(0.5), c2, log_breaks[j], std::log(0.5)});
      }
    }
  return starts;
}

std::vector<std::vector<double>> BrokenPowerLaw::default_starts() const {
  return grid(breaks_ == 1 ? std::vector<double>{5, 10, 15} : std::vector<double>{5, 10, 15, 20}, 0, 0, -1);
}

std::vector<std::vector<double>> BrokenPowerLaw::data_starts(const std::vector<LogPoint>& x,
                                                             const std::vector<double>& log_loss) const {
  if (x.size() < 2 || x.size() != log_loss.size()) return default_starts();
  std::vector<double> lx;
  size_t first = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    lx.push_back(x[i].x);
    if (x[i].x < x[first].x) first = i;
  }
  std::sort(lx.begin(), lx.end());
  auto quantile = [&](double q) { return lx[static_cast<size_t>(std::lround(q * static_cast<double>(lx.size() - 1)))]; };
  const std::vector<double> qs = breaks_ == 1 ? std::vector<double>{0.25, 0.5, 0.75} : std::vector<double>{0.2, 0.4, 0.6, 0.8};
  std::vector<double> log_breaks;
  for (double q : qs) log_breaks.push_back(quantile(q));
  const double log_y_min = *std::min_element(log_loss.begin(), log_loss.end());
  return grid(log_breaks, x[first].x, log_loss[first], log_y_min);
}

}  // namespace scalinglab::fit
