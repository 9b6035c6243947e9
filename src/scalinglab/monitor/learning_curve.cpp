#include "scalinglab/monitor/learning_curve.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "scalinglab/fit/huber_objective.h"
#include "scalinglab/fit/multistart.h"
#include "scalinglab/fit/problem.h"
#include "scalinglab/monitor/student_t.h"

namespace scalinglab::monitor {

const fit::Law& curve_law() {
  static const std::unique_ptr<fit::Law> law = fit::make_law("power");
  return *law;
}

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  size_t m = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(m), v.end());
  double hi = v[m];
  if (v.size() % 2) return hi;
  return 0.5 * (hi + *std::max_element(v.begin(), v.begin() + static_cast<long>(m)));
}

// ∂ log L̂ / ∂(ln B, E, β) at ln D = x for L̂ = E + B·D^(−β); written with stride `stride`
// (a row of a column-major n×3 matrix, or a plain array with stride 1).
void jacobian_phi(const std::vector<double>& theta, double x, double* out, size_t stride) {
  const double a = theta[0], e = theta[1], beta = theta[2];
  const double term = std::exp(a - beta * x), E = std::exp(e), L = E + term;
  out[0] = term / L;
  out[stride] = 1 / L;
  out[2 * stride] = -x * term / L;
}

// Starts from the data: E a fraction of the lowest loss, β on a grid, B through the first point.
std::vector<std::vector<double>> data_starts(const fit::Problem& p, bool small) {
  double lmin = INFINITY, x0 = INFINITY, l0 = NAN;
  for (size_t i = 0; i < p.size(); ++i) {
    lmin = std::min(lmin, std::exp(p.log_loss[i]));
    if (p.x[i].x < x0) x0 = p.x[i].x, l0 = std::exp(p.log_loss[i]);
  }
  std::vector<double> fracs = small ? std::vector<double>{0.5, 0.9} : std::vector<double>{0.05, 0.5, 0.8, 0.95};
  std::vector<double> betas = small ? std::vector<double>{0.2, 0.5, 1.0} : std::vector<double>{0.1, 0.2, 0.35, 0.5, 0.75, 1.0};
  std::vector<std::vector<double>> starts;
  for (double f : fracs)
    for (double b : betas) {
      double e = f * lmin;
      double excess = std::max(l0 - e, 1e-3 * l0);
      starts.push_back({std::log(excess) + b * x0, std::log(e), b});  // θ = [a, e, β]
    }
  return starts;
}

}  // namespace

CurvePrediction CurveFit::at(double tokens, double level, bool simultaneous) const {
  CurvePrediction out;
  if (!ok || !(tokens > 0)) return out;
  const fit::Law& law = curve_law();
  const size_t k = 3;
  fit::LogPoint lp;
  lp.x = std::log(tokens);
  double mu = law.log_predict(theta.data(), lp, nullptr);
  double g[3];
  jacobian_phi(theta, lp.x, g, 1);
  double var = 0;
  for (size_t i = 0; i < k; ++i)
    for (size_t j = 0; j < k; ++j) var += g[i] * cov[i * k + j] * g[j];
  var = std::max(var, 0.0);
  if (level != cached_level) {
    cached_t = student_t_quantile(0.5 + level / 2, dof);
    cached_s = std::sqrt(static_cast<double>(k) * fisher_f_quantile(level, static_cast<double>(k), dof));
    cached_level = level;
  }
  const double t = cached_t, s = simultaneous ? cached_s : cached_t;
  out.value = std::exp(mu);
  out.ci_lo = std::exp(mu - s * std::sqrt(var));
  out.ci_hi = std::exp(mu + s * std::sqrt(var));
  double w = std::sqrt(s * s * var + t * t * sigma * sigma);
  out.pi_lo = std::exp(mu - w);
  out.pi_hi = std::exp(mu + w);
  return out;
}

