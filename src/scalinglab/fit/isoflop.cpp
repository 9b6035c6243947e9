#include "scalinglab/fit/isoflop.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <omp.h>
#include <random>
#include <stdexcept>
#include "scalinglab/fit/identifiability.h"

namespace scalinglab::fit {
namespace {

nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

// Two sizes count as the same model when they agree to 1e-9 relative (exported configs often
// round parameter counts slightly differently between runs of the same model).
size_t count_distinct(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t distinct = 0;
  for (size_t i = 0; i < v.size(); ++i)
    if (i == 0 || v[i] > v[i - 1] * (1 + 1e-9)) ++distinct;
  return distinct;
}

void validate(const std::vector<Run>& runs) {
  for (size_t i = 0; i < runs.size(); ++i) {
    const Run& r = runs[i];
    auto where = [&] {
      return "run " + std::to_string(i) + (r.line > 0 ? " (line " + std::to_string(r.line) + ")" : std::string());
    };
    if (!(std::isfinite(r.n) && r.n > 0)) throw std::invalid_argument("isoflop: " + where() + " has no positive N");
    if (!(std::isfinite(r.c) && r.c > 0)) throw std::invalid_argument("isoflop: " + where() + " has no positive C");
    if (!(std::isfinite(r.loss) && r.loss > 0))
      throw std::invalid_argument("isoflop: " + where() + " has no positive finite loss");
  }
}

std::vector<std::vector<size_t>> group_by_id(const std::vector<Run>& runs, const std::vector<long>& ids) {
  std::map<long, std::vector<size_t>> by_id;
  for (size_t i = 0; i < runs.size(); ++i) by_id[ids[i]].push_back(i);
  std::vector<std::pair<double, long>> order;
  for (const auto& [id, members] : by_id) {
    double lc = 0;
    for (size_t m : members) lc += std::log(runs[m].c);
    order.emplace_back(lc / static_cast<double>(members.size()), id);
  }
  std::sort(order.begin(), order.end());
  std::vector<std::vector<size_t>> groups;
  for (const auto& o : order) groups.push_back(by_id[o.second]);
  return groups;
}

const char* code(SkipReason r) {
  switch (r) {
    case SkipReason::kNone: return "none";
    case SkipReason::kTooFewDistinctN: return "too_few_distinct_n";
    case SkipReason::kNonPositiveCurvature: return "non_positive_curvature";
    case SkipReason::kMinimumAtEdge: return "minimum_at_edge";
  }
  return "unknown";
}

}  // namespace

const char* to_string(SkipReason r) {
  switch (r) {
    case SkipReason::kNone: return "";
    case SkipReason::kTooFewDistinctN: return "fewer than 3 distinct N";
    case SkipReason::kNonPositiveCurvature: return "parabola has no minimum (curvature <= 0)";
    case SkipReason::kMinimumAtEdge: return "minimum outside the sampled N range";
  }
  return "?";
}

std::vector<std::vector<size_t>> group_by_compute(const std::vector<Run>& runs, double tolerance) {
  if (!(tolerance >= 0 && std::isfinite(tolerance)))
    throw std::invalid_argument("isoflop: compute tolerance must be a non-negative number");
  std::vector<size_t> order(runs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return runs[x].c < runs[y].c; });
  std::vector<std::vector<size_t>> groups;
  double anchor = 0;
  for (size_t i : order) {
    // Comparing with the group's smallest C (not the previous run) stops a slow drift of C from
    // chaining distinct budgets into one.
    if (groups.empty() || runs[i].c > anchor * (1 + tolerance)) {
      groups.emplace_back();
      anchor = runs[i].c;
    }
    groups.back().push_back(i);
  }
  return groups;
}

