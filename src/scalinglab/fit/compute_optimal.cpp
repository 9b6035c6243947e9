#include "scalinglab/fit/compute_optimal.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace scalinglab::fit {

double golden_section_min(const std::function<double(double)>& f, double lo, double hi, double tol) {
  const double r = (std::sqrt(5.0) - 1) / 2;
  double a = hi - r * (hi - lo), b = lo + r * (hi - lo);
  double fa = f(a), fb = f(b);
  for (int i = 0; i < 200 && hi - lo > tol; ++i) {
    // Ties move the upper end: f is flat to rounding only within ~1e-8 of the minimum.
    if (fa <= fb) {
      hi = b, b = a, fb = fa;
      a = hi - r * (hi - lo), fa = f(a);
    } else {
      lo = a, a = b, fa = fb;
      b = lo + r * (hi - lo), fb = f(b);
    }
  }
  return fa <= fb ? a : b;
}

double bracketed_min(const std::function<double(double)>& f, double lo, double hi, int grid, bool interior) {
  int best = -1;
  double fbest = std::numeric_limits<double>::infinity();
  const double step = (hi - lo) / (grid - 1);
  for (int i = 0; i < grid; ++i) {
    double v = f(lo + i * step);
    if (v < fbest) fbest = v, best = i;  // NaN and +inf never win
  }
  if (best < 0) return NAN;
  if (interior && (best == 0 || best == grid - 1)) return NAN;
  const double a = lo + std::max(best - 1, 0) * step, b = lo + std::min(best + 1, grid - 1) * step;
  const double x = golden_section_min(f, a, b);
  // Golden section may settle on an end of its bracket; never return worse than the grid point.
  return f(x) <= fbest ? x : lo + best * step;
}

OptimalPoint numeric_optimum(const LossOfND& loss, double c) {
  // The whole range with N ≥ 1 and D ≥ 1 tokens: a data-constrained optimum can sit far from
  // √(C/6) at budgets many times what the unique tokens support.
  const double lo = 0, hi = std::log(c / 6);
  if (!(hi > 0.2)) return {};
  auto f = [&](double u) {
    const double n = std::exp(u);
    return loss(n, c / (6 * n));
  };
  // 0.1 in ln N (10% steps) is fine enough that no second basin of the data-constrained surface's
  // kink at U_N = N could hide between grid points; golden section then refines.
  const int grid = static_cast<int>((hi - lo) / 0.1) + 1;
  const double u = bracketed_min(f, lo, hi, std::max(grid, 3), true);
  if (!std::isfinite(u)) return {};
  const double n = std::exp(u);
  return {n, c / (6 * n), f(u)};
}

double min_compute_for_loss(const std::function<double(double)>& optimal_loss, double target) {
  double lo = std::log(1e2), hi = std::log(1e60);
  auto best = [&](double lc) { return optimal_loss(std::exp(lc)); };
  if (!(best(hi) <= target)) return NAN;
  if (best(lo) <= target) return std::exp(lo);
  for (int i = 0; i < 100 && hi - lo > 1e-12; ++i) {
    const double mid = 0.5 * (lo + hi);
    (best(mid) <= target ? hi : lo) = mid;
  }
  return std::exp(hi);
}

}  // namespace scalinglab::fit
