#pragma once
// The fit's JSON document (schema "scalinglab.fit/1", documented in docs/FIT_JSON.md) and the
// reader that `scalinglab predict` and the planner use to bring a fitted law back.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "scalinglab/fit/fitter.h"

namespace scalinglab::fit {

nlohmann::json to_json(const FittedLaw& report);

struct LoadedFit {
  std::unique_ptr<Law> law;
  std::vector<double> theta;
  std::vector<std::vector<double>> bootstrap_theta;
  std::vector<double> log_residuals;
  DataRange range;
  nlohmann::json document;
};

// Throws io::InputError naming the file and the field for a missing or malformed entry. A sweep's
// summary.json (schema "scalinglab.summary/1") is refused with a pointer to the fits/<law>.json
// written beside it: the summary keeps point estimates and intervals but not the bootstrap
// replicates and residuals that predictions with intervals need.
LoadedFit load_fit(const std::string& path);

// The one-line reason a document is not a fit JSON when it is a sweep summary, else empty.
std::string summary_instead_of_fit(const std::string& path, const nlohmann::json& doc);

}  // namespace scalinglab::fit
