#include "scalinglab/fit/multistart.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "scalinglab/fit/newton.h"

namespace scalinglab::fit {
namespace {

// Best optimum (ties broken by start order), counts, and the distinct optima.
MultiStartResult summarize(const std::vector<Optimum>& results, size_t keep_distinct) {
  MultiStartResult out;
  out.starts = static_cast<int>(results.size());
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
    if (!results[idx].converged()) continue;  // a screened start left unfinished is no optimum
    bool is_new = true;
    for (const auto& kept : out.distinct) {
      double diff = 0;
      for (size_t j = 0; j < kept.theta.size(); ++j)
        diff = std::max(diff, std::fabs(kept.theta[j] - results[idx].theta[j]));
      if (diff < 1e-3) is_new = false;
    }
    if (is_new) out.distinct.push_back(results[idx]);
  }
  // No start converged (e.g. all hit the iteration limit): the best point still seeds refits.
  if (out.distinct.empty() && std::isfinite(out.best.objective)) out.distinct.push_back(out.best);
  return out;
}

}  // namespace

MultiStartResult minimize_from_starts(const HuberObjective& objective, const std::vector<std::vector<double>>& starts,
                                      const SolverOptions& options, int threads, size_t keep_distinct) {
  const long n = static_cast<long>(starts.size());
  std::vector<Optimum> results(starts.size());
  int nthreads = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 8) num_threads(nthreads)
  for (long i = 0; i < n; ++i) results[i] = minimize(objective, starts[i], options);
  return summarize(results, keep_distinct);
}

MultiStartResult solve_from_starts(const HuberObjective& objective, const std::vector<std::vector<double>>& starts,
                                   const SolverOptions& options, int threads, size_t keep_distinct) {
  const std::optional<LseHuber> kernel = LseHuber::make(objective);
  if (!kernel) return minimize_from_starts(objective, starts, options, threads, keep_distinct);
  const long n = static_cast<long>(starts.size());
  std::vector<Optimum> results(starts.size());
  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
  const bool screen = options.screen_iterations > 0 && options.continue_best > 0 &&
                      static_cast<long>(options.continue_best) < n && options.screen_iterations < options.max_iterations;
  SolverOptions first = options;
  if (screen) first.max_iterations = options.screen_iterations;
  // Runs `todo` (indices) from `from` (their start points) with `o`, in parallel when worth it.
  auto run = [&](const std::vector<long>& todo, const SolverOptions& o, bool resume) {
    const long m = static_cast<long>(todo.size());
    auto one = [&](long j, LseHuber::Workspace& ws) {
      const long i = todo[static_cast<size_t>(j)];
      const int before = resume ? results[i].iterations : 0;
      results[i] = minimize_newton(*kernel, resume ? results[i].theta : starts[i], o, ws);
      results[i].iterations += before;
    };
    if (nthreads == 1 || m < 4) {
      LseHuber::Workspace ws;
      for (long j = 0; j < m; ++j) one(j, ws);
      return;
    }
#pragma omp parallel num_threads(nthreads)
    {
      LseHuber::Workspace ws;
#pragma omp for schedule(dynamic, 4)
      for (long j = 0; j < m; ++j) one(j, ws);
    }
  };
  std::vector<long> all(static_cast<size_t>(n));
  std::iota(all.begin(), all.end(), 0L);
  run(all, first, false);
  int continued = 0;
  if (screen) {
    std::vector<long> open;
    for (long i = 0; i < n; ++i)
      if (results[i].status == SolverStatus::kMaxIterations && std::isfinite(results[i].objective)) open.push_back(i);
    std::stable_sort(open.begin(), open.end(),
                     [&](long a, long b) { return results[a].objective < results[b].objective; });
    std::vector<long> picked;
    for (long i : open) {
      if (static_cast<int>(picked.size()) >= options.continue_best) break;
      bool is_new = true;
      for (long j : picked) {
        double diff = 0;
        for (size_t c = 0; c < results[i].theta.size(); ++c)
          diff = std::max(diff, std::fabs(results[i].theta[c] - results[j].theta[c]));
        if (diff < 1e-2) is_new = false;
      }
      if (is_new) picked.push_back(i);
    }
    SolverOptions rest = options;
    rest.max_iterations = options.max_iterations - options.screen_iterations;
    run(picked, rest, true);
    continued = static_cast<int>(picked.size());
  }
  MultiStartResult out = summarize(results, keep_distinct);
  if (std::isfinite(out.best.objective)) out.best.objective = objective.value(out.best.theta.data(), nullptr);
  out.screened = screen;
  out.continued = continued;
  return out;
}

}  // namespace scalinglab::fit
