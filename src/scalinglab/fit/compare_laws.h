#pragma once
// Several laws fitted to the same runs and ranked: by AIC of the Gaussian likelihood of the log
// residuals (Akaike 1974; fit/fitter.h Quality), with BIC beside it and, when the fit options ask
// for a holdout, the error of the held-out predictions (the check that matters for extrapolation).
// The CLI's `fit --compare` maps its flags onto CompareOptions and prints LawComparison.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scalinglab/fit/dataset.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/two_stage.h"

namespace scalinglab::fit {

struct CompareOptions {
  std::vector<std::string> laws;  // registry names (make_law)
  bool irreducible = false;       // LawOptions::irreducible for every law
  // Parameters held fixed, NAME=VALUE; each applies to the laws that have a parameter of that name.
  std::vector<std::pair<std::string, double>> fixed;
  FitOptions fit;                 // the same fit options for every law
  // The data-constrained law is fitted by this procedure, as `fit_data_constrained` does alone.
  DataConstrainedProcedure procedure = DataConstrainedProcedure::kAuto;
};

struct ComparedLaw {
  std::string name;
  FittedLaw fit;
  // The data-constrained law's procedure and stages (fit_data_constrained); absent for other laws.
  std::optional<DataConstrainedFit> data_constrained = {};
  double delta_aic = 0;  // AIC − the best AIC among the fitted laws (0 for the best)
  int rank = 0;          // 1 = lowest AIC
};

struct LawComparison {
  std::vector<ComparedLaw> laws;                             // the fitted laws, in the order asked
  std::vector<std::pair<std::string, std::string>> skipped;  // (law, why it could not be fitted here)
  double best_aic = 0;
};

// A law the runs cannot serve (a missing variable, too few runs for its parameters, an unknown
// name) is skipped with its reason. Throws std::invalid_argument naming the field `laws` when no
// law could be fitted.
LawComparison compare_laws(const Dataset& data, const CompareOptions& options);

}  // namespace scalinglab::fit
