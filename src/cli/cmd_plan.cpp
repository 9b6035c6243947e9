// `scalinglab plan`: compute-optimal N and D for a budget from a fitted or published law.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "scalinglab/fit/fit_json.h"
#include "scalinglab/fit/frontier.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/plan/planner.h"

namespace scalinglab::cli {
namespace {

struct PlanArgs {
  std::string law = "chinchilla";
  std::vector<double> compute;
  double target_loss = 0, params = 0;
};

plan::PlanLaw load_law(const std::string& what) {
  if (!std::filesystem::exists(what)) {
    try {
      return {plan::preset_law(what), {}, 0};
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  fit::LoadedFit f = fit::load_fit(what);
  if (f.law->name() != "chinchilla")
    throw UsageError(what + ": the planner needs a chinchilla law (this fit is " + f.law->name() + ")");
  auto to_params = [&](const std::vector<double>& theta) {
    auto p = f.law->to_public(theta.data());
    return fit::ChinchillaParams{p[0], p[1], p[2], p[3], p[4]};
  };
  plan::PlanLaw law{to_params(f.theta), {}, std::isfinite(f.range.c.max) ? f.range.c.max : 0};
  for (const auto& t : f.bootstrap_theta) law.replicates.push_back(to_params(t));
  return law;
}

void run_plan(const PlanArgs& a) {
  plan::PlanLaw law = load_law(a.law);
  const auto& p = law.point;
  std::cout << "law: L = " << fmt(p.E) << " + " << fmt(p.A) << "/N^" << fmt(p.alpha) << " + " << fmt(p.B) << "/D^"
            << fmt(p.beta) << "  (N_opt ~ C^" << fmt(fit::chinchilla_a(p)) << ", "
            << (law.replicates.empty() ? "no intervals: a published law" : std::to_string(law.replicates.size()) + " bootstrap replicates")
            << ")\n";
  std::vector<double> budgets = a.compute;
  if (a.target_loss > 0) {
    double c = plan::compute_for_loss(p, a.target_loss);
    if (!std::isfinite(c)) throw UsageError("--target-loss must be above the irreducible loss E = " + fmt(p.E));
    std::cout << "target loss " << fmt(a.target_loss) << " needs at least C = " << fmt(c, 3) << " FLOPs\n";
    budgets.push_back(c);
  }
  if (budgets.empty()) throw UsageError("give --compute C (FLOPs) or --target-loss L");
  std::cout << "\n" << pad("compute C", 12) << pad("N_opt [95%]", 34) << pad("D_opt [95%]", 34) << pad("D/N", 8) << "loss\n";
  fit::DataRange range;
  range.c.max = law.fitted_c_max > 0 ? law.fitted_c_max : NAN;
  for (double c : budgets) {
    auto x = plan::optimal_allocation(law, c);
    auto cell = [](const fit::Estimate& e) { return fmt(e.value, 3) + (e.has_interval() ? " " + fmt_ci(e) : ""); };
    std::cout << pad(fmt(c, 3), 12) << pad(cell(x.n), 34) << pad(cell(x.d), 34) << pad(fmt(x.tokens_per_param.value, 3), 8)
              << cell(x.loss) << "\n";
    if (auto w = fit::extrapolation_warning(c, range, "the plan")) std::cout << "warning: " << *w << "\n";
    if (a.params > 0) {
      auto f = plan::fixed_size(p, a.params, c);
      std::cout << "  with N = " << fmt(f.n, 3) << ": D = " << fmt(f.d, 3) << " (D/N " << fmt(f.d / f.n, 3) << "), loss "
                << fmt(f.loss, 5) << ", +" << fmt(f.loss_penalty, 3) << " over the optimum; this budget is "
                << fmt(100 * f.compute_overhead, 3) << "% more compute than the optimal allocation needs for that loss\n";
    }
  }
}

}  // namespace

void register_plan(CLI::App& app) {
  auto a = std::make_shared<PlanArgs>();
  CLI::App* cmd = app.add_subcommand("plan", "Compute-optimal model size and tokens for a budget");
  cmd->add_option("--law", a->law, "chinchilla | epoch | a fit JSON from `scalinglab fit --json`")->capture_default_str();
  cmd->add_option("--compute", a->compute, "budgets in FLOPs (C = 6ND)")->check(CLI::PositiveNumber);
  cmd->add_option("--target-loss", a->target_loss, "the least compute (and N, D) that reaches this loss")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--params", a->params, "also plan a fixed model size N: best D and its penalty")
      ->check(CLI::PositiveNumber);
  cmd->callback([a] { run_plan(*a); });
}

}  // namespace scalinglab::cli
