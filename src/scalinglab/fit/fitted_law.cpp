// The questions a fitted law answers (fit/fitter.h, FittedLaw): every answer is computed the same
// way at the optimum θ and at each bootstrap replicate, and summarised as an Estimate (value at θ,
// SE and 95% percentile interval over the replicates), so no question needs a refit.
#include <array>
#include <cmath>
#include <stdexcept>

#include "scalinglab/fit/compute_optimal.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/frontier.h"

namespace scalinglab::fit {
namespace {

bool uses(const Law& law, Variable v) {
  for (Variable x : law.variables())
    if (x == v) return true;
  return false;
}

// How optimum() treats a law: the Chinchilla closed forms, a numeric optimum along C = 6ND for
// any other law of exactly N and D, the loss alone for a law of C alone, or no optimum.
enum class OptimumKind { kChinchilla, kNumeric, kLossOfC, kNone };

OptimumKind optimum_kind(const Law& law) {
  const auto vars = law.variables();
  if (law.name() == "chinchilla") return OptimumKind::kChinchilla;
  if (vars.size() == 2 && uses(law, Variable::kN) && uses(law, Variable::kD)) return OptimumKind::kNumeric;
  if (vars.size() == 1 && vars[0] == Variable::kC) return OptimumKind::kLossOfC;
  return OptimumKind::kNone;
}

double law_loss(const Law& law, const std::vector<double>& theta, const Run& at) {
  return std::exp(law.log_predict(theta.data(), log_point(at), nullptr));
}

// N_opt, D_opt, loss at C for one θ.
OptimalPoint optimum_at(const Law& law, OptimumKind kind, const std::vector<double>& theta, double c) {
  switch (kind) {
    case OptimumKind::kChinchilla: {
      const ChinchillaParams p = chinchilla_params(law, theta);
      const double n = chinchilla_n_opt(p, c), d = chinchilla_d_opt(p, c);
      return {n, d, law_loss(law, theta, {n, d, c, 0, 1, 0})};
    }
    case OptimumKind::kNumeric:
      return numeric_optimum([&](double n, double d) { return law_loss(law, theta, {n, d, 6 * n * d, 0, 1, 0}); }, c);
    case OptimumKind::kLossOfC:
      return {NAN, NAN, law_loss(law, theta, {0, 0, c, 0, 1, 0})};
    default:
      return {};
  }
}

// The least C whose optimal loss reaches `target`, for one θ.
double compute_for_loss_at(const Law& law, OptimumKind kind, const std::vector<double>& theta, double target) {
  if (kind == OptimumKind::kChinchilla) {
    const ChinchillaParams p = chinchilla_params(law, theta);
    return chinchilla_compute_for_loss(p, target);
  }
  return min_compute_for_loss([&](double c) { return optimum_at(law, kind, theta, c).loss; }, target);
}

const Law& require_model(const FittedLaw& f) {
  if (!f.model) throw std::invalid_argument("model: this FittedLaw holds no law (it was not made by fit() or load_fit())");
  return *f.model;
}

OptimumKind require_optimum(const Law& law) {
  const OptimumKind kind = optimum_kind(law);
  if (kind == OptimumKind::kNone)
    throw std::invalid_argument("law " + law.name() +
                                " is neither a function of N and D nor of C alone: it has no compute-optimal allocation");
  return kind;
}

}  // namespace

void check_prediction_inputs(const Law& law, const Run& at) {
  for (Variable v : law.variables()) {
    const double value = v == Variable::kN ? at.n : v == Variable::kD ? at.d : v == Variable::kC ? at.c
                         : v == Variable::kU ? at.u : at.x;
    if (!(value > 0))
      throw std::invalid_argument(std::string("a prediction point lacks ") + variable_name(v) + ", which law " +
                                  law.name() + " needs" + (v == Variable::kU ? " (give --at N,D,U)" : ""));
  }
}

std::vector<double> FittedLaw::log_residuals() const {
  std::vector<double> r;
  r.reserve(residuals.size());
  for (const auto& x : residuals) r.push_back(x.log_residual);
  return r;
}

bool FittedLaw::has_optimum() const { return model && optimum_kind(*model) != OptimumKind::kNone; }

PointPrediction FittedLaw::loss(const Run& at) const {
  const Law& law = require_model(*this);
  check_prediction_inputs(law, at);
  PointPrediction p{at.n, at.d, at.c, at.x, at.u, orders_past(at.c, range), {}, {}};
  p.loss = predict_loss(law, theta, bootstrap_theta, at);
  p.pi95 = prediction_interval(law, bootstrap_theta, log_residuals(), at);
  return p;
}

ComputePrediction FittedLaw::optimum(double compute) const {
  const Law& law = require_model(*this);
  const OptimumKind kind = require_optimum(law);
  auto one = [&](const std::vector<double>& t) {
    const OptimalPoint o = optimum_at(law, kind, t, compute);
    return std::array<double, 4>{o.n, o.d, o.d / o.n, o.loss};
  };
  const auto v = one(theta);
  std::array<std::vector<double>, 4> reps;
  for (const auto& t : bootstrap_theta) {
    const auto x = one(t);
    for (size_t i = 0; i < 4; ++i) reps[i].push_back(x[i]);
  }
  ComputePrediction cp;
  cp.compute = compute;
  cp.orders_past_data = orders_past(compute, range);
  if (kind != OptimumKind::kLossOfC) {
    cp.n_opt = summarize(v[0], std::move(reps[0]));
    cp.d_opt = summarize(v[1], std::move(reps[1]));
    cp.tokens_per_param = summarize(v[2], std::move(reps[2]));
  }
  cp.loss = summarize(v[3], std::move(reps[3]));
  return cp;
}

Estimate FittedLaw::compute_for_loss(double target) const {
  const Law& law = require_model(*this);
  const OptimumKind kind = require_optimum(law);
  std::vector<double> reps;
  for (const auto& t : bootstrap_theta) reps.push_back(compute_for_loss_at(law, kind, t, target));
  return summarize(compute_for_loss_at(law, kind, theta, target), std::move(reps));
}

Estimate FittedLaw::n_for_loss(double target) const {
  const Law& law = require_model(*this);
  const OptimumKind kind = require_optimum(law);
  if (kind == OptimumKind::kLossOfC)
    throw std::invalid_argument("law " + law.name() + " is a function of C alone: it does not say which N reaches a loss");
  auto one = [&](const std::vector<double>& t) {
    const double c = compute_for_loss_at(law, kind, t, target);
    return std::isfinite(c) ? optimum_at(law, kind, t, c).n : NAN;
  };
  std::vector<double> reps;
  for (const auto& t : bootstrap_theta) reps.push_back(one(t));
  return summarize(one(theta), std::move(reps));
}

}  // namespace scalinglab::fit
