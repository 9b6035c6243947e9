#pragma once
// Where the planner's law comes from: a preset name (plan/surface.h) or a `scalinglab fit --json`
// file. Fits of the Chinchilla form and of Kaplan's eq. 1.5 (`kaplan-nd`) come back with their
// bootstrap replicates; a `data-constrained` fit (Muennighoff et al. 2023) is read by the public
// names of its `params` (E, A, B, alpha, beta, R_D_star, R_N_star), point estimates only.
#include <string>

#include "scalinglab/plan/planner.h"

namespace scalinglab::plan {

// A preset when `what` names one and no such file exists; else the fit file. Throws
// std::invalid_argument for an unknown preset and io::InputError (file, field, what was expected)
// for a file the planner cannot use.
PlanLaw load_plan_law(const std::string& what);

}  // namespace scalinglab::plan
