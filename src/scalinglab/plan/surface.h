#pragma once
// The loss surface L(N, D) the planner optimises over: the Chinchilla form (Hoffmann et al. 2022
// eq. 2), Kaplan et al. 2020's joint form (eq. 1.5), and either of the Chinchilla form's inputs
// replaced by Muennighoff et al. 2023's effective (repeated) data and parameters when the unique
// tokens are limited. One value type rather than a class hierarchy, so bootstrap replicates are
// plain copies and every optimiser in optimum.h works on any of them.
#include <optional>
#include <string>
#include <vector>

#include "scalinglab/fit/synthetic.h"

namespace scalinglab::plan {

// Kaplan et al. 2020 eq. 1.5: L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D. Kaplan's N counts
// non-embedding parameters and his D is in GPT-2 BPE tokens of WebText2, losses in nats/token.
// loss() evaluates the registry's `kaplan-nd` law (fit/kaplan_nd.h) at these parameters.
struct KaplanParams {
  double n_c = 8.8e13, d_c = 5.4e13, alpha_n = 0.076, alpha_d = 0.095;
  double loss(double n, double d) const;
};

// Muennighoff et al. 2023 ("Scaling Data-Constrained Language Models"), parametric fit (the
// registry's `data-constrained` law, fit/data_constrained.h, evaluates it): with
// U_D = min(D, U) unique tokens seen and R_D = D/U_D − 1 repetitions, the effective data is
// D' = U_D + U_D·R_D*·(1 − e^(−R_D/R_D*)); with U_N = min(N, N_opt(U_D)) — the compute-optimal N of
// the base law for U_D tokens, N_opt(U) = (U·G)^(β/α)·G — and R_N = N/U_N − 1, the effective size is
// N' = U_N + U_N·R_N*·(1 − e^(−R_N/R_N*)). Defaults are the paper's fitted R_D* and R_N*.
struct DataConstraint {
  double unique_tokens = 0;     // U
  double r_d_star = 15.387756;  // R_D*
  double r_n_star = 5.309743;   // R_N*
};

struct Surface {
  enum class Form { kChinchilla, kKaplan };
  Form form = Form::kChinchilla;
  fit::ChinchillaParams chinchilla;  // E, A, B, α, β (also the base of the data-constrained law)
  KaplanParams kaplan;
  std::optional<DataConstraint> data;  // chinchilla form only

  Surface() = default;
  Surface(const fit::ChinchillaParams& p) : chinchilla(p) {}  // NOLINT: implicit on purpose
  Surface(const KaplanParams& k) : form(Form::kKaplan), kaplan(k) {}  // NOLINT

  // L(N, D), evaluated by the registry's law of this form (fit::Law: `chinchilla`, `kaplan-nd`, or
  // `data-constrained` with U = the unique tokens): each formula is written once, in fit/.
  double loss(double n, double d) const;
  // The Chinchilla closed forms (fit/frontier.h) apply: Chinchilla form without a data limit.
  bool has_closed_form() const { return form == Form::kChinchilla && !data; }
  // L(N, D) as N, D → ∞ (E, or 0 for Kaplan's form).
  double irreducible() const { return form == Form::kChinchilla ? chinchilla.E : 0.0; }
  std::string formula() const;
  // (N', D') of the data-constrained law; (N, D) otherwise.
  std::pair<double, double> effective(double n, double d) const;
};

// Published laws by name: "chinchilla" (Hoffmann et al. 2022 eq. 10), "epoch" (Besiroglu et al.
// 2024), "kaplan" (Kaplan et al. 2020 eq. 1.5 with the single-variable constants of eqs. 1.1–1.2),
// "kaplan-joint" (eq. 1.5 with its own joint fit, Kaplan et al. 2020 Table 2), "muennighoff"
// (the base law of Muennighoff et al. 2023 with R_D*, R_N*; a data limit needs --unique-tokens).
// Throws std::invalid_argument naming the known presets.
Surface preset_surface(const std::string& name);
std::vector<std::string> preset_surface_names();
// A short note on the units and conventions of a preset (empty when none is needed).
std::string preset_note(const std::string& name);

}  // namespace scalinglab::plan