IsoflopBudget fit_budget(const std::vector<Run>& runs, const std::vector<size_t>& members, LossScale scale) {
  IsoflopBudget b;
  b.members = members;
  const size_t m = members.size();
  std::vector<double> ns(m);
  double log_c = 0;
  for (size_t i = 0; i < m; ++i) {
    ns[i] = runs[members[i]].n;
    log_c += std::log(runs[members[i]].c);
  }
  b.c = m ? std::exp(log_c / static_cast<double>(m)) : 0;
  b.n_min = m ? *std::min_element(ns.begin(), ns.end()) : 0;
  b.n_max = m ? *std::max_element(ns.begin(), ns.end()) : 0;
  b.distinct_n = count_distinct(ns);
  if (b.distinct_n < 3) {
    b.skipped = SkipReason::kTooFewDistinctN;
    b.reason = "only " + std::to_string(b.distinct_n) + " distinct N (a parabola needs 3)";
    return b;
  }
  // Least squares in centred u = ln N − ū, for conditioning (ln N ≈ 15–25).
  double ubar = 0;
  for (double n : ns) ubar += std::log(n);
  ubar /= static_cast<double>(m);
  Eigen::MatrixXd x(static_cast<Eigen::Index>(m), 3);
  Eigen::VectorXd y(static_cast<Eigen::Index>(m));
  for (size_t i = 0; i < m; ++i) {
    const double u = std::log(ns[i]) - ubar;
    const auto r = static_cast<Eigen::Index>(i);
    x(r, 0) = 1;
    x(r, 1) = u;
    x(r, 2) = u * u;
    const double l = runs[members[i]].loss;
    y[r] = scale == LossScale::kLog ? std::log(l) : l;
  }
  const Eigen::Vector3d beta = x.colPivHouseholderQr().solve(y);
  const double q0 = beta[0], q1 = beta[1], q2 = beta[2];
  // Back to coefficients in u = ln N: q0 + q1(u−ū) + q2(u−ū)².
  b.parabola = Parabola{q0 - q1 * ubar + q2 * ubar * ubar, q1 - 2 * q2 * ubar, q2};
  // Curvature relative to the spread of the values: an exactly flat profile gives q2 ≈ 1e-17.
  const double scale_y = std::max(y.cwiseAbs().maxCoeff(), 1e-300);
  if (!(q2 > 1e-12 * scale_y)) {
    b.skipped = SkipReason::kNonPositiveCurvature;
    b.reason = "fitted curvature " + std::to_string(q2) + " is not positive";
    return b;
  }
  const double dv = -q1 / (2 * q2);
  const double u_opt = ubar + dv;
  const double lo = std::log(b.n_min), hi = std::log(b.n_max);
  if (!(u_opt > lo && u_opt < hi)) {
    b.skipped = SkipReason::kMinimumAtEdge;
    b.reason = "vertex at N = " + std::to_string(std::exp(u_opt)) + " lies outside the sampled range [" +
               std::to_string(b.n_min) + ", " + std::to_string(b.n_max) + "]";
    return b;
  }
  const double v_opt = q0 - q1 * q1 / (4 * q2);
  b.n_opt = std::exp(u_opt);
  b.d_opt = b.c / (6 * b.n_opt);  // C ≈ 6ND (Hoffmann et al. 2022, §3.2)
  b.l_opt = scale == LossScale::kLog ? std::exp(v_opt) : v_opt;
  return b;
}

