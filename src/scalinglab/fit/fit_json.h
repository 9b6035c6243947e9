#pragma once
// The fit's JSON document (schema "scalinglab.fit/1", documented in docs/FIT_JSON.md) and the
// reader that brings the identical FittedLaw back (`predict`, `monitor` and the planner use it).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "scalinglab/fit/fitter.h"

namespace scalinglab::fit {

nlohmann::json to_json(const FittedLaw& report);

// Throws io::InputError naming the file and the field for a missing or malformed entry. A sweep's
// summary.json (schema "scalinglab.summary/1") is refused with a pointer to the fits/<law>.json
// written beside it: the summary keeps point estimates and intervals but not the bootstrap
// replicates and residuals that predictions with intervals need.
//
// The result is the FittedLaw that was written: every field to_json() writes reads back to the same
// value (non-finite numbers, written as null, come back as NaN), `model` is rebuilt with make_law()
// from `law` and `law_options`, so every question (loss, optimum, compute_for_loss, n_for_loss)
// answers as it did before writing. Fields a hand-written document omits keep their defaults;
// `law` and `internal` are required, and `bootstrap.internal_samples` must match θ's size.
FittedLaw load_fit(const std::string& path);
// The same from a parsed document (`path` names it in messages).
FittedLaw fit_from_json(const nlohmann::json& doc, const std::string& path);

// The one-line reason a document is not a fit JSON when it is a sweep summary, else empty.
std::string summary_instead_of_fit(const std::string& path, const nlohmann::json& doc);

}  // namespace scalinglab::fit
