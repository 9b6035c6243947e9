#include <cctype>
#include <stdexcept>

#include "scalinglab/fit/broken_power_law.h"
#include "scalinglab/fit/data_constrained.h"
#include "scalinglab/fit/fixed_parameters.h"
#include "scalinglab/fit/kaplan_nd.h"
#include "scalinglab/fit/law.h"
#include "scalinglab/fit/sum_of_power_laws.h"

namespace scalinglab::fit {

const char* variable_name(Variable v) {
  switch (v) {
    case Variable::kN: return "N";
    case Variable::kD: return "D";
    case Variable::kC: return "C";
    case Variable::kU: return "U";
    default: return "x";
  }
}

std::vector<std::string> law_names() {
  return {"chinchilla", "kaplan-n", "kaplan-d", "kaplan-c", "kaplan-nd", "power",
          "data-constrained", "inference", "broken", "broken-2"};
}

namespace {

std::vector<double> range(double lo, double hi, double step) {
  std::vector<double> v;
  for (double x = lo; x <= hi + 1e-9; x += step) v.push_back(x);
  return v;
}

// Single power-law terms: exponents of pilot-scale runs range from Kaplan's ~0.05 to ~1.
SumOfPowerLaws::StartGrid single_term_grid() {
  return {range(0, 25, 2.5), {0.05, 0.1, 0.25, 0.5, 1.0, 2.0}, range(-1, 1, 0.5)};
}

std::unique_ptr<Law> kaplan_single(Variable v, const std::string& x, bool irreducible) {
  std::string formula = std::string("L = ") + (irreducible ? "E + " : "") + "(" + x + "_c/" + x + ")^alpha_" + x;
  return std::make_unique<SumOfPowerLaws>(
      "kaplan-" + std::string(1, static_cast<char>(std::tolower(x[0]))), formula,
      std::vector<SumOfPowerLaws::Term>{{v, "a", x + "_c", "alpha_" + x}}, irreducible,
      SumOfPowerLaws::Style::kCriticalScale, single_term_grid());
}

std::unique_ptr<Law> make_base_law(const std::string& name, const LawOptions& options) {
  if (name == "chinchilla") {
    // Hoffmann et al. 2022 eq. 2, fitted with their grid of 4,500 starts (App. D.2).
    return std::make_unique<SumOfPowerLaws>(
        "chinchilla", "L = E + A/N^alpha + B/D^beta",
        std::vector<SumOfPowerLaws::Term>{{Variable::kN, "a", "A", "alpha"}, {Variable::kD, "b", "B", "beta"}}, true,
        SumOfPowerLaws::Style::kCoefficient,
        SumOfPowerLaws::StartGrid{range(0, 25, 5), range(0, 2, 0.5), range(-1, 1, 0.5)});
  }
  if (name == "kaplan-n") return kaplan_single(Variable::kN, "N", options.irreducible);
  if (name == "kaplan-d") return kaplan_single(Variable::kD, "D", options.irreducible);
  if (name == "kaplan-c") return kaplan_single(Variable::kC, "C", options.irreducible);
  if (name == "kaplan-nd") return std::make_unique<KaplanND>();
  if (name == "power") {
    return std::make_unique<SumOfPowerLaws>("power", "y = E + A*x^(-alpha)",
                                            std::vector<SumOfPowerLaws::Term>{{Variable::kX, "a", "A", "alpha"}}, true,
                                            SumOfPowerLaws::Style::kCoefficient, single_term_grid());
  }
  if (name == "data-constrained") return std::make_unique<DataConstrained>();
  if (name == "inference") {
    // Inference-time scaling: a metric against test-time compute c (samples per problem, thinking
    // tokens) falling as a power law to a floor, L(c) = L_inf + K·c^(−γ) — the `power` law under
    // the names used for it.
    auto law = std::make_unique<SumOfPowerLaws>(
        "inference", "L = L_inf + K*c^(-gamma)", std::vector<SumOfPowerLaws::Term>{{Variable::kX, "k", "K", "gamma"}},
        true, SumOfPowerLaws::Style::kCoefficient, single_term_grid());
    law->set_irreducible_name("L_inf");
    return law;
  }
  if (name == "broken") return std::make_unique<BrokenPowerLaw>(1);
  if (name == "broken-2") return std::make_unique<BrokenPowerLaw>(2);
  std::string known;
  for (const auto& n : law_names()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown law '" + name + "' (known: " + known + ")");
}

}  // namespace

std::unique_ptr<Law> make_law(const std::string& name, const LawOptions& options) {
  auto law = make_base_law(name, options);
  if (options.fixed.empty()) return law;
  return std::make_unique<FixedParameters>(std::move(law), options.fixed);
}

}  // namespace scalinglab::fit
