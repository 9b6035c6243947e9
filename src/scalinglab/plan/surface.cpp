#include "scalinglab/plan/surface.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "scalinglab/fit/frontier.h"

namespace scalinglab::plan {

double KaplanParams::loss(double n, double d) const {
  return std::pow(std::pow(n_c / n, alpha_n / alpha_d) + d_c / d, alpha_d);
}

double effective_count(double total, double unique, double r_star) {
  const double r = total / unique - 1;
  // −expm1(−x) = 1 − e^(−x) without cancellation for the small R of a few repetitions.
  return unique + unique * r_star * -std::expm1(-r / r_star);
}

std::pair<double, double> Surface::effective(double n, double d) const {
  if (!data || form != Form::kChinchilla) return {n, d};
  const auto& p = chinchilla;
  const double u_d = std::min(d, data->unique_tokens);
  // N_opt(U_D): the N whose compute-optimal D is U_D, i.e. N_opt = G·(C/6)^a with (C/6)^b = U_D·G
  // (Muennighoff et al. 2023; D_to_N in their code).
  const double g = fit::chinchilla_G(p);
  const double n_for_u = std::pow(u_d * g, p.beta / p.alpha) * g;
  const double u_n = std::min(n, n_for_u);
  return {effective_count(n, u_n, data->r_n_star), effective_count(d, u_d, data->r_d_star)};
}

double Surface::loss(double n, double d) const {
  if (form == Form::kKaplan) return kaplan.loss(n, d);
  if (!data) return chinchilla.loss(n, d);
  auto [ne, de] = effective(n, d);
  return chinchilla.loss(ne, de);
}

std::string Surface::formula() const {
  std::ostringstream s;
  s.precision(5);
  if (form == Form::kKaplan) {
    s << "L = [(" << kaplan.n_c << "/N)^(" << kaplan.alpha_n << "/" << kaplan.alpha_d << ") + " << kaplan.d_c << "/D]^"
      << kaplan.alpha_d;
    return s.str();
  }
  const auto& p = chinchilla;
  const char* n = data ? "N'" : "N";
  const char* d = data ? "D'" : "D";
  s << "L = " << p.E << " + " << p.A << "/" << n << "^" << p.alpha << " + " << p.B << "/" << d << "^" << p.beta;
  if (data)
    s << "  (effective N', D' of Muennighoff et al. 2023: U = " << data->unique_tokens << " unique tokens, R_D* = "
      << data->r_d_star << ", R_N* = " << data->r_n_star << ")";
  return s.str();
}

std::vector<std::string> preset_surface_names() { return {"chinchilla", "epoch", "kaplan", "kaplan-joint", "muennighoff"}; }

Surface preset_surface(const std::string& name) {
  if (name == "chinchilla") return fit::ChinchillaParams{1.69, 406.4, 410.7, 0.34, 0.28};       // Hoffmann et al. 2022 eq. 10
  if (name == "epoch") return fit::ChinchillaParams{1.8172, 482.01, 2085.43, 0.3478, 0.3658};  // Besiroglu et al. 2024
  // Kaplan et al. 2020: eq. 1.5 with α_N, N_c of eq. 1.1 and α_D, D_c of eq. 1.2 (so the limits
  // N → ∞ and D → ∞ give those single-variable laws) ...
  if (name == "kaplan") return KaplanParams{8.8e13, 5.4e13, 0.076, 0.095};
  // ... and with the paper's own joint fit of eq. 1.5 (Table 2).
  if (name == "kaplan-joint") return KaplanParams{6.4e13, 1.8e13, 0.076, 0.103};
  // Muennighoff et al. 2023 parametric fit: exp of (ln A, ln B, ln E) = (6.255414, 7.3049974,
  // 0.6254804), α = β = 0.3526596 (their R_D*, R_N* are DataConstraint's defaults).
  if (name == "muennighoff")
    return fit::ChinchillaParams{std::exp(0.6254804), std::exp(6.255414), std::exp(7.3049974), 0.3526596, 0.3526596};
  std::string known;
  for (const auto& n : preset_surface_names()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown law preset '" + name + "' (known: " + known + ", or a fit JSON file)");
}

std::string preset_note(const std::string& name) {
  if (name == "kaplan" || name == "kaplan-joint")
    return "Kaplan et al. 2020 count N without embeddings and D in GPT-2 BPE tokens of WebText2 (losses in "
           "nats/token with that tokenizer): N_opt here is a non-embedding count, and its losses are not comparable "
           "with the Chinchilla presets'";
  if (name == "muennighoff")
    return "Muennighoff et al. 2023's base law was fitted to Chinchilla's C4 IsoFLOP runs";
  return "";
}

}  // namespace scalinglab::plan
