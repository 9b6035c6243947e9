#include "scalinglab/monitor/schedule_curve.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "scalinglab/fit/huber_objective.h"
#include "scalinglab/monitor/law_band.h"
#include "scalinglab/monitor/student_t.h"

namespace scalinglab::monitor {

namespace {

constexpr double kAlphaMin = 0.02, kAlphaMax = 3.0;

double median_abs(std::vector<double> v) {
  for (double& x : v) x = std::fabs(x);
  return select_quantile(v, 0.5);
}

struct Data {
  std::vector<double> s1, s2, loss, w;  // w: Huber weights
  double prior_row = 0, prior_target = 0;  // the prior as one weighted observation of C
  double sigma = 0.01;                      // data rows are divided by it (relative noise)
};

struct Solution {
  double objective = INFINITY;
  double beta[3] = {0, 0, 0};  // L0, A, C
};

// Non-negative least squares in (L0, A, C) for a fixed α: the best of the 8 active sets whose
// free variables come out non-negative (the KKT optimum is one of them).
Solution solve_linear(const Data& d, double alpha) {
  const long n = static_cast<long>(d.loss.size());
  const bool prior = d.prior_row > 0;
  Eigen::MatrixXd X(n + (prior ? 1 : 0), 3);
  Eigen::VectorXd y(X.rows());
  for (long i = 0; i < n; ++i) {
    double sc = std::sqrt(d.w[i]) / (d.sigma * d.loss[i]);
    X(i, 0) = sc;
    X(i, 1) = sc * std::pow(d.s1[i], -alpha);
    X(i, 2) = -sc * d.s2[i];
    y(i) = std::sqrt(d.w[i]) / d.sigma;
  }
  if (prior) {
    X(n, 0) = X(n, 1) = 0;
    X(n, 2) = d.prior_row;
    y(n) = d.prior_target;
  }
  Solution best;
  for (int mask = 0; mask < 8; ++mask) {
    std::vector<int> free;
    for (int j = 0; j < 3; ++j)
      if (mask & (1 << j)) free.push_back(j);
    double b[3] = {0, 0, 0};
    if (!free.empty()) {
      Eigen::MatrixXd Xf(X.rows(), static_cast<long>(free.size()));
      for (size_t k = 0; k < free.size(); ++k) Xf.col(static_cast<long>(k)) = X.col(free[k]);
      Eigen::VectorXd bf = Xf.colPivHouseholderQr().solve(y);
      bool ok = true;
      for (size_t k = 0; k < free.size(); ++k) {
        if (!std::isfinite(bf(static_cast<long>(k))) || bf(static_cast<long>(k)) < 0) ok = false;
        b[free[k]] = bf(static_cast<long>(k));
      }
      if (!ok) continue;
    }
    Eigen::Vector3d bv(b[0], b[1], b[2]);
    double obj = (X * bv - y).squaredNorm();
    if (obj < best.objective) {
      best.objective = obj;
      std::copy(b, b + 3, best.beta);
    }
  }
  return best;
}

// The profile over α: grid in log α, then golden section around the best grid point.
std::pair<double, Solution> solve(const Data& d) {
  const int grid = 48;
  std::vector<double> a(grid);
  for (int k = 0; k < grid; ++k)
    a[k] = std::exp(std::log(kAlphaMin) + (std::log(kAlphaMax) - std::log(kAlphaMin)) * k / (grid - 1));
  int kb = 0;
  Solution sb;
  for (int k = 0; k < grid; ++k) {
    Solution s = solve_linear(d, a[k]);
    if (s.objective < sb.objective) sb = s, kb = k;
  }
  double lo = a[std::max(kb - 1, 0)], hi = a[std::min(kb + 1, grid - 1)];
  const double g = (std::sqrt(5.0) - 1) / 2;
  double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
  Solution f1 = solve_linear(d, x1), f2 = solve_linear(d, x2);
  for (int it = 0; it < 40; ++it) {
    if (f1.objective < f2.objective) {
      hi = x2, x2 = x1, f2 = f1, x1 = hi - g * (hi - lo), f1 = solve_linear(d, x1);
    } else {
      lo = x1, x1 = x2, f1 = f2, x2 = lo + g * (hi - lo), f2 = solve_linear(d, x2);
    }
  }
  double ab = a[kb];
  if (f1.objective < sb.objective) sb = f1, ab = x1;
  if (f2.objective < sb.objective) sb = f2, ab = x2;
  return {ab, sb};
}

}  // namespace

double ScheduleFit::value(double s1, double s2) const {
  if (!ok || !(s1 > 0)) return NAN;
  return L0 + A * std::pow(s1, -alpha) - C * s2;
}

CurvePrediction ScheduleFit::at(double s1, double s2, double level, bool simultaneous) const {
  CurvePrediction out;
  if (!ok || !(s1 > 0)) return out;
  const double x = std::pow(s1, -alpha);
  double v = L0 + A * x - C * s2;
  if (!(v > 0)) return out;  // the extrapolated anneal overshoots: no prediction
  const double g[4] = {1, x, -s2, -A * x * std::log(s1)};
  double var = 0;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) var += g[i] * cov[static_cast<size_t>(i * 4 + j)] * g[j];
  var = std::max(var, 0.0) / (v * v);
  if (level != cached_level) {
    const double p = anneal_identified ? 4 : 3;
    cached_t = student_t_quantile(0.5 + level / 2, dof);
    cached_s = std::sqrt(p * fisher_f_quantile(level, p, dof));
    cached_level = level;
  }
  const double s = simultaneous ? cached_s : cached_t, t = cached_t;
  const double mu = std::log(v);
  out.value = v;
  out.ci_lo = std::exp(mu - s * std::sqrt(var));
  out.ci_hi = std::exp(mu + s * std::sqrt(var));
  const double w = std::sqrt(s * s * var + t * t * sigma * sigma);
  out.pi_lo = std::exp(mu - w);
  out.pi_hi = std::exp(mu + w);
  return out;
}

