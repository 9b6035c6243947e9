#include "scalinglab/plan/make_plan.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "scalinglab/plan/law_source.h"

namespace scalinglab::plan {
namespace {

std::invalid_argument error(const std::string& field, const std::string& what) {
  return std::invalid_argument(field + ": " + what);
}

std::string num(double v) {
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

// The hardware, when any option needs it; validated.
std::optional<Hardware> hardware(const PlanOptions& o, std::optional<GpuPreset>& gpu) {
  const bool wanted = !o.gpu.empty() || std::isfinite(o.peak_flops) || std::isfinite(o.gpu_hours) ||
                      std::isfinite(o.budget_usd) || std::isfinite(o.usd_per_gpu_hour);
  if (!wanted) return std::nullopt;
  Hardware hw;
  if (!o.gpu.empty()) {
    gpu = find_gpu(o.gpu);
    if (!gpu) {
      std::string known;
      for (const auto& g : gpu_presets()) known += (known.empty() ? "" : ", ") + g.name;
      throw error("gpu", "unknown GPU '" + o.gpu + "' (known: " + known + "; or give `peak_flops`)");
    }
    hw.peak_flops = gpu->peak_flops;
  }
  if (std::isfinite(o.peak_flops)) {
    if (gpu) throw error("peak_flops", "give either `gpu` or `peak_flops`, not both");
    hw.peak_flops = o.peak_flops;
  }
  if (!(hw.peak_flops > 0))
    throw error("peak_flops", "`gpu_hours`, `budget_usd` and `usd_per_gpu_hour` need the hardware: `gpu` NAME or `peak_flops` F");
  hw.mfu = o.mfu;
  hw.gpus = o.gpus;
  hw.usd_per_gpu_hour = o.usd_per_gpu_hour;
  if (auto bad = validate(hw)) throw std::invalid_argument(*bad);
  return hw;
}

}  // namespace

PlanReport make_plan(const PlanOptions& o) {
  if (!(o.mfu > 0 && o.mfu <= 1)) throw error("mfu", "must be in (0, 1] (a fraction of the peak, e.g. 0.4)");
  PlanReport rep;
  try {
    rep.law = load_plan_law(o.law);
  } catch (const std::invalid_argument& e) {
    throw error("law", e.what());
  }
  rep.hardware = hardware(o, rep.gpu);
  const int sources = !o.compute.empty() + std::isfinite(o.gpu_hours) + std::isfinite(o.budget_usd);
  if (sources > 1) throw error("compute", "give one budget: `compute`, `gpu_hours` or `budget_usd`");
  if (sources == 0 && !(o.target_loss > 0))
    throw error("compute", "missing budget: give `compute` C (FLOPs), `gpu_hours` H or `budget_usd` X (with `gpu`), or `target_loss` L");
  if (std::isfinite(o.budget_usd) && !rep.hardware->has_cost())
    throw error("budget_usd", "needs `usd_per_gpu_hour` (no prices are built in: they vary by provider)");
  if (std::isfinite(o.inference_tokens) && !(o.inference_tokens >= 0))
    throw error("inference_tokens", "must be zero or positive");
  const bool limited = std::isfinite(o.unique_tokens);
  if (!limited && (std::isfinite(o.r_d_star) || std::isfinite(o.r_n_star)))
    throw error(std::isfinite(o.r_d_star) ? "r_d_star" : "r_n_star", "needs `unique_tokens`");
  if (limited) {
    DataConstraint dc = rep.law.data_defaults;
    dc.unique_tokens = o.unique_tokens;
    if (std::isfinite(o.r_d_star)) dc.r_d_star = o.r_d_star;
    if (std::isfinite(o.r_n_star)) dc.r_n_star = o.r_n_star;
    try {
      limit_unique_tokens(rep.law, dc);
    } catch (const std::invalid_argument& e) {
      throw error("unique_tokens", std::string(e.what()) + " (law " + o.law + ")");
    }
  }
  if (!limited && (o.law == "muennighoff" || rep.law.from_data_constrained_fit))
    rep.notes.push_back("no unique-token limit (`unique_tokens`): the data-constrained law is planned as if data were unlimited");
  if (o.frontier_points < 2 || o.frontier_points > 1000) throw error("frontier_points", "must be in [2, 1000]");

  const Surface& s = rep.law.point;
  Surface unlimited = s;
  unlimited.data.reset();

  // The budgets.
  std::vector<std::pair<double, std::string>> budgets;
  for (double c : o.compute) budgets.push_back({c, "compute"});
  if (std::isfinite(o.gpu_hours)) {
    rep.compute_from_gpu_hours = compute_for_gpu_hours(*rep.hardware, o.gpu_hours);
    budgets.push_back({rep.compute_from_gpu_hours, "gpu-hours"});
  }
  if (std::isfinite(o.budget_usd)) {
    rep.compute_from_usd = compute_for_usd(*rep.hardware, o.budget_usd);
    budgets.push_back({rep.compute_from_usd, "budget-usd"});
  }
  if (o.target_loss > 0) {
    rep.target = TargetLoss{o.target_loss, compute_for_loss(rep.law, o.target_loss)};
    const double c = rep.target->compute.value;
    if (!std::isfinite(c)) {
      if (!(o.target_loss > s.irreducible()))
        throw error("target_loss", "must be above the irreducible loss E = " + num(s.irreducible()));
      throw error("target_loss", num(o.target_loss) + " cannot be reached by this law with any budget up to 1e60 FLOPs" +
                                     (s.data ? " (the unique tokens cap the effective data)" : ""));
    }
    budgets.push_back({c, "target-loss"});
  }

  // One plan per budget.
  for (const auto& [c, origin] : budgets) {
    BudgetPlan p;
    p.origin = origin;
    p.allocation = optimal_allocation(rep.law, c);
    if (!std::isfinite(p.allocation.n.value))
      throw error(origin == "target-loss" ? "target_loss" : origin == "compute" ? "compute"
                  : origin == "gpu-hours" ? "gpu_hours" : "budget_usd",
                  "no interior optimum for C = " + num(c) + " FLOPs (the budget is too small for this law)");
    if (rep.hardware) p.cost = hardware_cost(*rep.hardware, c);
    if (o.params > 0) p.fixed = fixed_size(s, o.params, c);
    if (std::isfinite(o.inference_tokens)) p.inference = inference_aware(s, c, o.inference_tokens);
    if (limited) {
      DataConstrainedPlan d;
      d.unique_tokens = o.unique_tokens;
      d.epochs = p.allocation.d.value / o.unique_tokens;
      std::tie(d.effective_n, d.effective_d) = s.effective(p.allocation.n.value, p.allocation.d.value);
      d.unconstrained = optimum(unlimited, c);
      d.unconstrained_epochs = d.unconstrained.d / o.unique_tokens;
      p.data = d;
    }
    p.warnings = plan_warnings(rep.law, c, p.allocation.n.value, p.allocation.d.value);
    rep.plans.push_back(std::move(p));
  }

  // The frontier.
  if (o.frontier) {
    double lo = o.frontier_min, hi = o.frontier_max;
    double cmin = INFINITY, cmax = 0;
    for (const auto& p : rep.plans) cmin = std::min(cmin, p.allocation.compute), cmax = std::max(cmax, p.allocation.compute);
    if (!std::isfinite(lo)) lo = std::isfinite(rep.law.range.c.min) ? std::min(rep.law.range.c.min, cmin) : cmin / 1e4;
    if (!std::isfinite(hi)) hi = std::max(cmax * 100, lo * 10);
    if (!(lo > 0 && hi > lo)) throw error("frontier_min", "must be positive and below `frontier_max`");
    rep.frontier = frontier(rep.law, lo, hi, o.frontier_points);
    if (limited)
      for (const auto& f : rep.frontier) rep.frontier_unconstrained.push_back(optimum(unlimited, f.compute));
  }
  if (!rep.law.replicates.empty()) rep.notes.push_back("intervals: 2.5% and 97.5% percentiles over the fit's bootstrap replicates");
  if (rep.hardware) rep.notes.push_back("time = C / (GPUs · peak · MFU); GPU-hours = C / (peak · MFU) / 3600");
  return rep;
}

}  // namespace scalinglab::plan
