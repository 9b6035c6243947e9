#include "scalinglab/fit/power_law_regression.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace scalinglab::fit {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

double PowerLawFit::predict(double x) const { return std::exp(log_k + p * std::log(x)); }

double PowerLawFit::se_log_predict(double x) const {
  const double lx = std::log(x);
  const double var = se_log_k * se_log_k + lx * lx * se_p * se_p + 2.0 * lx * cov_log_k_p;
  return std::sqrt(std::max(var, 0.0));
}

PowerLawFit fit_power_law(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size())
    throw std::invalid_argument("power-law fit: x has " + std::to_string(x.size()) + " values but y has " +
                                std::to_string(y.size()));
  const size_t n = x.size();
  if (n < 2) throw std::invalid_argument("power-law fit: need at least 2 points, got " + std::to_string(n));
  Eigen::VectorXd lx(n), ly(n);
  for (size_t i = 0; i < n; ++i) {
    if (!(std::isfinite(x[i]) && x[i] > 0 && std::isfinite(y[i]) && y[i] > 0))
      throw std::invalid_argument("power-law fit: point " + std::to_string(i) + " is (" + std::to_string(x[i]) +
                                  ", " + std::to_string(y[i]) + "); both must be positive and finite");
    lx[static_cast<Eigen::Index>(i)] = std::log(x[i]);
    ly[static_cast<Eigen::Index>(i)] = std::log(y[i]);
  }
  // Centre ln x before solving: compute budgets sit near ln C ≈ 40–60, where the uncentred
  // design [1, ln x] is badly conditioned; the centred one has orthogonal columns.
  const double mx = lx.mean();
  Eigen::MatrixXd design(static_cast<Eigen::Index>(n), 2);
  design.col(0).setOnes();
  design.col(1) = lx.array() - mx;
  const double sxx = design.col(1).squaredNorm();
  if (!(sxx > 0) || design.col(1).cwiseAbs().maxCoeff() <= 1e-12 * std::max(1.0, std::abs(mx)))
    throw std::invalid_argument("power-law fit: all x values are equal, the exponent is undetermined");
  const Eigen::Vector2d beta = design.colPivHouseholderQr().solve(ly);

  PowerLawFit f;
  f.n = n;
  f.mean_log_x = mx;
  f.p = beta[1];
  f.log_k = beta[0] - beta[1] * mx;
  f.k = std::exp(f.log_k);
  const Eigen::VectorXd resid = ly - design * beta;
  f.residuals.assign(resid.data(), resid.data() + n);
  const double rss = resid.squaredNorm();
  const double tss = (ly.array() - ly.mean()).matrix().squaredNorm();
  f.r2 = tss > 0 ? 1.0 - rss / tss : 1.0;
  if (n > 2) {
    const double s2 = rss / static_cast<double>(n - 2);
    f.residual_sd = std::sqrt(s2);
    // OLS covariance s²(XᵀX)⁻¹ for the centred design, mapped back to (ln k, p) with
    // ln k = β0 − p·x̄:  var(ln k) = s²(1/n + x̄²/Sxx),  cov(ln k, p) = −x̄·s²/Sxx.
    f.se_p = std::sqrt(s2 / sxx);
    f.se_log_k = std::sqrt(s2 * (1.0 / static_cast<double>(n) + mx * mx / sxx));
    f.cov_log_k_p = -mx * s2 / sxx;
  } else {
    f.residual_sd = f.se_p = f.se_log_k = f.cov_log_k_p = kNaN;
  }
  f.se_k = f.k * f.se_log_k;
  return f;
}

