#include "scalinglab/fit/fitter.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "scalinglab/fit/frontier.h"
#include "scalinglab/fit/huber_objective.h"
#include "scalinglab/fit/identifiability.h"
#include "scalinglab/fit/multistart.h"
#include "scalinglab/fit/problem.h"
#include "scalinglab/fit/synthetic.h"
#include "scalinglab/fit/varpro.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::fit {
namespace {

std::string sci(double v) {
  std::ostringstream s;
  s.precision(3);
  s << v;
  return s.str();
}

void widen(Range& r, double v) {
  if (!(v > 0)) return;
  r.min = std::isnan(r.min) ? v : std::min(r.min, v);
  r.max = std::isnan(r.max) ? v : std::max(r.max, v);
}

// Every parameter-like quantity that gets an interval, as one flat vector computed from θ: public
// parameters, then law-specific scalars. Computing them the same way for the optimum and for each
// bootstrap replicate keeps the intervals consistent. (Predictions at budgets and points are the
// FittedLaw's questions, fitted_law.cpp.)
struct DerivedLayout {
  bool chinchilla = false;
  size_t params = 0, scalars = 0;
  std::vector<std::string> scalar_names;

  std::vector<double> evaluate(const Law& law, const std::vector<double>& theta) const {
    std::vector<double> out = law.to_public(theta.data());
    if (chinchilla) {
      ChinchillaParams p = chinchilla_params(law, theta);
      out.push_back(chinchilla_a(p));
      out.push_back(chinchilla_b(p));
      out.push_back(chinchilla_G(p));
    }
    return out;
  }
};

DerivedLayout make_layout(const Law& law) {
  DerivedLayout l;
  l.params = law.param_names().size();  // may exceed dim() when parameters are fixed
  l.chinchilla = law.name() == "chinchilla";
  if (l.chinchilla) l.scalar_names = {"a", "b", "G"};
  l.scalars = l.scalar_names.size();
  return l;
}

// Multinomial resample of n runs as integer multiplicities; the stream depends only on
// (seed, resample index), so results do not depend on threads or scheduling.
std::vector<double> resample_weights(size_t n, uint64_t seed, int index) {
  NormalStream rng(resample_seed(seed, static_cast<uint64_t>(index)));
  std::vector<double> w(n, 0.0);
  for (size_t i = 0; i < n; ++i) w[rng.next_u64() % n] += 1.0;
  return w;
}

}  // namespace

Holdout score_holdout(const std::vector<Run>& held, const FittedLaw& sub, bool by_x) {
  Holdout h;
  h.k = static_cast<int>(held.size());
  h.by = by_x ? "x" : "C";
  h.train_points = sub.points;
  double sum_abs = 0, max_abs = 0;
  for (size_t i = 0; i < held.size() && i < sub.at_points.size(); ++i) {
    HoldoutRow row;
    row.line = held[i].line;
    row.n = held[i].n;
    row.d = held[i].d;
    row.c = held[i].c;
    row.x = held[i].x;
    row.u = held[i].u;
    row.actual = held[i].loss;
    row.predicted = sub.at_points[i].loss;
    row.pi95 = sub.at_points[i].pi95;
    row.rel_error = (row.predicted.value - row.actual) / row.actual;
    row.orders_past_data = by_x ? std::log10(held[i].x / sub.range.x.max) : sub.at_points[i].orders_past_data;
    row.inside_ci95 = row.predicted.has_interval() && row.actual >= row.predicted.lo && row.actual <= row.predicted.hi;
    row.inside_pi95 = row.pi95.contains(row.actual);
    sum_abs += std::fabs(row.rel_error);
    max_abs = std::max(max_abs, std::fabs(row.rel_error));
    h.rows.push_back(row);
  }
  h.mean_abs_rel_error = h.rows.empty() ? NAN : sum_abs / static_cast<double>(h.rows.size());
  h.max_abs_rel_error = max_abs;
  return h;
}

DataRange data_range(const Dataset& data) {
  DataRange r;
  for (const Run& run : data.runs) {
    widen(r.n, run.n);
    widen(r.d, run.d);
    widen(r.c, run.c);
    widen(r.x, run.x);
    widen(r.u, run.u);
    if (run.n > 0 && run.d > 0) widen(r.tokens_per_param, run.d / run.n);
    widen(r.loss, run.loss);
  }
  return r;
}

double orders_past(double compute, const DataRange& range) {
  if (!(compute > 0) || !(range.c.max > 0)) return 0;
  return std::log10(compute / range.c.max);
}

