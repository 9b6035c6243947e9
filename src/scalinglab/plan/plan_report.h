#pragma once
// Everything one `scalinglab plan` computed, and its two renderings: a JSON document (schema
// "scalinglab.plan/1", docs/PLAN.md) and the frontier as a self-contained HTML page or a single
// SVG file (report/svg_plot.h plots: N_opt(C), D_opt(C) with bootstrap bands, loss(C)).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scalinglab/plan/hardware.h"
#include "scalinglab/plan/inference.h"
#include "scalinglab/plan/optimum.h"
#include "scalinglab/plan/planner.h"

namespace scalinglab::plan {

struct DataConstrainedPlan {
  double unique_tokens = 0;
  double epochs = NAN;                       // D / U of the constrained optimum
  double effective_n = NAN, effective_d = NAN;  // N', D'
  Optimum unconstrained;                     // the same budget with unlimited data
  double unconstrained_epochs = NAN;         // its D / U
};

struct BudgetPlan {
  std::string origin;  // "compute", "gpu-hours", "budget-usd" or "target-loss"
  Allocation allocation;
  std::optional<HardwareCost> cost;
  std::optional<FixedSize> fixed;
  std::optional<InferenceAware> inference;
  std::optional<DataConstrainedPlan> data;
  std::vector<std::string> warnings;
};

struct TargetLoss {
  double loss = NAN;
  fit::Estimate compute;  // least compute that reaches it (interval over replicates)
};

struct PlanReport {
  PlanLaw law;
  std::optional<Hardware> hardware;
  std::optional<GpuPreset> gpu;  // when a preset gave the peak
  std::optional<TargetLoss> target;
  std::vector<BudgetPlan> plans;
  std::vector<Allocation> frontier;
  std::vector<Optimum> frontier_unconstrained;  // with a unique-token limit: the unlimited-data frontier
  std::vector<std::string> notes;
  double compute_from_gpu_hours = NAN, compute_from_usd = NAN;  // what those budgets buy, when given
};

nlohmann::json to_json(const PlanReport& r);

// The frontier plots: ids plot-n-opt, plot-d-opt, plot-loss.
std::string render_frontier_html(const PlanReport& r);
std::string render_frontier_svg(const PlanReport& r);  // one standalone SVG, the three plots stacked
// Chooses the form by extension (.svg, else HTML) and writes atomically. Throws std::runtime_error.
void write_frontier(const PlanReport& r, const std::string& path);

}  // namespace scalinglab::plan
