#include "scalinglab/fit/multistart.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace scalinglab::fit {

MultiStartResult minimize_from_starts(const HuberObjective& objective, const std::vector<std::vector<double>>& starts,
                                      const SolverOptions& options, int threads, size_t keep_distinct) {
  const long n = static_cast<long>(starts.size());
  std::vector<Optimum> results(starts.size());
  int nthreads = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 8) num_threads(nthreads)
  for (long i = 0; i < n; ++i) results[i] = minimize(objective, starts[i], options);

  MultiStartResult out;
  out.starts = static_cast<int>(n);
  std::vector<size_t> order(results.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return results[a].objective < results[b].objective; });
  if (order.empty()) return out;
  out.best = results[order[0]];
  const double tol = 1e-6 * std::max(1e-12, std::fabs(out.best.objective));
  for (const auto& r : results) {
    out.converged += r.converged() ? 1 : 0;
    out.at_best += (std::isfinite(r.objective) && r.objective - out.best.objective <= tol) ? 1 : 0;
  }
  // Distinct optima: differ from every kept one by more than 1e-3 in some coordinate.
  for (size_t idx : order) {
    if (out.distinct.size() >= keep_distinct || !std::isfinite(results[idx].objective)) break;
    bool is_new = true;
    for (const auto& kept : out.distinct) {
      double diff = 0;
      for (size_t j = 0; j < kept.theta.size(); ++j)
        diff = std::max(diff, std::fabs(kept.theta[j] - results[idx].theta[j]));
      if (diff < 1e-3) is_new = false;
    }
    if (is_new) out.distinct.push_back(results[idx]);
  }
  return out;
}

}  // namespace scalinglab::fit
