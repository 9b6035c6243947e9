// `scalinglab plan`: compute-optimal N and D for a budget from a fitted or published law, what it
// costs on given hardware, and the inference-aware and data-constrained alternatives.
#include <cmath>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/format.h"
#include "scalinglab/fit/frontier.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/plan/law_source.h"
#include "scalinglab/plan/plan_report.h"

namespace scalinglab::cli {
namespace {

struct PlanArgs {
  std::string law = "chinchilla";
  std::vector<double> compute;
  double gpu_hours = NAN, budget_usd = NAN;
  double target_loss = 0, params = 0;
  std::string gpu;
  double peak_flops = NAN, mfu = 0.4, gpus = 1, usd_per_gpu_hour = NAN;
  double inference_tokens = NAN;
  double unique_tokens = NAN, r_d_star = NAN, r_n_star = NAN;
  std::string frontier, json;
  double frontier_min = NAN, frontier_max = NAN;
  int frontier_points = 25;
};

std::string cell(const fit::Estimate& e) { return fmt(e.value, 3) + (e.has_interval() ? " " + fmt_ci(e) : ""); }

std::string duration(double hours) {
  if (!std::isfinite(hours)) return "-";
  if (hours < 48) return fmt(hours, 3) + " h";
  if (hours < 24 * 365) return fmt(hours / 24, 3) + " days";
  return fmt(hours / (24 * 365.25), 3) + " years";
}

// The hardware, when any flag needs it; validated.
std::optional<plan::Hardware> hardware(const PlanArgs& a, std::optional<plan::GpuPreset>& gpu) {
  const bool wanted = !a.gpu.empty() || std::isfinite(a.peak_flops) || std::isfinite(a.gpu_hours) ||
                      std::isfinite(a.budget_usd) || std::isfinite(a.usd_per_gpu_hour);
  if (!wanted) return std::nullopt;
  plan::Hardware hw;
  if (!a.gpu.empty()) {
    gpu = plan::find_gpu(a.gpu);
    if (!gpu) {
      std::string known;
      for (const auto& g : plan::gpu_presets()) known += (known.empty() ? "" : ", ") + g.name;
      throw UsageError("--gpu: unknown GPU '" + a.gpu + "' (known: " + known + "; or give --peak-flops)");
    }
    hw.peak_flops = gpu->peak_flops;
  }
  if (std::isfinite(a.peak_flops)) {
    if (gpu) throw UsageError("give either --gpu or --peak-flops, not both");
    hw.peak_flops = a.peak_flops;
  }
  if (!(hw.peak_flops > 0))
    throw UsageError("--gpu-hours, --budget-usd and --usd-per-gpu-hour need the hardware: --gpu NAME or --peak-flops F");
  hw.mfu = a.mfu;
  hw.gpus = a.gpus;
  hw.usd_per_gpu_hour = a.usd_per_gpu_hour;
  if (auto bad = plan::validate(hw)) throw UsageError(*bad);
  return hw;
}

void run_plan(const PlanArgs& a) {
  // With --json -, standard output carries the JSON alone (as with `fit --json -`).
  std::ostringstream quiet;
  std::ostream& out = a.json == "-" ? quiet : std::cout;
  // --- Inputs, all validated before any work or output.
  if (!(a.mfu > 0 && a.mfu <= 1)) throw UsageError("--mfu must be in (0, 1] (a fraction of the peak, e.g. 0.4)");
  plan::PlanReport rep;
  try {
    rep.law = plan::load_plan_law(a.law);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--law: ") + e.what());
  }
  rep.hardware = hardware(a, rep.gpu);
  const int sources = !a.compute.empty() + std::isfinite(a.gpu_hours) + std::isfinite(a.budget_usd);
  if (sources > 1) throw UsageError("give one budget: --compute, --gpu-hours or --budget-usd");
  if (sources == 0 && !(a.target_loss > 0))
    throw UsageError("missing budget: give --compute C (FLOPs), --gpu-hours H or --budget-usd X (with --gpu), or --target-loss L");
  if (std::isfinite(a.budget_usd) && !rep.hardware->has_cost())
    throw UsageError("--budget-usd needs --usd-per-gpu-hour (no prices are built in: they vary by provider)");
  if (std::isfinite(a.inference_tokens) && !(a.inference_tokens >= 0))
    throw UsageError("--inference-tokens must be zero or positive");
  const bool limited = std::isfinite(a.unique_tokens);
  if (!limited && (std::isfinite(a.r_d_star) || std::isfinite(a.r_n_star)))
    throw UsageError("--r-d-star and --r-n-star need --unique-tokens");
  if (limited) {
    plan::DataConstraint dc = rep.law.data_defaults;
    dc.unique_tokens = a.unique_tokens;
    if (std::isfinite(a.r_d_star)) dc.r_d_star = a.r_d_star;
    if (std::isfinite(a.r_n_star)) dc.r_n_star = a.r_n_star;
    try {
      plan::limit_unique_tokens(rep.law, dc);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--unique-tokens: ") + e.what() + " (law " + a.law + ")");
    }
  }
  if (!limited && (a.law == "muennighoff" || rep.law.from_data_constrained_fit))
    rep.notes.push_back("no --unique-tokens: the data-constrained law is planned as if data were unlimited");
  if (a.frontier_points < 2 || a.frontier_points > 1000) throw UsageError("--frontier-points must be in [2, 1000]");

  const plan::Surface& s = rep.law.point;
  plan::Surface unlimited = s;
  unlimited.data.reset();

  // --- The budgets.
  std::vector<std::pair<double, std::string>> budgets;
  for (double c : a.compute) budgets.push_back({c, "compute"});
  double c_from_hours = NAN, c_from_usd = NAN;
  if (std::isfinite(a.gpu_hours)) {
    c_from_hours = plan::compute_for_gpu_hours(*rep.hardware, a.gpu_hours);
    budgets.push_back({c_from_hours, "gpu-hours"});
  }
  if (std::isfinite(a.budget_usd)) {
    c_from_usd = plan::compute_for_usd(*rep.hardware, a.budget_usd);
    budgets.push_back({c_from_usd, "budget-usd"});
  }

  if (a.target_loss > 0) {
    rep.target = plan::TargetLoss{a.target_loss, plan::compute_for_loss(rep.law, a.target_loss)};
    const double c = rep.target->compute.value;
    if (!std::isfinite(c)) {
      std::ostringstream why;
      if (!(a.target_loss > s.irreducible()))
        why << "--target-loss must be above the irreducible loss E = " << fmt(s.irreducible());
      else
        why << "--target-loss " << fmt(a.target_loss) << " cannot be reached by this law with any budget up to 1e60 FLOPs"
            << (s.data ? " (the unique tokens cap the effective data)" : "");
      throw UsageError(why.str());
    }
    budgets.push_back({c, "target-loss"});
  }

  // --- One plan per budget.
  for (const auto& [c, origin] : budgets) {
    plan::BudgetPlan p;
    p.origin = origin;
    p.allocation = plan::optimal_allocation(rep.law, c);
    if (!std::isfinite(p.allocation.n.value))
      throw UsageError("no interior optimum for C = " + fmt(c, 3) + " FLOPs (the budget is too small for this law)");
    if (rep.hardware) p.cost = plan::hardware_cost(*rep.hardware, c);
    if (a.params > 0) p.fixed = plan::fixed_size(s, a.params, c);
    if (std::isfinite(a.inference_tokens)) p.inference = plan::inference_aware(s, c, a.inference_tokens);
    if (limited) {
      plan::DataConstrainedPlan d;
      d.unique_tokens = a.unique_tokens;
      d.epochs = p.allocation.d.value / a.unique_tokens;
      std::tie(d.effective_n, d.effective_d) = s.effective(p.allocation.n.value, p.allocation.d.value);
      d.unconstrained = plan::optimum(unlimited, c);
      d.unconstrained_epochs = d.unconstrained.d / a.unique_tokens;
      p.data = d;
    }
    p.warnings = plan::plan_warnings(rep.law, c, p.allocation.n.value, p.allocation.d.value);
    rep.plans.push_back(std::move(p));
  }

  // --- The frontier (for the page and the JSON).
  if (!a.frontier.empty() || !a.json.empty()) {
    double lo = a.frontier_min, hi = a.frontier_max;
    double cmin = INFINITY, cmax = 0;
    for (const auto& p : rep.plans) cmin = std::min(cmin, p.allocation.compute), cmax = std::max(cmax, p.allocation.compute);
    if (!std::isfinite(lo)) lo = std::isfinite(rep.law.range.c.min) ? std::min(rep.law.range.c.min, cmin) : cmin / 1e4;
    if (!std::isfinite(hi)) hi = std::max(cmax * 100, lo * 10);
    if (!(lo > 0 && hi > lo)) throw UsageError("--frontier-min must be positive and below --frontier-max");
    rep.frontier = plan::frontier(rep.law, lo, hi, a.frontier_points);
    if (limited)
      for (const auto& f : rep.frontier) rep.frontier_unconstrained.push_back(plan::optimum(unlimited, f.compute));
  }
  // --- Print (only now: every error above leaves a single line and no output).
  out << "law: " << rep.law.name << ": " << s.formula() << "\n";
  if (s.has_closed_form())
    out << "  N_opt ~ C^" << fmt(fit::chinchilla_a(s.chinchilla)) << " (closed form, Hoffmann et al. 2022 eq. 4)";
  else
    out << "  numeric optimum along C = 6ND";
  out << "; " << (rep.law.replicates.empty() ? "no intervals (a published law or no bootstrap)"
                                                   : std::to_string(rep.law.replicates.size()) + " bootstrap replicates")
            << "\n";
  if (!rep.law.note.empty()) out << "  note: " << rep.law.note << "\n";
  for (const auto& n : rep.notes) out << "  note: " << n << "\n";
  if (rep.hardware) {
    const auto& hw = *rep.hardware;
    out << "hardware: " << (rep.gpu ? rep.gpu->model : std::string("custom")) << ", peak " << fmt(hw.peak_flops, 4)
              << " FLOP/s dense BF16 per GPU, MFU " << fmt(hw.mfu) << ", " << fmt(hw.gpus) << " GPU(s)"
              << (hw.has_cost() ? ", $" + fmt(hw.usd_per_gpu_hour) + "/GPU-hour" : std::string(", no price given")) << "\n";
  }
  if (std::isfinite(a.gpu_hours))
    out << fmt(a.gpu_hours) << " GPU-hours buy C = " << fmt(c_from_hours, 3) << " FLOPs\n";
  if (std::isfinite(a.budget_usd))
    out << "$" << fmt(a.budget_usd) << " buys " << fmt(a.budget_usd / a.usd_per_gpu_hour) << " GPU-hours, C = "
              << fmt(c_from_usd, 3) << " FLOPs\n";

  if (rep.target)
    out << "target loss " << fmt(a.target_loss) << " needs at least C = " << cell(rep.target->compute) << " FLOPs\n";
  out << "\n" << pad("compute C", 12) << pad("N_opt [95%]", 34) << pad("D_opt [95%]", 34) << pad("D/N", 8) << "loss\n";
  for (const auto& p : rep.plans) {
    const auto& x = p.allocation;
    out << pad(fmt(x.compute, 3), 12) << pad(cell(x.n), 34) << pad(cell(x.d), 34)
              << pad(fmt(x.tokens_per_param.value, 3), 8) << cell(x.loss) << "\n";
    if (p.cost)
      out << "  on the hardware: " << fmt(p.cost->gpu_hours, 3) << " GPU-hours, " << duration(p.cost->wall_hours)
                << " of wall time on " << fmt(rep.hardware->gpus) << " GPU(s)"
                << (std::isfinite(p.cost->usd) ? ", $" + fmt(p.cost->usd, 3) : std::string()) << "\n";
    if (p.data) {
      const auto& d = *p.data;
      out << "  with " << fmt(d.unique_tokens, 3) << " unique tokens: " << fmt(d.epochs, 3) << " epochs, effective N' = "
                << fmt(d.effective_n, 3) << ", D' = " << fmt(d.effective_d, 3) << "; unlimited data would give N = "
                << fmt(d.unconstrained.n, 3) << ", D = " << fmt(d.unconstrained.d, 3) << " (" << fmt(d.unconstrained_epochs, 3)
                << " epochs), loss " << fmt(d.unconstrained.loss, 5) << "\n";
    }
    if (p.fixed) {
      const auto& f = *p.fixed;
      out << "  with N = " << fmt(f.n, 3) << ": D = " << fmt(f.d, 3) << " (D/N " << fmt(f.d / f.n, 3) << "), loss "
                << fmt(f.loss, 5) << ", +" << fmt(f.loss_penalty, 3) << " over the optimum; this budget is "
                << fmt(100 * f.compute_overhead, 3) << "% more compute than the optimal allocation needs for that loss\n";
    }
    if (p.inference) {
      const auto& x = *p.inference;
      out << "  serving " << fmt(x.inference_tokens, 3) << " tokens (lifetime FLOPs = 6·N·D + 2·N·T, same loss "
                << fmt(x.training_only.loss, 5) << "):\n";
      out << "    " << pad("", 18) << pad("N", 12) << pad("D_train", 12) << pad("D/N", 10) << pad("train FLOPs", 13)
                << pad("infer FLOPs", 13) << "total FLOPs\n";
      for (const auto& [label, lp] : {std::pair{"training-only", &x.training_only}, {"inference-aware", &x.inference_aware}})
        out << "    " << pad(label, 18) << pad(fmt(lp->n, 3), 12) << pad(fmt(lp->d, 3), 12) << pad(fmt(lp->d / lp->n, 3), 10)
                  << pad(fmt(lp->train_flops, 3), 13) << pad(fmt(lp->inference_flops, 3), 13) << fmt(lp->total_flops, 3) << "\n";
      out << "    the inference-aware plan saves " << fmt(100 * x.saving(), 3) << "% of lifetime FLOPs\n";
    }
    for (const auto& w : p.warnings) out << "warning: " << w << "\n";
  }

  if (!rep.law.replicates.empty()) rep.notes.push_back("intervals: 2.5% and 97.5% percentiles over the fit's bootstrap replicates");
  if (rep.hardware) rep.notes.push_back("time = C / (GPUs · peak · MFU); GPU-hours = C / (peak · MFU) / 3600");
  if (!a.frontier.empty()) {
    plan::write_frontier(rep, a.frontier);
    out << "frontier: " << a.frontier << "\n";
  }
  if (!a.json.empty()) {
    io::write_file_atomic(a.json, plan::to_json(rep).dump(2) + "\n");
    if (a.json != "-") out << "json: " << a.json << "\n";
  }
}

}  // namespace

void register_plan(CLI::App& app) {
  auto a = std::make_shared<PlanArgs>();
  CLI::App* cmd = app.add_subcommand("plan", "Compute-optimal model size and tokens for a budget, its cost and alternatives");
  cmd->add_option("--law", a->law, "chinchilla | epoch | kaplan | kaplan-joint | muennighoff | a fit JSON from `scalinglab fit --json`")
      ->capture_default_str();
  cmd->add_option("--compute", a->compute, "budgets in FLOPs (C = 6ND)")->check(CLI::PositiveNumber);
  cmd->add_option("--gpu-hours", a->gpu_hours, "budget in GPU-hours (needs --gpu or --peak-flops)")->check(CLI::PositiveNumber);
  cmd->add_option("--budget-usd", a->budget_usd, "budget in US dollars (needs --gpu and --usd-per-gpu-hour)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--target-loss", a->target_loss, "the least compute (and N, D) that reaches this loss")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--params", a->params, "also plan a fixed model size N: best D and its penalty")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--gpu", a->gpu, "a100 | h100 | h200 | b200 | mi300x (dense BF16 peaks, docs/PLAN.md)");
  cmd->add_option("--peak-flops", a->peak_flops, "peak FLOP/s per GPU instead of a --gpu preset")->check(CLI::PositiveNumber);
  cmd->add_option("--mfu", a->mfu, "model FLOPs utilisation, a fraction of the peak")->capture_default_str();
  cmd->add_option("--gpus", a->gpus, "GPUs in parallel (wall time)")->capture_default_str();
  cmd->add_option("--usd-per-gpu-hour", a->usd_per_gpu_hour, "price of one GPU-hour (no default)");
  cmd->add_option("--inference-tokens", a->inference_tokens,
                  "tokens the model will serve: also plan the inference-aware optimum (Sardana et al. 2024)");
  cmd->add_option("--unique-tokens", a->unique_tokens, "unique training tokens available (Muennighoff et al. 2023)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--r-d-star", a->r_d_star, "R_D* of the data-constrained law (default 15.39, or the fit's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--r-n-star", a->r_n_star, "R_N* of the data-constrained law (default 5.31, or the fit's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--frontier", a->frontier, "write the frontier over a range of budgets: OUT.html (page) or OUT.svg");
  cmd->add_option("--frontier-min", a->frontier_min, "smallest budget of the frontier (default: the fitted data's, or C/1e4)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--frontier-max", a->frontier_max, "largest budget of the frontier (default 100 × the largest plan)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--frontier-points", a->frontier_points, "budgets on the frontier")->capture_default_str();
  cmd->add_option("--json", a->json, "everything as JSON (schema scalinglab.plan/1) to FILE or -");
  cmd->callback([a] { run_plan(*a); });
}

}  // namespace scalinglab::cli
