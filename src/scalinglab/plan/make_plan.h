#pragma once
// A whole plan assembled from options: the law (preset or fit file), the budgets (FLOPs,
// GPU-hours, dollars, or a target loss), one BudgetPlan per budget with its cost, fixed-size,
// inference-aware and data-constrained variants, the frontier and the notes. `scalinglab plan`
// only maps its flags onto PlanOptions and prints the PlanReport.
//
// Errors: std::invalid_argument whose message starts with the option field it is about
// ("target_loss: ...") and writes other fields in backticks (`peak_flops`), so that a front end
// can name its own flags; io::InputError for a fit file the planner cannot use. Every check is
// made before any computation, so an error leaves nothing half done.
#include <cmath>
#include <string>
#include <vector>

#include "scalinglab/plan/plan_report.h"

namespace scalinglab::plan {

struct PlanOptions {
  std::string law = "chinchilla";  // a preset name (surface.h) or a fit JSON file
  std::vector<double> compute;     // budgets in FLOPs
  double gpu_hours = NAN, budget_usd = NAN;
  double target_loss = 0;          // 0: none
  double params = 0;               // a fixed model size to plan as well; 0: none
  std::string gpu;                 // a GPU preset (hardware.h), or peak_flops
  double peak_flops = NAN, mfu = 0.4, gpus = 1, usd_per_gpu_hour = NAN;
  double inference_tokens = NAN;   // tokens to serve (Sardana et al. 2024); NaN: none
  double unique_tokens = NAN, r_d_star = NAN, r_n_star = NAN;  // data limit (Muennighoff et al. 2023)
  bool frontier = false;           // compute the frontier (for a page or the JSON)
  double frontier_min = NAN, frontier_max = NAN;  // NaN: from the fitted data and the plans
  int frontier_points = 25;
};

PlanReport make_plan(const PlanOptions& options);

}  // namespace scalinglab::plan
