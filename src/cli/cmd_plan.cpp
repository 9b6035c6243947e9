// `scalinglab plan`: compute-optimal N and D for a budget from a fitted or published law, what it
// costs on given hardware, and the inference-aware and data-constrained alternatives.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/format.h"
#include "scalinglab/fit/frontier.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/plan/make_plan.h"
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

// A library error names option fields ("target_loss: ...", `peak_flops` in the text); here they are
// flags (--target-loss).
std::string as_flags(const std::string& message, bool field_prefix = true) {
  auto flag = [](std::string field) {
    std::replace(field.begin(), field.end(), '_', '-');
    return "--" + field;
  };
  std::string out;
  const size_t colon = message.find(": ");
  size_t start = 0;
  if (field_prefix && colon != std::string::npos && colon > 0 &&
      std::all_of(message.begin(), message.begin() + static_cast<long>(colon), [](char c) { return std::islower(c) || c == '_'; })) {
    out = flag(message.substr(0, colon));
    start = colon;
  }
  for (size_t i = start; i < message.size(); ++i) {
    const size_t close = message[i] == '`' ? message.find('`', i + 1) : std::string::npos;
    if (close == std::string::npos) {
      out += message[i];
      continue;
    }
    out += flag(message.substr(i + 1, close - i - 1));
    i = close;
  }
  return out;
}

void run_plan(const PlanArgs& a) {
  // With --json -, standard output carries the JSON alone (as with `fit --json -`).
  std::ostringstream quiet;
  std::ostream& out = a.json == "-" ? quiet : std::cout;
  plan::PlanOptions o;
  o.law = a.law;
  o.compute = a.compute;
  o.gpu_hours = a.gpu_hours;
  o.budget_usd = a.budget_usd;
  o.target_loss = a.target_loss;
  o.params = a.params;
  o.gpu = a.gpu;
  o.peak_flops = a.peak_flops;
  o.mfu = a.mfu;
  o.gpus = a.gpus;
  o.usd_per_gpu_hour = a.usd_per_gpu_hour;
  o.inference_tokens = a.inference_tokens;
  o.unique_tokens = a.unique_tokens;
  o.r_d_star = a.r_d_star;
  o.r_n_star = a.r_n_star;
  o.frontier = !a.frontier.empty() || !a.json.empty();
  o.frontier_min = a.frontier_min;
  o.frontier_max = a.frontier_max;
  o.frontier_points = a.frontier_points;
  plan::PlanReport rep;
  try {
    rep = plan::make_plan(o);
  } catch (const std::invalid_argument& e) {
    throw UsageError(as_flags(e.what()));
  }
  const plan::Surface& s = rep.law.point;
  const double c_from_hours = rep.compute_from_gpu_hours, c_from_usd = rep.compute_from_usd;
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
  for (const auto& n : rep.notes) out << "  note: " << as_flags(n, false) << "\n";
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