IsoflopResult fit_isoflop(const std::vector<Run>& runs, const IsoflopOptions& opt) {
  validate(runs);
  if (!opt.budget_ids.empty() && opt.budget_ids.size() != runs.size())
    throw std::invalid_argument("isoflop: " + std::to_string(opt.budget_ids.size()) + " budget ids given for " +
                                std::to_string(runs.size()) + " runs");
  if (opt.bootstrap < 0) throw std::invalid_argument("isoflop: the number of bootstrap resamples must be >= 0");
  const bool by_id = !opt.budget_ids.empty();
  const auto groups = by_id ? group_by_id(runs, opt.budget_ids) : group_by_compute(runs, opt.c_tolerance);

  IsoflopResult res;
  res.loss_scale = opt.loss_scale;
  res.c_tolerance = opt.c_tolerance;
  std::vector<double> c, n, d;
  for (size_t g = 0; g < groups.size(); ++g) {
    IsoflopBudget b = fit_budget(runs, groups[g], opt.loss_scale);
    b.id = by_id ? opt.budget_ids[groups[g].front()] : static_cast<long>(g);
    if (b.skipped == SkipReason::kNone) {
      c.push_back(b.c);
      n.push_back(b.n_opt);
      d.push_back(b.d_opt);
      res.points_used += b.members.size();
    }
    res.budgets.push_back(std::move(b));
  }
  if (c.size() < 2) {
    std::string detail;
    for (const auto& b : res.budgets)
      if (b.skipped != SkipReason::kNone)
        detail += "; budget C=" + std::to_string(b.c) + " skipped: " + b.reason;
    throw std::invalid_argument("isoflop: need at least 2 usable compute budgets to fit N_opt ∝ C^a, found " +
                                std::to_string(c.size()) + " of " + std::to_string(res.budgets.size()) + detail);
  }
  res.scaling = fit_optimal_scaling(c, n, d, opt.predict_at);
  if (opt.bootstrap == 0) return res;

  // Nonparametric bootstrap: every budget is resampled with replacement within itself (keeping
  // the design of the experiment: the same budgets, the same number of runs per budget), and the
  // whole procedure, parabolas, skip rules and power laws, is redone (Efron & Tibshirani 1993).
  std::vector<ScalingDraw> draws(static_cast<size_t>(opt.bootstrap));
  const int threads = opt.threads > 0 ? opt.threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 8) num_threads(threads) if (threads != 1)
  for (int k = 0; k < opt.bootstrap; ++k) {
    std::mt19937_64 rng(resample_seed(opt.seed, static_cast<uint64_t>(k)));
    std::vector<double> bc, bn, bd;
    std::vector<size_t> pick;
    for (const auto& members : groups) {
      std::uniform_int_distribution<size_t> u(0, members.size() - 1);
      pick.resize(members.size());
      for (auto& p : pick) p = members[u(rng)];
      const IsoflopBudget b = fit_budget(runs, pick, opt.loss_scale);
      if (b.skipped != SkipReason::kNone) continue;
      bc.push_back(b.c);
      bn.push_back(b.n_opt);
      bd.push_back(b.d_opt);
    }
    draws[static_cast<size_t>(k)] = draw_from_points(bc, bn, bd);
  }
  add_bootstrap(res.scaling, draws, opt.seed);
  identify_scaling(res.scaling, c.size(), "budgets", approach_remedy(2));  // identifiability.h
  return res;
}

nlohmann::json to_json(const IsoflopResult& r) {
  nlohmann::json j;
  j["approach"] = 2;
  j["method"] = "isoflop";
  j["loss_scale"] = r.loss_scale == LossScale::kLog ? "log" : "linear";
  write_scaling_json(j, r.scaling);
  auto budgets = nlohmann::json::array();
  size_t used = 0;
  for (const auto& b : r.budgets) {
    nlohmann::json e{{"id", b.id},
                     {"C", b.c},
                     {"runs", b.members.size()},
                     {"distinct_N", b.distinct_n},
                     {"N_min", b.n_min},
                     {"N_max", b.n_max}};
    if (b.parabola)
      e["parabola"] = {{"c0", num(b.parabola->c0)}, {"c1", num(b.parabola->c1)}, {"c2", num(b.parabola->c2)},
                       {"variable", "ln N"}};
    else
      e["parabola"] = nullptr;
    if (b.skipped == SkipReason::kNone) {
      ++used;
      e["N_opt"] = b.n_opt;
      e["D_opt"] = b.d_opt;
      e["L_opt"] = b.l_opt;
      e["skipped"] = nullptr;
    } else {
      e["N_opt"] = e["D_opt"] = e["L_opt"] = nullptr;
      e["skipped"] = {{"code", code(b.skipped)}, {"reason", b.reason}};
    }
    budgets.push_back(e);
  }
  j["budgets"] = budgets;
  j["budgets_used"] = used;
  j["points_used"] = r.points_used;
  j["c_tolerance"] = r.c_tolerance;
  return j;
}

}  // namespace scalinglab::fit
