#include "scalinglab/fit/kaplan_nd.h"

#include <algorithm>
#include <cmath>

namespace scalinglab::fit {

double KaplanND::log_predict(const double* th, const LogPoint& p, double* grad) const {
  const double ln_nc = th[0], ln_dc = th[1], an = th[2], ad = th[3];
  const double r = an / ad;
  const double u = r * (ln_nc - p.n), v = ln_dc - p.d;
  const double m = std::max(u, v);
  const double eu = std::exp(u - m), ev = std::exp(v - m);
  const double s = m + std::log(eu + ev);
  if (grad) {
    const double wu = eu / (eu + ev), wv = ev / (eu + ev);
    grad[0] = an * wu;                // ∂/∂ln N_c = α_D·w_u·(α_N/α_D)
    grad[1] = ad * wv;                // ∂/∂ln D_c
    grad[2] = wu * (ln_nc - p.n);     // ∂/∂α_N
    grad[3] = s - wu * u;             // ∂/∂α_D = S + α_D·w_u·∂u/∂α_D, ∂u/∂α_D = −u/α_D
  }
  return ad * s;
}

std::vector<double> KaplanND::to_public(const double* th) const {
  return {std::exp(th[0]), std::exp(th[1]), th[2], th[3]};
}

std::vector<double> KaplanND::to_internal(const std::vector<double>& pub) const {
  return {std::log(pub[0]), std::log(pub[1]), pub[2], pub[3]};
}

std::vector<std::vector<double>> KaplanND::default_starts() const {
  // Around Kaplan's Table 2 fit (N_c = 6.4e13 → ln 31.8, D_c = 1.8e13 → ln 30.5, α ≈ 0.08–0.1),
  // widened by orders of magnitude because small-scale pilots land far from those values.
  std::vector<std::vector<double>> s;
  for (double ln_nc : {10.0, 20.0, 30.0, 40.0})
    for (double ln_dc : {10.0, 20.0, 30.0, 40.0})
      for (double an : {0.05, 0.1, 0.3, 0.6})
        for (double ad : {0.05, 0.1, 0.3, 0.6}) s.push_back({ln_nc, ln_dc, an, ad});
  return s;
}

}  // namespace scalinglab::fit