OptimalScaling fit_optimal_scaling(std::span<const double> c, std::span<const double> n_opt,
                                   std::span<const double> d_opt, std::span<const double> predict_at) {
  OptimalScaling s;
  s.n_fit = fit_power_law(c, n_opt);
  s.d_fit = fit_power_law(c, d_opt);
  s.a.value = s.n_fit.p;
  s.a.se_analytic = s.n_fit.se_p;
  s.b.value = s.d_fit.p;
  s.b.se_analytic = s.d_fit.se_p;
  s.k_n.value = s.n_fit.k;
  s.k_n.se_analytic = s.n_fit.se_k;
  s.k_d.value = s.d_fit.k;
  s.k_d.se_analytic = s.d_fit.se_k;
  for (double cp : predict_at) {
    if (!(std::isfinite(cp) && cp > 0))
      throw std::invalid_argument("compute value for prediction must be positive and finite, got " +
                                  std::to_string(cp));
    OptimumAt o;
    o.c = cp;
    o.n_opt.value = s.n_fit.predict(cp);
    o.n_opt.se_analytic = o.n_opt.value * s.n_fit.se_log_predict(cp);  // delta method on exp
    o.d_opt.value = s.d_fit.predict(cp);
    o.d_opt.se_analytic = o.d_opt.value * s.d_fit.se_log_predict(cp);
    s.predictions.push_back(o);
  }
  return s;
}

ScalingDraw draw_from(const PowerLawFit& n_fit, const PowerLawFit& d_fit) {
  return ScalingDraw{true, n_fit.p, n_fit.log_k, d_fit.p, d_fit.log_k};
}

ScalingDraw draw_from_points(const std::vector<double>& c, const std::vector<double>& n_opt,
                             const std::vector<double>& d_opt) {
  if (c.size() < 2) return {};
  try {
    return draw_from(fit_power_law(c, n_opt), fit_power_law(c, d_opt));
  } catch (const std::invalid_argument&) {
    return {};  // e.g. two budgets with identical C under explicit ids
  }
}

void add_bootstrap(OptimalScaling& s, const std::vector<ScalingDraw>& draws, uint64_t seed, double coverage) {
  auto fill = [coverage](Estimate& e, const std::vector<double>& v) { add_replicates(e, v, coverage); };
  s.seed = seed;
  s.bootstrap_requested = static_cast<int>(draws.size());
  std::vector<double> a, b, kn, kd;
  std::vector<std::vector<double>> pn(s.predictions.size()), pd(s.predictions.size());
  for (const auto& d : draws) {
    if (!d.ok) continue;
    a.push_back(d.a);
    b.push_back(d.b);
    kn.push_back(std::exp(d.log_k_n));
    kd.push_back(std::exp(d.log_k_d));
    for (size_t i = 0; i < s.predictions.size(); ++i) {
      const double lc = std::log(s.predictions[i].c);
      pn[i].push_back(std::exp(d.log_k_n + d.a * lc));
      pd[i].push_back(std::exp(d.log_k_d + d.b * lc));
    }
  }
  s.bootstrap_used = static_cast<int>(a.size());
  fill(s.a, a);
  fill(s.b, b);
  fill(s.k_n, kn);
  fill(s.k_d, kd);
  for (size_t i = 0; i < s.predictions.size(); ++i) {
    fill(s.predictions[i].n_opt, pn[i]);
    fill(s.predictions[i].d_opt, pd[i]);
  }
}

nlohmann::json to_json(const PowerLawFit& f) {
  return {{"k", num(f.k)},         {"p", num(f.p)},       {"se_k", num(f.se_k)},
          {"se_p", num(f.se_p)},   {"r2", num(f.r2)},     {"residual_sd", num(f.residual_sd)},
          {"n", f.n}};
}

void write_scaling_json(nlohmann::json& out, const OptimalScaling& s) {
  out["a"] = to_json(s.a);
  out["b"] = to_json(s.b);
  out["k_N"] = to_json(s.k_n);
  out["k_D"] = to_json(s.k_d);
  out["r2_N"] = num(s.n_fit.r2);
  out["r2_D"] = num(s.d_fit.r2);
  auto preds = nlohmann::json::array();
  for (const auto& p : s.predictions)
    preds.push_back({{"C", p.c}, {"N_opt", to_json(p.n_opt)}, {"D_opt", to_json(p.d_opt)}});
  out["predictions"] = preds;
  out["bootstrap"] = {{"requested", s.bootstrap_requested}, {"used", s.bootstrap_used}, {"seed", s.seed}};
}

}  // namespace scalinglab::fit
