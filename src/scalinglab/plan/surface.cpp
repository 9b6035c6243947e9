#include "scalinglab/plan/surface.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "scalinglab/fit/data_constrained.h"
#include "scalinglab/fit/frontier.h"
#include "scalinglab/fit/problem.h"

namespace scalinglab::plan {

namespace {

// The registry's laws, built once (make_law is pure; the objects are immutable and thread-safe).
const fit::Law& registry_law(const char* name) {
  static const std::unique_ptr<fit::Law> chinchilla = fit::make_law("chinchilla");
  static const std::unique_ptr<fit::Law> kaplan = fit::make_law("kaplan-nd");
  static const std::unique_ptr<fit::Law> data_constrained = fit::make_law("data-constrained");
  const std::string n = name;
  return n == "chinchilla" ? *chinchilla : n == "kaplan-nd" ? *kaplan : *data_constrained;
}

double evaluate(const fit::Law& law, const std::vector<double>& pub, const fit::Run& at) {
  const std::vector<double> theta = law.to_internal(pub);
  return std::exp(law.log_predict(theta.data(), fit::log_point(at), nullptr));
}

}  // namespace

double KaplanParams::loss(double n, double d) const {
  return evaluate(registry_law("kaplan-nd"), {n_c, d_c, alpha_n, alpha_d}, {n, d, 6 * n * d, 0, 1, 0});
}

std::pair<double, double> Surface::effective(double n, double d) const {
  if (!data || form != Form::kChinchilla) return {n, d};
  const auto& p = chinchilla;
  const double u_d = std::min(d, data->unique_tokens);
  // N_opt(U_D): the N whose compute-optimal D is U_D (Muennighoff et al. 2023; D_to_N in their
  // code), as fit::DataConstrained::log_n_opt computes it for the law.
  const std::vector<double> theta = registry_law("data-constrained").to_internal(
      {p.E, p.A, p.B, p.alpha, p.beta, data->r_d_star, data->r_n_star});
  const double u_n = std::min(n, std::exp(fit::DataConstrained::log_n_opt(theta.data(), std::log(u_d))));
  return {fit::effective_count(u_n, n, data->r_n_star), fit::effective_count(u_d, d, data->r_d_star)};
}

double Surface::loss(double n, double d) const {
  if (form == Form::kKaplan) return kaplan.loss(n, d);
  const auto& p = chinchilla;
  if (!data) return evaluate(registry_law("chinchilla"), {p.E, p.A, p.B, p.alpha, p.beta}, {n, d, 6 * n * d, 0, 1, 0});
  // The data-constrained law at U_D = min(D, U) unique tokens seen.
  fit::Run at{n, d, 6 * n * d, 0, 1, 0, std::min(d, data->unique_tokens)};
  return evaluate(registry_law("data-constrained"), {p.E, p.A, p.B, p.alpha, p.beta, data->r_d_star, data->r_n_star}, at);
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