CurveFit fit_learning_curve(const std::vector<double>& tokens, const std::vector<double>& loss,
                            const std::vector<double>* warm_start) {
  CurveFit out;
  const fit::Law& law = curve_law();
  const size_t k = law.dim();
  fit::Problem prob;
  for (size_t i = 0; i < tokens.size() && i < loss.size(); ++i) {
    if (!(tokens[i] > 0) || !(loss[i] > 0) || !std::isfinite(loss[i])) continue;
    fit::LogPoint lp;
    lp.x = std::log(tokens[i]);
    prob.x.push_back(lp);
    prob.log_loss.push_back(std::log(loss[i]));
  }
  const size_t n = prob.size();
  out.points = static_cast<int>(n);
  if (n < static_cast<size_t>(kMinCurvePoints)) {
    out.message = "a learning curve needs at least " + std::to_string(kMinCurvePoints) + " points, have " + std::to_string(n);
    return out;
  }
  fit::SolverOptions solver;
  solver.max_iterations = 500;

  // Stage 1: the project's Huber δ, from several starts.
  auto starts = data_starts(prob, warm_start != nullptr);
  if (warm_start && warm_start->size() == k) starts.insert(starts.begin(), *warm_start);
  fit::HuberObjective obj1(law, prob, nullptr, 1e-3, 0);
  fit::MultiStartResult ms = fit::minimize_from_starts(obj1, starts, solver, 1, 1);
  if (!std::isfinite(ms.best.objective)) {
    out.message = "the learning-curve fit found no finite optimum";
    return out;
  }
  auto residuals = [&](const std::vector<double>& th, std::vector<double>& r, Eigen::MatrixXd* J) {
    r.resize(n);
    double g[8];
    for (size_t i = 0; i < n; ++i) {
      r[i] = law.log_predict(th.data(), prob.x[i], J ? g : nullptr) - prob.log_loss[i];
      if (J)
        for (size_t j = 0; j < k; ++j) (*J)(static_cast<long>(i), static_cast<long>(j)) = g[j];
    }
  };
  std::vector<double> r;
  residuals(ms.best.theta, r, nullptr);
  std::vector<double> absr(n);
  for (size_t i = 0; i < n; ++i) absr[i] = std::fabs(r[i]);
  const double p = static_cast<double>(k), nn = static_cast<double>(n);
  double s = 1.4826 * median(absr) * std::sqrt(nn / (nn - p));

  // Stage 2: δ at the noise scale.
  out.delta = std::max(1.345 * s, 1e-7);
  fit::HuberObjective obj2(law, prob, nullptr, out.delta, 0);
  fit::Optimum o2 = fit::minimize(obj2, ms.best.theta, solver);
  out.theta = std::isfinite(o2.objective) && o2.objective <= obj2.value(ms.best.theta.data(), nullptr) ? o2.theta : ms.best.theta;

  residuals(out.theta, r, nullptr);
  // Jacobian in φ = (a = ln B, E, β) rather than θ's e = ln E: when the fit sits at E → 0 the
  // derivative in e vanishes and a covariance in θ would claim E is known exactly, while in E it
  // stays 1/L̂ and the band keeps the (one-sided, but real) uncertainty of the floor.
  Eigen::MatrixXd J(static_cast<long>(n), static_cast<long>(k));
  for (size_t i = 0; i < n; ++i) jacobian_phi(out.theta, prob.x[i].x, &J(static_cast<long>(i), 0), n);
  double sum_psi2 = 0, inside = 0, rss = 0;
  for (double x : r) {
    double psi = fit::huber_derivative(x, out.delta);
    sum_psi2 += psi * psi;
    rss += x * x;
    if (std::fabs(x) <= out.delta) inside += 1;
  }
  double m = std::max(inside / nn, 1.0 / nn);
  // The M-estimator's scale, floored by the classical RSS/(n−p): with a dozen points the
  // median-based δ can come out several times too small by chance, and a band that narrow
  // would flag a healthy run.
  double scale2 = std::max(sum_psi2 / (nn - p) / (m * m), rss / (nn - p));
  double kappa = 1 + (p / nn) * (m * (1 - m)) / (m * m);
  out.sigma = std::sqrt(scale2);
  out.dof = static_cast<int>(n - k);

  Eigen::MatrixXd jtj = J.transpose() * J;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(jtj);
  Eigen::VectorXd ev = es.eigenvalues();
  double top = ev.maxCoeff();
  Eigen::VectorXd inv(ev.size());
  for (long i = 0; i < ev.size(); ++i) inv(i) = ev(i) > 1e-12 * top ? 1.0 / ev(i) : 0.0;
  Eigen::MatrixXd c = es.eigenvectors() * inv.asDiagonal() * es.eigenvectors().transpose() * (kappa * kappa * scale2);
  out.cov.assign(k * k, 0);
  for (size_t i = 0; i < k; ++i)
    for (size_t j = 0; j < k; ++j) out.cov[i * k + j] = c(static_cast<long>(i), static_cast<long>(j));
  auto pub = law.to_public(out.theta.data());  // E, A, alpha
  out.E = pub[0];
  out.B = pub[1];
  out.beta = pub[2];
  out.ok = true;
  return out;
}

}  // namespace scalinglab::monitor
