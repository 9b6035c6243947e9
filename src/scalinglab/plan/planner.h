#pragma once
// Compute-optimal planning from a Chinchilla-form law L = E + A/N^α + B/D^β under C = 6ND
// (Hoffmann et al. 2022 eq. 4; closed forms of the inverse from Besiroglu et al. 2024's analysis).
// Uncertainty comes from the law's bootstrap replicates when the law was fitted by scalinglab.
#include <optional>
#include <string>
#include <vector>

#include "scalinglab/fit/estimate.h"
#include "scalinglab/fit/synthetic.h"

namespace scalinglab::plan {

// Published laws: "chinchilla" (Hoffmann et al. 2022 eq. 10), "epoch" (Besiroglu et al. 2024 refit).
fit::ChinchillaParams preset_law(const std::string& name);  // throws std::invalid_argument
std::vector<std::string> preset_law_names();

struct PlanLaw {
  fit::ChinchillaParams point;
  std::vector<fit::ChinchillaParams> replicates;  // bootstrap; empty for presets
  double fitted_c_max = 0;                        // largest compute in the fitted data; 0: unknown
};

struct Allocation {
  double compute = 0;
  fit::Estimate n, d, tokens_per_param, loss;
};

// The compute-optimal N, D and loss at `compute`, with intervals over the replicates.
Allocation optimal_allocation(const PlanLaw& law, double compute);

// The least compute whose optimal loss reaches `target_loss` (closed form); NaN when the target is
// at or below the irreducible loss E.
double compute_for_loss(const fit::ChinchillaParams& p, double target_loss);

// A fixed model size N at budget C: D = C/(6N), its loss, and the penalty against the optimum:
// the extra loss, and the extra compute the optimal allocation would need to match that loss.
struct FixedSize {
  double n = 0, d = 0, loss = 0, optimal_loss = 0, loss_penalty = 0, compute_overhead = 0;
};
FixedSize fixed_size(const fit::ChinchillaParams& p, double n, double compute);

}  // namespace scalinglab::plan