ScheduleFit fit_schedule_curve(const std::vector<double>& s1, const std::vector<double>& s2,
                               const std::vector<double>& loss, const ScheduleFitOptions& options) {
  ScheduleFit out;
  Data d;
  double max_s2 = 0;
  for (size_t i = 0; i < s1.size() && i < s2.size() && i < loss.size(); ++i) {
    if (!(s1[i] > 0) || !(loss[i] > 0) || !std::isfinite(loss[i])) continue;
    d.s1.push_back(s1[i]);
    d.s2.push_back(s2[i]);
    d.loss.push_back(loss[i]);
    max_s2 = std::max(max_s2, s2[i]);
  }
  const size_t n = d.loss.size();
  out.points = static_cast<int>(n);
  if (n < static_cast<size_t>(kMinCurvePoints)) {
    out.message = "a learning curve needs at least " + std::to_string(kMinCurvePoints) + " evaluations, have " + std::to_string(n);
    return out;
  }
  d.w.assign(n, 1.0);
  // The window tells C only when S2 grew within it by a visible amount (relative to the anneal
  // that the prior speaks of).
  out.anneal_identified = max_s2 > 0 && (options.s2_ref <= 0 || max_s2 > 0.02 * options.s2_ref);
  const double p = out.anneal_identified ? 4 : 3, nn = static_cast<double>(n);
  const double l_ref = d.loss.back();
  const bool use_prior = options.s2_ref > 0 && options.prior.drop_sd > 0;

  std::pair<double, Solution> best;
  std::vector<double> r(n);
  double scale = 0.01;
  for (int pass = 0; pass < 5; ++pass) {
    d.sigma = scale;
    if (use_prior) {
      d.prior_row = options.s2_ref / (l_ref * options.prior.drop_sd);
      d.prior_target = options.prior.drop / options.prior.drop_sd;
    }
    best = solve(d);
    const double a = best.first;
    const double* b = best.second.beta;
    for (size_t i = 0; i < n; ++i) {
      double pred = b[0] + b[1] * std::pow(d.s1[i], -a) - b[2] * d.s2[i];
      r[i] = (d.loss[i] - pred) / d.loss[i];
    }
    double s = 1.4826 * median_abs(r) * std::sqrt(nn / std::max(nn - p, 1.0));
    double rss = 0;
    for (double x : r) rss += x * x;
    s = std::max(s, 1e-6);
    out.delta = 1.345 * s;
    for (size_t i = 0; i < n; ++i) d.w[i] = std::fabs(r[i]) <= out.delta ? 1.0 : out.delta / std::fabs(r[i]);
    scale = std::max(s, std::sqrt(rss / std::max(nn - p, 1.0)));
  }
  out.alpha = best.first;
  out.L0 = best.second.beta[0];
  out.A = best.second.beta[1];
  out.C = best.second.beta[2];

  // The residual scale: Huber's, floored by the classical RSS/(n − p) (few points: the median
  // scale can come out several times too small by chance).
  double sum_psi2 = 0, inside = 0, rss = 0;
  for (double x : r) {
    double psi = fit::huber_derivative(x, out.delta);
    sum_psi2 += psi * psi;
    rss += x * x;
    if (std::fabs(x) <= out.delta) inside += 1;
  }
  const double m = std::max(inside / nn, 1.0 / nn);
  const double dof = std::max(nn - p, 1.0);
  const double scale2 = std::max(sum_psi2 / dof / (m * m), rss / dof);
  out.sigma = std::sqrt(scale2);
  // Evaluations of one run are not independent: the weights wander for many steps, so residuals
  // of neighbouring evaluations share sign (lag-1 autocorrelation ρ). A band for "several
  // evaluations in a row" then needs the long-run scale of an AR(1) process,
  // σ·sqrt((1 + ρ)/(1 − ρ)) (Box & Jenkins), capped at 3σ.
  {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; ++i) {
      den += r[i] * r[i];
      if (i > 0) num += r[i] * r[i - 1];
    }
    out.rho = den > 0 ? std::clamp(num / den, 0.0, 0.8) : 0.0;
    out.sigma *= std::min(3.0, std::sqrt((1 + out.rho) / (1 - out.rho)));
  }
  out.dof = static_cast<int>(dof);

  // Gauss–Newton covariance of (L0, A, C, α): data rows in units of σ̂, the prior row in its own.
  Eigen::MatrixXd J(static_cast<long>(n), 4);
  for (size_t i = 0; i < n; ++i) {
    const long k = static_cast<long>(i);
    const double x = std::pow(d.s1[i], -out.alpha);
    const double sc = std::sqrt(d.w[i]) / d.loss[i];
    J(k, 0) = sc;
    J(k, 1) = sc * x;
    J(k, 2) = -sc * d.s2[i];
    J(k, 3) = -sc * out.A * x * std::log(d.s1[i]);
  }
  Eigen::Matrix4d N = J.transpose() * J / scale2;
  if (use_prior) N(2, 2) += std::pow(options.s2_ref / (l_ref * options.prior.drop_sd), 2);
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix4d> es(N);
  Eigen::Vector4d ev = es.eigenvalues();
  const double top = ev.maxCoeff();
  Eigen::Vector4d inv;
  for (int i = 0; i < 4; ++i) inv(i) = ev(i) > 1e-12 * top ? 1.0 / ev(i) : 0.0;
  Eigen::Matrix4d c = es.eigenvectors() * inv.asDiagonal() * es.eigenvectors().transpose();
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) out.cov[static_cast<size_t>(i * 4 + j)] = c(i, j);
  out.drop_ref = options.s2_ref > 0 ? out.C * options.s2_ref / l_ref : NAN;
  out.ok = true;
  return out;
}

}  // namespace scalinglab::monitor
