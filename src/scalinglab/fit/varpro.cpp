#include "scalinglab/fit/varpro.h"

#include <Eigen/Core>
#include <LBFGSB.h>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "scalinglab/fit/huber_objective.h"
#include "scalinglab/fit/multistart.h"
#include "scalinglab/fit/nnls.h"

namespace scalinglab::fit {

double varpro_rss(const Law& law, const Problem& problem, const std::vector<double>* weights,
                  const double* exponents, std::vector<double>* coefficients) {
  const Separable* sep = law.separable();
  const long n = static_cast<long>(problem.size());
  const int k = sep->coefficients;
  Eigen::MatrixXd phi(n, k);
  Eigen::VectorXd y(n), w(n);
  double row[8];
  for (long i = 0; i < n; ++i) {
    law.basis(exponents, problem.x[i], row);
    for (int j = 0; j < k; ++j) phi(i, j) = row[j];
    double loss = std::exp(problem.log_loss[i]);
    y[i] = loss;
    // Relative residual (L̂ − L)/L; a bootstrap multiplicity m scales a squared residual by m.
    double m = weights ? (*weights)[i] : 1.0;
    w[i] = std::sqrt(m) / loss;
  }
  NnlsResult r = nnls(phi, y, w);
  if (coefficients) coefficients->assign(r.coefficients.data(), r.coefficients.data() + k);
  return r.rss;
}

namespace {

struct ExponentObjective {
  const Law& law;
  const Problem& problem;
  const std::vector<double>* weights;
  double operator()(const Eigen::VectorXd& e, Eigen::VectorXd& g) {
    // The reduced objective is piecewise smooth (the NNLS active set changes), so a central
    // difference is both cheap (k ≤ 2 exponents) and robust across those seams.
    const double h = 1e-6;
    Eigen::VectorXd t = e;
    for (long j = 0; j < e.size(); ++j) {
      t[j] = e[j] + h;
      double fp = varpro_rss(law, problem, weights, t.data(), nullptr);
      t[j] = e[j] - h;
      double fm = varpro_rss(law, problem, weights, t.data(), nullptr);
      t[j] = e[j];
      g[j] = (fp - fm) / (2 * h);
    }
    return varpro_rss(law, problem, weights, e.data(), nullptr);
  }
};

}  // namespace

Optimum fit_varpro(const Law& law, const Problem& problem, const std::vector<double>* weights, double huber_delta,
                   const VarProOptions& options) {
  const Separable* sep = law.separable();
  if (!sep) throw std::invalid_argument("law " + law.name() + " is not separable; --method varpro does not apply");
  const int m = static_cast<int>(sep->exponent_index.size());
  if (m > 2) throw std::invalid_argument("varpro: at most 2 exponents");

  // Global: a grid over the exponents (m = 1 or 2).
  std::vector<double> best_e(static_cast<size_t>(m), 0), e(static_cast<size_t>(m));
  double best = std::numeric_limits<double>::infinity();
  const int g = options.grid;
  auto at = [&](int i) { return options.exponent_min + (options.exponent_max - options.exponent_min) * i / (g - 1); };
  const int total = m == 1 ? g : g * g;
  for (int idx = 0; idx < total; ++idx) {
    e[0] = at(idx % g);
    if (m == 2) e[1] = at(idx / g);
    double f = varpro_rss(law, problem, weights, e.data(), nullptr);
    if (f < best) {
      best = f;
      best_e = e;
    }
  }
  // Local: bounded L-BFGS from the grid's best and from a caller's hint.
  LBFGSpp::LBFGSBParam<double> param;
  param.epsilon = 1e-10;
  param.delta = 1e-14;
  param.past = 5;
  param.max_iterations = 200;
  LBFGSpp::LBFGSBSolver<double> solver(param);
  Eigen::VectorXd lb = Eigen::VectorXd::Constant(m, options.exponent_min * 0.5);
  Eigen::VectorXd ub = Eigen::VectorXd::Constant(m, options.exponent_max * 1.5);
  ExponentObjective obj{law, problem, weights};
  std::vector<std::vector<double>> local_starts{best_e};
  if (static_cast<int>(options.start_exponents.size()) == m) local_starts.push_back(options.start_exponents);
  Optimum out;
  out.status = SolverStatus::kStalled;
  for (const auto& s : local_starts) {
    Eigen::VectorXd x = Eigen::Map<const Eigen::VectorXd>(s.data(), m);
    double fx = 0;
    SolverStatus status = SolverStatus::kStalled;
    try {
      out.iterations += solver.minimize(obj, x, fx, lb, ub);
    } catch (const std::exception&) {
      status = SolverStatus::kLineSearch;  // keep the best point reached so far
      fx = varpro_rss(law, problem, weights, x.data(), nullptr);
    }
    if (fx <= best) {
      best = fx;
      best_e.assign(x.data(), x.data() + m);
      out.status = status == SolverStatus::kLineSearch ? SolverStatus::kStalled : status;
    }
  }
  std::vector<double> coef;
  varpro_rss(law, problem, weights, best_e.data(), &coef);
  out.theta = law.from_separable(coef.data(), best_e.data());
  HuberObjective huber_obj(law, problem, weights, huber_delta, 0);
  out.objective = huber_obj.value(out.theta.data(), nullptr);
  out.gradient_norm = 0;
  if (!options.polish) return out;
  // A coefficient at its NNLS bound is e^-690 in θ: the local solver sees no gradient along it
  // and leaves the term off, as the separable optimum had it, unless bringing it back lowers f.
  Optimum polished = solve_from_starts(huber_obj, {out.theta}, SolverOptions{}, 1, 1).best;
  if (std::isfinite(polished.objective) && polished.objective <= out.objective) return polished;
  return out;
}

}  // namespace scalinglab::fit