std::optional<std::string> extrapolation_warning(double compute, const DataRange& range, const std::string& what) {
  double orders = orders_past(compute, range);
  if (orders <= 2) return std::nullopt;
  std::ostringstream s;
  s.precision(2);
  s << what << " at C = " << sci(compute) << " FLOPs is " << std::fixed << orders
    << " orders of magnitude past the largest compute in the data (" << sci(range.c.max)
    << "); treat it as a rough extrapolation";
  return s.str();
}

Estimate predict_loss(const Law& law, const std::vector<double>& theta,
                      const std::vector<std::vector<double>>& bootstrap_theta, const Run& at) {
  LogPoint p = log_point(at);
  std::vector<double> reps;
  reps.reserve(bootstrap_theta.size());
  for (const auto& t : bootstrap_theta) reps.push_back(std::exp(law.log_predict(t.data(), p, nullptr)));
  return summarize(std::exp(law.log_predict(theta.data(), p, nullptr)), std::move(reps));
}

Interval prediction_interval(const Law& law, const std::vector<std::vector<double>>& bootstrap_theta,
                             const std::vector<double>& log_residuals, const Run& at) {
  Interval iv;
  if (bootstrap_theta.size() < 2 || log_residuals.empty()) return iv;
  LogPoint p = log_point(at);
  // Pair every replicate with residuals in a fixed stride pattern (deterministic, and over many
  // replicates every residual is used about equally often).
  std::vector<double> draws;
  const size_t per = std::max<size_t>(1, 2000 / bootstrap_theta.size());
  for (size_t b = 0; b < bootstrap_theta.size(); ++b) {
    double mean = law.log_predict(bootstrap_theta[b].data(), p, nullptr);
    for (size_t j = 0; j < per; ++j) draws.push_back(std::exp(mean - log_residuals[(b * 7919 + j * 104729) % log_residuals.size()]));
  }
  iv.lo = quantile(draws, 0.025);
  iv.hi = quantile(draws, 0.975);
  return iv;
}

