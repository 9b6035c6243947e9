#include "scalinglab/fit/isoflop.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <omp.h>
#include <random>
#include <sstream>
#include <stdexcept>

#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/identifiability.h"

namespace scalinglab::fit {
namespace {

nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string short_num(double v, int precision = 4) {
  std::ostringstream s;
  s.precision(precision);
  s << v;
  return s.str();
}

// Two sizes count as the same model when they agree to 1e-9 relative (exported configs often
// round parameter counts slightly differently between runs of the same model).
size_t count_distinct(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t distinct = 0;
  for (size_t i = 0; i < v.size(); ++i)
    if (i == 0 || v[i] > v[i - 1] * (1 + 1e-9)) ++distinct;
  return distinct;
}

void validate(const std::vector<Run>& runs, bool need_d) {
  for (size_t i = 0; i < runs.size(); ++i) {
    const Run& r = runs[i];
    auto where = [&] {
      return "run " + std::to_string(i) + (r.line > 0 ? " (line " + std::to_string(r.line) + ")" : std::string());
    };
    if (!(std::isfinite(r.n) && r.n > 0)) throw std::invalid_argument("isoflop: " + where() + " has no positive N");
    if (!(std::isfinite(r.c) && r.c > 0)) throw std::invalid_argument("isoflop: " + where() + " has no positive C");
    if (!(std::isfinite(r.loss) && r.loss > 0))
      throw std::invalid_argument("isoflop: " + where() + " has no positive finite loss");
    if (need_d && !(std::isfinite(r.d) && r.d > 0))
      throw std::invalid_argument("isoflop: " + where() +
                                  " has no positive D (Run::d); without tokens set IsoflopOptions::d_from_runs = false "
                                  "to take D_opt = C/(6 N_opt)");
    if (!(std::isfinite(r.budget) && r.budget >= 0))
      throw std::invalid_argument("isoflop: " + where() + " has a negative or non-finite budget (Run::budget)");
  }
}

// Groups of run indices sharing a key, ordered by the mean ln C of the group.
template <typename Key>
std::vector<std::vector<size_t>> group_by_key(const std::vector<Run>& runs, const std::vector<Key>& keys) {
  std::map<Key, std::vector<size_t>> by_key;
  for (size_t i = 0; i < runs.size(); ++i) by_key[keys[i]].push_back(i);
  std::vector<std::pair<double, Key>> order;
  for (const auto& [key, members] : by_key) {
    double lc = 0;
    for (size_t m : members) lc += std::log(runs[m].c);
    order.emplace_back(lc / static_cast<double>(members.size()), key);
  }
  std::sort(order.begin(), order.end());
  std::vector<std::vector<size_t>> groups;
  for (const auto& o : order) groups.push_back(by_key[o.second]);
  return groups;
}

// Least-squares parabola of y on u = ln x, fitted in centred u for conditioning (ln N ≈ 15–25).
struct ParabolaFit {
  Parabola p;
  bool has_minimum = false;
  double curvature = 0;      // the u² coefficient
  double u_opt = NAN, v_opt = NAN;
};

ParabolaFit fit_parabola(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t m = x.size();
  double ubar = 0;
  for (double v : x) ubar += std::log(v);
  ubar /= static_cast<double>(m);
  Eigen::MatrixXd design(static_cast<Eigen::Index>(m), 3);
  Eigen::VectorXd rhs(static_cast<Eigen::Index>(m));
  for (size_t i = 0; i < m; ++i) {
    const double u = std::log(x[i]) - ubar;
    const auto r = static_cast<Eigen::Index>(i);
    design(r, 0) = 1;
    design(r, 1) = u;
    design(r, 2) = u * u;
    rhs[r] = y[i];
  }
  const Eigen::Vector3d beta = design.colPivHouseholderQr().solve(rhs);
  const double q0 = beta[0], q1 = beta[1], q2 = beta[2];
  ParabolaFit f;
  // Back to coefficients in u = ln x: q0 + q1(u−ū) + q2(u−ū)².
  f.p = Parabola{q0 - q1 * ubar + q2 * ubar * ubar, q1 - 2 * q2 * ubar, q2};
  f.curvature = q2;
  // Curvature relative to the size of the values: an exactly flat profile gives q2 ≈ 1e-17.
  const double scale_y = std::max(rhs.cwiseAbs().maxCoeff(), 1e-300);
  f.has_minimum = q2 > 1e-12 * scale_y;
  if (f.has_minimum) {
    f.u_opt = ubar - q1 / (2 * q2);
    f.v_opt = q0 - q1 * q1 / (4 * q2);
  }
  return f;
}

// Vertices of the usable budgets of one (re)sample, and the power laws through them.
ScalingDraw draw_for_groups(const std::vector<Run>& runs, const std::vector<std::vector<size_t>>& groups,
                            const IsoflopOptions& opt) {
  std::vector<double> bc, bn, bd;
  for (const auto& members : groups) {
    if (members.empty()) continue;
    const IsoflopBudget b = fit_budget(runs, members, opt.loss_scale, opt.d_from_runs, opt.edge_vertices);
    if (!b.used()) continue;
    bc.push_back(b.c);
    bn.push_back(b.n_opt);
    bd.push_back(b.d_opt);
  }
  return draw_from_points(bc, bn, bd);
}

std::string edge_text(const char* var, double opt, double lo, double hi) {
  return std::string("vertex at ") + var + " = " + short_num(opt) + " lies outside the sampled range [" +
         short_num(lo) + ", " + short_num(hi) + "]";
}

void rename_interval(nlohmann::json& j, const std::string& to) {
  if (j.is_object()) {
    if (j.contains("ci95")) {
      j[to] = j["ci95"];
      j.erase("ci95");
    }
    for (auto& [k, v] : j.items()) rename_interval(v, to);
  } else if (j.is_array()) {
    for (auto& v : j) rename_interval(v, to);
  }
}

}  // namespace

const char* code(SkipReason r) {
  switch (r) {
    case SkipReason::kNone: return "none";
    case SkipReason::kTooFewDistinctN: return "too_few_distinct_n";
    case SkipReason::kNonPositiveCurvature: return "non_positive_curvature";
    case SkipReason::kMinimumAtEdge: return "minimum_at_edge";
  }
  return "unknown";
}

const char* to_string(SkipReason r) {
  switch (r) {
    case SkipReason::kNone: return "";
    case SkipReason::kTooFewDistinctN: return "fewer than 3 distinct N (or D)";
    case SkipReason::kNonPositiveCurvature: return "parabola has no minimum (curvature <= 0)";
    case SkipReason::kMinimumAtEdge: return "minimum outside the sampled N (or D) range";
  }
  return "?";
}

const char* to_string(IsoflopBootstrap s) {
  switch (s) {
    case IsoflopBootstrap::kPoints: return "points";
    case IsoflopBootstrap::kBudgets: return "budgets";
    case IsoflopBootstrap::kSubsample80: return "subsample80";
  }
  return "?";
}

std::vector<std::vector<size_t>> group_by_compute(const std::vector<Run>& runs, double tolerance) {
  if (!(tolerance >= 0 && std::isfinite(tolerance)))
    throw std::invalid_argument("isoflop: IsoflopOptions::c_tolerance must be a non-negative number");
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

IsoflopBudget fit_budget(const std::vector<Run>& runs, const std::vector<size_t>& members, LossScale scale,
                         bool d_from_runs, EdgeVertices edge) {
  IsoflopBudget b;
  b.members = members;
  const size_t m = members.size();
  std::vector<double> ns(m), ds(m), ys(m);
  double log_c = 0;
  bool nominal = m > 0;
  for (size_t i = 0; i < m; ++i) {
    const Run& r = runs[members[i]];
    ns[i] = r.n;
    ds[i] = r.d;
    ys[i] = scale == LossScale::kLog ? std::log(r.loss) : r.loss;
    log_c += std::log(r.c);
    nominal = nominal && r.budget > 0 && r.budget == runs[members[0]].budget;
  }
  // A nominal budget is the compute the runs were planned for; without one, the geometric mean.
  b.c = nominal ? runs[members[0]].budget : (m ? std::exp(log_c / static_cast<double>(m)) : 0);
  if (m) {
    b.n_min = *std::min_element(ns.begin(), ns.end());
    b.n_max = *std::max_element(ns.begin(), ns.end());
    b.d_min = *std::min_element(ds.begin(), ds.end());
    b.d_max = *std::max_element(ds.begin(), ds.end());
  }
  b.distinct_n = count_distinct(ns);
  b.distinct_d = d_from_runs ? count_distinct(ds) : 0;
  auto skip = [&](SkipReason why, std::string text) {
    b.skipped = why;
    b.reason = std::move(text);
    return b;
  };
  if (b.distinct_n < 3)
    return skip(SkipReason::kTooFewDistinctN,
                "only " + std::to_string(b.distinct_n) + " distinct N (a parabola needs 3)");
  const ParabolaFit pn = fit_parabola(ns, ys);
  b.parabola = pn.p;
  if (!pn.has_minimum)
    return skip(SkipReason::kNonPositiveCurvature,
                "ln N parabola: fitted curvature " + short_num(pn.curvature) + " is not positive");
  std::vector<std::string> edges;
  if (!(pn.u_opt > std::log(b.n_min) && pn.u_opt < std::log(b.n_max)))
    edges.push_back(edge_text("N", std::exp(pn.u_opt), b.n_min, b.n_max));
  double d_opt = b.c / (6 * std::exp(pn.u_opt));  // C ≈ 6ND (Hoffmann et al. 2022, §3.2), the fallback
  if (d_from_runs) {
    if (b.distinct_d < 3)
      return skip(SkipReason::kTooFewDistinctN,
                  "only " + std::to_string(b.distinct_d) + " distinct D (a parabola needs 3)");
    const ParabolaFit pd = fit_parabola(ds, ys);
    b.parabola_d = pd.p;
    if (!pd.has_minimum)
      return skip(SkipReason::kNonPositiveCurvature,
                  "ln D parabola: fitted curvature " + short_num(pd.curvature) + " is not positive");
    if (!(pd.u_opt > std::log(b.d_min) && pd.u_opt < std::log(b.d_max)))
      edges.push_back(edge_text("D", std::exp(pd.u_opt), b.d_min, b.d_max));
    d_opt = std::exp(pd.u_opt);
  }
  if (!edges.empty()) {
    std::string text = edges[0];
    for (size_t i = 1; i < edges.size(); ++i) text += "; " + edges[i];
    if (edge == EdgeVertices::kDrop) return skip(SkipReason::kMinimumAtEdge, text);
    b.extrapolated = true;
    b.reason = "extrapolated: " + text;
  }
  b.n_opt = std::exp(pn.u_opt);
  b.d_opt = d_opt;
  b.l_opt = scale == LossScale::kLog ? std::exp(pn.v_opt) : pn.v_opt;
  return b;
}

IsoflopResult fit_isoflop(const std::vector<Run>& runs, const IsoflopOptions& opt) {
  validate(runs, opt.d_from_runs);
  if (runs.empty()) throw std::invalid_argument("isoflop: no runs");
  if (!opt.budget_ids.empty() && opt.budget_ids.size() != runs.size())
    throw std::invalid_argument("isoflop: " + std::to_string(opt.budget_ids.size()) +
                                " budget ids given (IsoflopOptions::budget_ids) for " + std::to_string(runs.size()) +
                                " runs");
  if (opt.bootstrap < 0)
    throw std::invalid_argument("isoflop: IsoflopOptions::bootstrap (resamples) must be >= 0");

  IsoflopResult res;
  res.loss_scale = opt.loss_scale;
  res.c_tolerance = opt.c_tolerance;
  res.d_from_runs = opt.d_from_runs;
  res.edge_vertices = opt.edge_vertices;
  res.bootstrap_scheme = opt.bootstrap_scheme;
  res.interval_coverage = opt.bootstrap_scheme == IsoflopBootstrap::kSubsample80 ? 0.8 : 0.95;

  // Budgets: explicit ids, then a nominal budget on every run, then C within a tolerance.
  const size_t with_budget =
      static_cast<size_t>(std::count_if(runs.begin(), runs.end(), [](const Run& r) { return r.budget > 0; }));
  std::vector<std::vector<size_t>> groups;
  if (!opt.budget_ids.empty()) {
    res.grouping = "budget_ids";
    groups = group_by_key(runs, opt.budget_ids);
  } else if (with_budget == runs.size()) {
    res.grouping = "budget";
    std::vector<double> keys;
    for (const auto& r : runs) keys.push_back(r.budget);
    groups = group_by_key(runs, keys);
  } else {
    if (with_budget > 0)
      throw std::invalid_argument("isoflop: " + std::to_string(with_budget) + " of " + std::to_string(runs.size()) +
                                  " runs have a budget (Run::budget); give one for every run or for none");
    res.grouping = "compute_tolerance";
    groups = group_by_compute(runs, opt.c_tolerance);
  }
  for (const auto& g : groups) res.small_groups += g.size() < 3 ? 1 : 0;
  // Half or more of the groups too small to hold a parabola: the grouping, not the data, is wrong — C varies
  // within a budget (e.g. C = 6ND of runs whose FLOP count is not 6ND, or rounded tokens).
  // One or two small groups look like incomplete budgets (skipped with their reason); three or
  // more making up half the groups is a grouping failure.
  if (res.grouping == "compute_tolerance" && res.small_groups >= 3 && 2 * res.small_groups >= groups.size())
    throw std::invalid_argument(
        "isoflop: grouping runs by compute within IsoflopOptions::c_tolerance = " + short_num(opt.c_tolerance) +
        " formed " + std::to_string(groups.size()) + " budgets, " + std::to_string(res.small_groups) +
        " of them with fewer than 3 runs: the compute of runs in one budget differs by more than the tolerance; "
        "give each run's nominal budget (Run::budget) or widen IsoflopOptions::c_tolerance");

  std::vector<double> c, n, d;
  for (size_t g = 0; g < groups.size(); ++g) {
    IsoflopBudget b = fit_budget(runs, groups[g], opt.loss_scale, opt.d_from_runs, opt.edge_vertices);
    b.id = !opt.budget_ids.empty() ? opt.budget_ids[groups[g].front()] : static_cast<long>(g);
    if (b.used()) {
      c.push_back(b.c);
      n.push_back(b.n_opt);
      d.push_back(b.d_opt);
      res.points_used += b.members.size();
      ++res.budgets_used;
      res.budgets_extrapolated += b.extrapolated ? 1 : 0;
    }
    res.budgets.push_back(std::move(b));
  }
  if (c.size() < 2) {
    std::string detail;
    for (const auto& b : res.budgets)
      if (!b.used()) detail += "; budget C=" + short_num(b.c) + " skipped: " + b.reason;
    throw std::invalid_argument("isoflop: need at least 2 usable compute budgets to fit N_opt ∝ C^a, found " +
                                std::to_string(c.size()) + " of " + std::to_string(res.budgets.size()) + detail);
  }
  res.scaling = fit_optimal_scaling(c, n, d, opt.predict_at);
  {
    // a + b is the slope of ln(N_opt·D_opt) on ln C (OLS is linear in the response).
    std::vector<double> nd(c.size());
    for (size_t i = 0; i < c.size(); ++i) nd[i] = n[i] * d[i];
    const PowerLawFit sum = fit_power_law(c, nd);
    res.a_plus_b.value = res.scaling.a.value + res.scaling.b.value;
    res.a_plus_b.se_analytic = sum.se_p;
  }

  if (opt.bootstrap > 0) {
    std::vector<ScalingDraw> draws(static_cast<size_t>(opt.bootstrap));
    const int threads = opt.threads > 0 ? opt.threads : omp_get_max_threads();
    const size_t total = runs.size();
    // kSubsample80: 80% of all runs (Hoffmann et al. 2022, Table 2 caption), at least one.
    const size_t keep = std::max<size_t>(1, static_cast<size_t>(std::lround(0.8 * static_cast<double>(total))));
#pragma omp parallel for schedule(dynamic, 8) num_threads(threads) if (threads != 1)
    for (int k = 0; k < opt.bootstrap; ++k) {
      std::mt19937_64 rng(resample_seed(opt.seed, static_cast<uint64_t>(k)));
      ScalingDraw& out = draws[static_cast<size_t>(k)];
      switch (opt.bootstrap_scheme) {
        case IsoflopBootstrap::kPoints: {
          std::vector<std::vector<size_t>> picks(groups.size());
          for (size_t g = 0; g < groups.size(); ++g) {
            std::uniform_int_distribution<size_t> u(0, groups[g].size() - 1);
            picks[g].resize(groups[g].size());
            for (auto& p : picks[g]) p = groups[g][u(rng)];
          }
          out = draw_for_groups(runs, picks, opt);
          break;
        }
        case IsoflopBootstrap::kSubsample80: {
          std::vector<size_t> idx(total);
          std::iota(idx.begin(), idx.end(), 0);
          std::shuffle(idx.begin(), idx.end(), rng);
          std::vector<char> chosen(total, 0);
          for (size_t i = 0; i < keep; ++i) chosen[idx[i]] = 1;
          std::vector<std::vector<size_t>> picks(groups.size());
          for (size_t g = 0; g < groups.size(); ++g)
            for (size_t i : groups[g])
              if (chosen[i]) picks[g].push_back(i);
          out = draw_for_groups(runs, picks, opt);
          break;
        }
        case IsoflopBootstrap::kBudgets: {
          std::uniform_int_distribution<size_t> u(0, c.size() - 1);
          std::vector<double> bc(c.size()), bn(c.size()), bd(c.size());
          for (size_t i = 0; i < c.size(); ++i) {
            const size_t p = u(rng);
            bc[i] = c[p], bn[i] = n[p], bd[i] = d[p];
          }
          out = draw_from_points(bc, bn, bd);  // not ok when every pick is one budget
          break;
        }
      }
    }
    add_bootstrap(res.scaling, draws, opt.seed, res.interval_coverage);
    std::vector<double> sums;
    for (const auto& dr : draws)
      if (dr.ok) sums.push_back(dr.a + dr.b);
    add_replicates(res.a_plus_b, sums, res.interval_coverage);
  }
  identify_scaling(res.scaling, c.size(), "budgets", approach_remedy(2));  // identifiability.h

  // Warnings a careful reader needs next to the numbers.
  if (!opt.d_from_runs) {
    res.warnings.push_back("D is not in the data: D_opt = C/(6 N_opt), so b = 1 - a by construction and a + b = 1 "
                           "says nothing about the data");
  } else {
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& r : runs) {
      // Against the nominal budget when there is one: C derived as 6ND would make the check empty.
      const double q = 6 * r.n * r.d / (r.budget > 0 ? r.budget : r.c);
      lo = std::min(lo, q), hi = std::max(hi, q);
    }
    res.flops_ratio_min = lo, res.flops_ratio_max = hi;
    if (lo < 0.9 || hi > 1.1)
      res.warnings.push_back("6ND/C ranges over [" + short_num(lo, 3) + ", " + short_num(hi, 3) +
                             "], beyond +-10%: the table's compute is not 6ND (e.g. attention or embeddings counted "
                             "differently); D_opt comes from each budget's own ln D parabola, not from C/(6N)");
    const Estimate& s = res.a_plus_b;
    const double dev = s.value - 1;
    // 1e-3: below it a departure is immaterial (D_opt off by < 1% over ten decades of C) and may
    // be rounding in the table.
    const bool outside = s.has_interval() ? (1 < s.lo || 1 > s.hi)
                                           : (std::isfinite(s.se_analytic) && std::abs(dev) > 2 * s.se_analytic);
    if (outside && std::abs(dev) > 1e-3) {
      const std::string level = res.interval_coverage == 0.8 ? "80%" : "95%";
      res.warnings.push_back(
          "a + b = " + short_num(s.value, 5) +
          (s.has_interval() ? " (" + level + " interval [" + short_num(s.lo, 5) + ", " + short_num(s.hi, 5) + "])"
                            : " (OLS SE " + short_num(s.se_analytic, 2) + ")") +
          " departs from 1, which C = 6ND implies: the compute is not 6ND or the parabolas' vertices are biased");
    }
  }
  // Fragments that escaped the refusal (e.g. every group exactly 3 runs) show as mostly skipped budgets.
  if (res.grouping == "compute_tolerance" && 2 * res.budgets_used < res.budgets.size())
    res.warnings.push_back(std::to_string(res.budgets.size() - res.budgets_used) + " of " +
                           std::to_string(res.budgets.size()) + " budgets formed within IsoflopOptions::c_tolerance = " +
                           short_num(opt.c_tolerance) +
                           " were skipped: if the runs have nominal budgets, give them (Run::budget)");
  if (res.budgets_extrapolated > 0)
    res.warnings.push_back(std::to_string(res.budgets_extrapolated) +
                           " budget(s) use a vertex outside their sampled range (IsoflopOptions::edge_vertices = "
                           "keep): their optimum is extrapolated from one side");
  DataRange range;
  for (const auto& r : runs) {
    range.c.min = std::isfinite(range.c.min) ? std::min(range.c.min, r.c) : r.c;
    range.c.max = std::isfinite(range.c.max) ? std::max(range.c.max, r.c) : r.c;
  }
  for (double cp : opt.predict_at)
    if (auto w = extrapolation_warning(cp, range, "the approach-2 optimum")) res.warnings.push_back(*w);
  return res;
}

nlohmann::json to_json(const IsoflopResult& r) {
  nlohmann::json j;
  j["approach"] = 2;
  j["method"] = "isoflop";
  j["loss_scale"] = r.loss_scale == LossScale::kLog ? "log" : "linear";
  write_scaling_json(j, r.scaling);
  j["a_plus_b"] = to_json(r.a_plus_b);
  j["bootstrap"]["scheme"] = to_string(r.bootstrap_scheme);
  j["bootstrap"]["interval_coverage"] = r.interval_coverage;
  j["D_opt_from"] = r.d_from_runs ? "ln D parabola" : "C/(6 N_opt)";
  j["edge_vertices"] = r.edge_vertices == EdgeVertices::kKeep ? "keep" : "drop";
  auto parabola = [](const std::optional<Parabola>& p, const char* var) {
    if (!p) return nlohmann::json(nullptr);
    return nlohmann::json{{"c0", num(p->c0)}, {"c1", num(p->c1)}, {"c2", num(p->c2)}, {"variable", var}};
  };
  auto budgets = nlohmann::json::array(), skipped = nlohmann::json::array();
  for (const auto& b : r.budgets) {
    nlohmann::json e{{"id", b.id},
                     {"C", b.c},
                     {"runs", b.members.size()},
                     {"distinct_N", b.distinct_n},
                     {"N_min", b.n_min},
                     {"N_max", b.n_max},
                     {"D_min", b.d_min},
                     {"D_max", b.d_max},
                     {"parabola", parabola(b.parabola, "ln N")},
                     {"parabola_D", parabola(b.parabola_d, "ln D")},
                     {"used", b.used()},
                     {"extrapolated", b.extrapolated},
                     {"reason", b.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(b.reason)}};
    if (r.d_from_runs) e["distinct_D"] = b.distinct_d;
    e["N_opt"] = num(b.n_opt);
    e["D_opt"] = num(b.d_opt);
    e["L_opt"] = num(b.l_opt);
    if (b.used()) {
      e["skipped"] = nullptr;
    } else {
      e["skipped"] = {{"code", code(b.skipped)}, {"reason", b.reason}};
      skipped.push_back({{"id", b.id}, {"C", b.c}, {"runs", b.members.size()}, {"code", code(b.skipped)},
                         {"reason", b.reason}});
    }
    budgets.push_back(e);
  }
  j["budgets"] = budgets;
  j["skipped"] = skipped;
  j["budgets_used"] = r.budgets_used;
  j["budgets_extrapolated"] = r.budgets_extrapolated;
  j["points_used"] = r.points_used;
  j["c_tolerance"] = r.c_tolerance;
  j["grouping"] = {{"by", r.grouping},
                   {"groups", r.budgets.size()},
                   {"small_groups", r.small_groups},
                   {"c_tolerance", r.grouping == "compute_tolerance" ? num(r.c_tolerance) : nlohmann::json(nullptr)}};
  j["flops_ratio_6ND_over_C"] = std::isfinite(r.flops_ratio_min)
                                    ? nlohmann::json{{"min", r.flops_ratio_min}, {"max", r.flops_ratio_max}}
                                    : nlohmann::json(nullptr);
  j["warnings"] = r.warnings;
  if (r.interval_coverage == 0.8) rename_interval(j, "ci80");
  return j;
}

}  // namespace scalinglab::fit
