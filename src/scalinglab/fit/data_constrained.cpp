#include "scalinglab/fit/data_constrained.h"

#include <algorithm>
#include <cmath>

namespace scalinglab::fit {

EffectiveLog effective_log(double log_unique, double log_total, double log_rstar) {
  // R = X/U − 1 ≥ 0 (expm1 keeps small repetition counts exact), q = R/R*, h = 1 + R*(1 − e^−q).
  const double r = std::max(0.0, std::expm1(log_total - log_unique));
  const double rstar = std::exp(log_rstar);
  const double q = r / rstar;
  const double s = std::exp(-q);
  const double one_minus_s = -std::expm1(-q);
  const double h = 1 + rstar * one_minus_s;
  EffectiveLog out;
  out.value = log_unique + std::log1p(rstar * one_minus_s);
  // ∂h/∂R = s, ∂R/∂ln X = R + 1 = −∂R/∂ln U; ∂h/∂ln R* = R*(1 − s) − s·R.
  const double dx = s * (r + 1) / h;
  out.d_log_total = dx;
  out.d_log_unique = 1 - dx;
  out.d_log_rstar = (rstar * one_minus_s - s * r) / h;
  return out;
}

double effective_count(double unique, double total, double rstar) {
  const double r = total / unique - 1;
  return unique + unique * rstar * (-std::expm1(-r / rstar));
}

namespace {
enum { kA = 0, kB, kE, kAlpha, kBeta, kRD, kRN };
}

double DataConstrained::log_n_opt(const double* th, double log_unique) {
  const double alpha = th[kAlpha], beta = th[kBeta];
  if (!(alpha > 0) || !(beta > 0)) return NAN;
  // ln G = (ln α + a − ln β − b)/(α + β); N_opt(U) = G·(U·G)^(β/α).
  const double log_g = (std::log(alpha) + th[kA] - std::log(beta) - th[kB]) / (alpha + beta);
  return log_g + (beta / alpha) * (log_unique + log_g);
}

double DataConstrained::log_predict(const double* th, const LogPoint& p, double* grad) const {
  const double a = th[kA], b = th[kB], e = th[kE], alpha = th[kAlpha], beta = th[kBeta];
  // Effective data D'.
  const EffectiveLog dp = effective_log(p.u, p.d, th[kRD]);

  // Effective parameters N': U_N = min(N, N_opt(U_D)).
  double log_np = p.n;
  double dnp[7] = {0, 0, 0, 0, 0, 0, 0};  // ∂ ln N' / ∂θ
  const double log_nopt = log_n_opt(th, p.u);
  if (std::isfinite(log_nopt) && p.n > log_nopt) {
    const EffectiveLog np = effective_log(log_nopt, p.n, th[kRN]);
    log_np = np.value;
    if (grad) {
      // ∂ ln N_opt / ∂(a, b, α, β) through ln G and k = β/α.
      const double s = alpha + beta, k = beta / alpha;
      const double big_l = std::log(alpha) + a - std::log(beta) - b;
      const double log_g = big_l / s;
      const double dg_a = 1 / s, dg_b = -1 / s;
      const double dg_alpha = 1 / (alpha * s) - big_l / (s * s);
      const double dg_beta = -1 / (beta * s) - big_l / (s * s);
      const double tail = log_g + p.u;  // ∂ ln N_opt/∂k
      const double g_u = np.d_log_unique;
      dnp[kA] = g_u * (1 + k) * dg_a;
      dnp[kB] = g_u * (1 + k) * dg_b;
      dnp[kAlpha] = g_u * ((1 + k) * dg_alpha - (beta / (alpha * alpha)) * tail);
      dnp[kBeta] = g_u * ((1 + k) * dg_beta + tail / alpha);
      dnp[kRN] = np.d_log_rstar;
    }
  }

  // log L̂ = LSE(a − α ln N', b − β ln D', e).
  const double z1 = a - alpha * log_np, z2 = b - beta * dp.value, z3 = e;
  const double m = std::max({z1, z2, z3});
  const double w1 = std::exp(z1 - m), w2 = std::exp(z2 - m), w3 = std::exp(z3 - m);
  const double sum = w1 + w2 + w3;
  if (grad) {
    const double p1 = w1 / sum, p2 = w2 / sum, p3 = w3 / sum;
    for (int j = 0; j < 7; ++j) grad[j] = -p1 * alpha * dnp[j];  // ln N' depends on θ (U_N, R_N*)
    grad[kA] += p1;
    grad[kB] += p2;
    grad[kE] += p3;
    grad[kAlpha] += -p1 * log_np;
    grad[kBeta] += -p2 * dp.value;
    grad[kRD] += -p2 * beta * dp.d_log_rstar;
  }
  return m + std::log(sum);
}

std::vector<double> DataConstrained::to_public(const double* th) const {
  return {std::exp(th[kE]), std::exp(th[kA]), std::exp(th[kB]), th[kAlpha], th[kBeta], std::exp(th[kRD]),
          std::exp(th[kRN])};
}

std::vector<double> DataConstrained::to_internal(const std::vector<double>& pub) const {
  // pub = (E, A, B, α, β, R_D*, R_N*)
  return {std::log(pub[1]), std::log(pub[2]), std::log(pub[0]), pub[3], pub[4], std::log(pub[5]), std::log(pub[6])};
}

int DataConstrained::internal_index_of(size_t i) const {
  static const int map[7] = {kE, kA, kB, kAlpha, kBeta, kRD, kRN};
  return i < 7 ? map[i] : -1;
}

std::vector<std::vector<double>> DataConstrained::default_starts() const {
  // A coarse version of Hoffmann et al.'s grid for the Chinchilla part (a, b ∈ {0, 10, 20},
  // e ∈ {−1, 1}, exponents {0.2, 0.6} around the published 0.28–0.36) times R_D* ∈ {5, 20}
  // bracketing Muennighoff et al.'s 15.4, R_N* at 5 (their 5.3): 144 starts. On repeated-epoch
  // synthetic data more than half of them reach the best optimum; a 2,700-point grid found the
  // same optimum 20 times slower.
  std::vector<std::vector<double>> s;
  for (double a : {0.0, 10.0, 20.0})
    for (double b : {0.0, 10.0, 20.0})
      for (double e : {-1.0, 1.0})
        for (double alpha : {0.2, 0.6})
          for (double beta : {0.2, 0.6})
            for (double rd : {5.0, 20.0}) s.push_back({a, b, e, alpha, beta, std::log(rd), std::log(5.0)});
  return s;
}

}  // namespace scalinglab::fit