static FittedLaw fit_law(const Law& law, const std::shared_ptr<const Law>& model, const Dataset& data,
                  const FitOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  Problem problem = make_problem(law, data);
  const size_t k = law.dim();
  if (problem.size() <= k)
    throw std::invalid_argument(data.source + ": " + std::to_string(problem.size()) + " runs after filters, but law " +
                                law.name() + " has " + std::to_string(k) + " free parameters; need at least " +
                                std::to_string(k + 1));
  if (options.method == Method::kVarPro && !law.separable())
    throw std::invalid_argument("--method varpro needs a law linear in its coefficients; " + law.name() + " is not");

  for (const Run& r : options.at_points) check_prediction_inputs(law, r);

  FittedLaw rep;
  rep.model = model;
  rep.law = law.name();
  rep.formula = law.formula();
  rep.method = options.method == Method::kLbfgs ? "lbfgs" : "varpro";
  rep.source = data.source;
  rep.law_options.irreducible = law.irreducible();
  rep.law_options.fixed = law.fixed();
  rep.param_names = law.param_names();
  rep.internal_names = law.internal_names();
  rep.huber_delta = options.huber_delta;
  rep.points = static_cast<int>(problem.size());
  rep.seed = options.seed;
  rep.range = data_range(data);
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();

  // 1. The full-data optimum.
  HuberObjective objective(law, problem, nullptr, options.huber_delta, options.objective_scale);
  std::vector<Optimum> seeds;  // starts for bootstrap refits
  std::vector<double> varpro_hint;
  if (options.method == Method::kLbfgs) {
    const auto starts = options.starts.empty() ? law.data_starts(problem.x, problem.log_loss) : options.starts;
    MultiStartResult ms = solve_from_starts(objective, starts, options.solver, threads);
    rep.theta = ms.best.theta;
    rep.objective = ms.best.objective;
    rep.starts = ms.starts;
    rep.converged_starts = ms.converged;
    rep.starts_at_best = ms.at_best;
    if (ms.screened) rep.continued_starts = ms.continued;
    rep.status = status_name(ms.best.status);
    rep.status_detail = describe(ms.best, options.solver);
    seeds = ms.distinct;
    if (!std::isfinite(rep.objective)) throw std::runtime_error("no start reached a finite objective");
  } else {
    Optimum o = fit_varpro(law, problem, nullptr, options.huber_delta);
    rep.theta = o.theta;
    rep.objective = o.objective;
    rep.starts = 1;
    rep.converged_starts = o.converged() ? 1 : 0;
    rep.starts_at_best = 1;
    rep.status = status_name(o.status);
    rep.status_detail = "variable projection, then " + describe(o, options.solver);
    for (int idx : law.separable()->exponent_index) varpro_hint.push_back(o.theta[static_cast<size_t>(idx)]);
  }

  // 2. Residuals and quality.
  double rss = 0, mean_y = 0, abs_rel = 0;
  for (double y : problem.log_loss) mean_y += y;
  mean_y /= static_cast<double>(problem.size());
  double tss = 0;
  for (size_t i = 0; i < problem.size(); ++i) {
    const Run& run = data.runs[i];
    double pred = law.log_predict(rep.theta.data(), problem.x[i], nullptr);
    double r = pred - problem.log_loss[i];
    rss += r * r;
    tss += (problem.log_loss[i] - mean_y) * (problem.log_loss[i] - mean_y);
    abs_rel += std::fabs(std::expm1(r));
    rep.residuals.push_back({run.line, run.n, run.d, run.c, run.x, run.loss, std::exp(pred), r, run.u});
  }
  const double n = static_cast<double>(problem.size());
  rep.quality.points = rep.points;
  rep.quality.parameters = static_cast<int>(k);
  rep.quality.r2_log = tss > 0 ? 1 - rss / tss : NAN;
  rep.quality.rmse_log = std::sqrt(rss / n);
  rep.quality.mean_abs_rel_error = abs_rel / n;
  double ll_term = n * std::log(std::max(rss, 1e-300) / n);
  rep.quality.aic = ll_term + 2.0 * static_cast<double>(k);
  rep.quality.bic = ll_term + static_cast<double>(k) * std::log(n);

  // 3. Bootstrap.
  DerivedLayout layout = make_layout(law);
  std::vector<std::vector<double>> reps_theta(static_cast<size_t>(std::max(0, options.bootstrap)));
  std::vector<char> ok(reps_theta.size(), 0);
  if (options.bootstrap > 0) {
    util::Progress bar("bootstrap", options.bootstrap, "refits",
                       options.progress ? util::ProgressMode::kAuto : util::ProgressMode::kQuiet);
    std::vector<std::vector<double>> seed_starts;
    for (const auto& s : seeds) seed_starts.push_back(s.theta);
    std::atomic<bool> stop{false};
#pragma omp parallel for schedule(dynamic) num_threads(threads)
    for (int b = 0; b < options.bootstrap; ++b) {
      if (stop.load() || util::interrupted()) {
        stop = true;
        continue;
      }
      std::vector<double> w = resample_weights(problem.size(), options.seed, b);
      Optimum o;
      if (options.method == Method::kLbfgs) {
        HuberObjective obj_b(law, problem, &w, options.huber_delta, options.objective_scale);
        o = solve_from_starts(obj_b, seed_starts, options.solver, 1, 1).best;
      } else {
        VarProOptions vo;
        vo.grid = 12;  // the full-data optimum seeds the local search; a coarse grid guards it
        vo.start_exponents = varpro_hint;
        o = fit_varpro(law, problem, &w, options.huber_delta, vo);
      }
      if (std::isfinite(o.objective)) {
        reps_theta[static_cast<size_t>(b)] = o.theta;
        ok[static_cast<size_t>(b)] = 1;
      }
      bar.advance();
    }
    bar.finish();
  }
  rep.bootstrap_requested = options.bootstrap;
  for (size_t b = 0; b < reps_theta.size(); ++b) {
    if (ok[b]) {
      rep.bootstrap_theta.push_back(reps_theta[b]);
    } else if (!util::interrupted()) {
      ++rep.bootstrap_failed;
    }
  }
  rep.bootstrap_done = static_cast<int>(rep.bootstrap_theta.size());
  if (util::interrupted() && options.bootstrap > 0)
    rep.warnings.push_back("bootstrap interrupted after " + std::to_string(rep.bootstrap_done) + " of " +
                           std::to_string(options.bootstrap) + " resamples; intervals use those");

  // 4. Estimates: full-data value plus bootstrap SE and percentile interval for every quantity.
  std::vector<double> full = layout.evaluate(law, rep.theta);
  std::vector<std::vector<double>> columns(full.size());
  for (const auto& t : rep.bootstrap_theta) {
    auto v = layout.evaluate(law, t);
    for (size_t j = 0; j < v.size(); ++j) columns[j].push_back(v[j]);
  }
  std::vector<Estimate> est(full.size());
  for (size_t j = 0; j < full.size(); ++j) est[j] = summarize(full[j], columns[j]);  // columns kept for step 6
  size_t pos = 0;
  rep.params.assign(est.begin(), est.begin() + static_cast<long>(layout.params));
  pos = layout.params;
  for (const auto& name : layout.scalar_names) rep.derived.push_back({name, est[pos++]});
  // Predictions at the requested budgets and points: the fitted law's own questions.
  if (rep.has_optimum()) {
    for (double c : options.at_compute) {
      rep.at_compute.push_back(rep.optimum(c));
      if (auto w = extrapolation_warning(c, rep.range, "the compute-optimal prediction")) rep.warnings.push_back(*w);
    }
  }
  for (const Run& r : options.at_points) {
    rep.at_points.push_back(rep.loss(r));
    if (auto w = extrapolation_warning(r.c, rep.range, "the loss prediction")) rep.warnings.push_back(*w);
  }

  // 5. Leave-out extrapolation: refit without the K largest runs (by compute, or by x for laws of
  // x alone such as inference-time and broken power laws) and predict them.
  if (options.holdout_top_compute > 0 && options.holdout_top_x > 0)
    throw std::invalid_argument("give --holdout-top-compute or --holdout-top-x, not both");
  if (options.holdout_top_compute > 0 || options.holdout_top_x > 0) {
    const bool by_x = options.holdout_top_x > 0;
    if (!by_x && !data.has_c) throw std::invalid_argument("--holdout-top-compute needs compute (C, or N and D) for every run");
    if (by_x && !data.has_x) throw std::invalid_argument("--holdout-top-x needs the x column (--col-x)");
    Dataset train = data;
    std::stable_sort(train.runs.begin(), train.runs.end(),
                     [by_x](const Run& a, const Run& b) { return by_x ? a.x > b.x : a.c > b.c; });
    const size_t hk = static_cast<size_t>(by_x ? options.holdout_top_x : options.holdout_top_compute);
    const std::string flag = by_x ? "--holdout-top-x " : "--holdout-top-compute ";
    if (train.runs.size() <= hk + k)
      throw std::invalid_argument(flag + std::to_string(hk) + " leaves too few runs to fit " + std::to_string(k) +
                                  " parameters");
    std::vector<Run> held(train.runs.begin(), train.runs.begin() + static_cast<long>(hk));
    train.runs.erase(train.runs.begin(), train.runs.begin() + static_cast<long>(hk));
    FitOptions ho = options;
    ho.holdout_top_compute = 0;
    ho.holdout_top_x = 0;
    ho.at_compute.clear();
    ho.at_points = held;
    ho.progress = false;
    FittedLaw sub = fit_law(law, model, train, ho);
    rep.holdout = score_holdout(held, sub, by_x);
  }

  // 6. Parameters the data do not constrain: ∂ log L̂/∂θ_j is zero at every run (the
  // data-constrained law's R_N* when no run has N above N_opt(U), R_D* when no run repeats data).
  // Their value is where the start left them, or a boundary (a term driven to zero).
  {
    std::vector<double> g(k), total(k, 0.0);
    std::vector<bool> no_effect(k, false);
    for (const auto& x : problem.x) {
      law.log_predict(rep.theta.data(), x, g.data());
      for (size_t j = 0; j < k; ++j) total[j] += std::fabs(g[j]);
    }
    for (size_t j = 0; j < k; ++j)
      if (!(total[j] > 1e-12 * static_cast<double>(problem.size()))) no_effect[j] = true;
    // The identifiability verdict of every estimate (rule in identifiability.h).
    // Predictions (at_compute, at_points) are the FittedLaw's questions: their replicates are not
    // kept, so their verdicts rest on SE and interval (identifiability.h rules 3 and 5).
    const size_t per_compute =
        rep.at_compute.empty() ? 0 : (std::isfinite(rep.at_compute.front().n_opt.value) ? 4 : 1);
    identify_fit(rep, law, columns, no_effect, per_compute);
    for (size_t j = 0; j < k; ++j)
      if (no_effect[j])
        rep.warnings.push_back("internal parameter " + rep.internal_names[j] +
                               " has no effect on any run's prediction at the optimum (unused by these runs, or its "
                               "term driven to zero): these data do not determine it; hold it at a known value with --fix");
  }

  // 7. Health warnings.
  if (options.method == Method::kLbfgs && rep.starts_at_best < 2 && rep.starts > 10)
    rep.warnings.push_back("only one start reached the best optimum; the landscape is rugged, consider more starts");
  if (rep.bootstrap_failed > 0)
    rep.warnings.push_back(std::to_string(rep.bootstrap_failed) + " bootstrap refits failed and were left out");
  if (rep.status != "converged" && rep.status != "stalled")
    rep.warnings.push_back("the best optimum ended with status " + rep.status);
  rep.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

FittedLaw fit(std::shared_ptr<const Law> law, const Dataset& data, const FitOptions& options) {
  if (!law) throw std::invalid_argument("law: no law given");
  return fit_law(*law, law, data, options);
}

FittedLaw fit(const Law& law, const Dataset& data, const FitOptions& options) {
  std::shared_ptr<const Law> model;
  try {
    model = make_law(law.name(), {law.irreducible(), law.fixed()});
  } catch (const std::invalid_argument&) {
    // A law outside the registry: fitted all the same; its questions need the shared_ptr overload.
  }
  return fit_law(law, model, data, options);
}

}  // namespace scalinglab::fit
