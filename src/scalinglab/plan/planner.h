#pragma once
// Compute-optimal planning from a loss surface L(N, D) under C = 6ND: the allocation for a budget
// with intervals over the law's bootstrap replicates, the inverse (budget for a target loss), the
// penalty of a fixed model size, the frontier over a range of budgets, and warnings when a plan
// leaves the range of the fitted data. Closed forms for the Chinchilla form (Hoffmann et al. 2022
// eq. 4), numeric optima for every other surface (plan/optimum.h).
#include <optional>
#include <string>
#include <vector>

#include "scalinglab/fit/estimate.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/synthetic.h"
#include "scalinglab/plan/surface.h"

namespace scalinglab::plan {

// The Chinchilla-form presets ("chinchilla": Hoffmann et al. 2022 eq. 10, "epoch": Besiroglu et
// al. 2024). Throws std::invalid_argument for any other name. See preset_surface() for all presets.
fit::ChinchillaParams preset_law(const std::string& name);
std::vector<std::string> preset_law_names();

struct PlanLaw {
  Surface point;
  std::vector<Surface> replicates;  // bootstrap; empty for presets
  double fitted_c_max = 0;          // largest compute in the fitted data; 0: unknown
  fit::DataRange range = {};        // of the fitted data (NaN: unknown)
  std::string name = {};            // preset name or fit file
  std::string note = {};            // conventions worth printing with the plan
  // R_D*, R_N* of a data-constrained fit (or the paper's defaults); used with a unique-token limit.
  DataConstraint data_defaults = {};
  bool from_data_constrained_fit = false;
};

// Applies a unique-token limit U to the law and all its replicates (Muennighoff et al. 2023).
// Throws std::invalid_argument for a Kaplan-form law (the paper's U_N needs the Chinchilla form).
void limit_unique_tokens(PlanLaw& law, const DataConstraint& dc);

struct Allocation {
  double compute = 0;
  fit::Estimate n, d, tokens_per_param, loss;
};

// The compute-optimal N, D and loss at `compute`, with intervals over the replicates.
Allocation optimal_allocation(const PlanLaw& law, double compute);

// The least compute whose optimal loss reaches `target_loss`; NaN when it cannot be reached (at or
// below the irreducible loss, or the data-constrained saturation). With replicates, an interval.
double compute_for_loss(const Surface& s, double target_loss);
fit::Estimate compute_for_loss(const PlanLaw& law, double target_loss);

// A fixed model size N at budget C: D = C/(6N), its loss, and the penalty against the optimum:
// the extra loss, and the extra compute the optimal allocation would need to match that loss.
struct FixedSize {
  double n = 0, d = 0, loss = 0, optimal_loss = 0, loss_penalty = 0, compute_overhead = 0;
};
FixedSize fixed_size(const Surface& s, double n, double compute);

// `points` log-spaced budgets over [c_min, c_max] and their optimal allocations.
std::vector<Allocation> frontier(const PlanLaw& law, double c_min, double c_max, int points);

// Warnings for a plan (N, D at C): more than two orders of magnitude of compute past the fitted
// data, N outside the fitted range of N, D/N outside the fitted range of tokens per parameter.
std::vector<std::string> plan_warnings(const PlanLaw& law, double compute, double n, double d);

}  // namespace scalinglab::plan
