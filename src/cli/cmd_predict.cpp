// `scalinglab predict --law FIT.json --n N --d D`: the loss of a run from a fitted law.
#include <algorithm>
#include <iostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "scalinglab/fit/fit_json.h"
#include "scalinglab/fit/fitter.h"

namespace scalinglab::cli {
namespace {

struct PredictArgs {
  std::string fit_file;
  double n = 0, d = 0, c = 0, x = 0, u = 0;
  bool json = false;
};

void run_predict(const PredictArgs& a) {
  const fit::FittedLaw f = fit::load_fit(a.fit_file);
  fit::Run at{a.n, a.d, a.c, a.x, 1, 0, a.u};
  // Complete (N, D, C) through C = 6ND from whichever two were given.
  if (at.c == 0 && at.n > 0 && at.d > 0) at.c = 6 * at.n * at.d;
  if (at.d == 0 && at.n > 0 && at.c > 0) at.d = at.c / (6 * at.n);
  if (at.n == 0 && at.d > 0 && at.c > 0) at.n = at.c / (6 * at.d);
  if (at.u > 0 && at.d > 0 && at.u > at.d) throw UsageError("--u (unique tokens) must not exceed the tokens D");
  for (fit::Variable v : f.model->variables()) {
    double value = v == fit::Variable::kN   ? at.n
                   : v == fit::Variable::kD ? at.d
                   : v == fit::Variable::kC ? at.c
                   : v == fit::Variable::kU ? at.u
                                            : at.x;
    if (!(value > 0))
      throw UsageError(std::string("law ") + f.model->name() + " needs " + fit::variable_name(v) +
                       ": give --" + (v == fit::Variable::kX ? "x" : std::string(1, static_cast<char>(std::tolower(fit::variable_name(v)[0])))) +
                       (v == fit::Variable::kX || v == fit::Variable::kU ? "" : " (or two of --n, --d, --c)"));
  }
  const fit::PointPrediction p = f.loss(at);
  const fit::Estimate& e = p.loss;
  const fit::Interval& pi = p.pi95;
  auto warning = fit::extrapolation_warning(at.c, f.range, "this prediction");
  if (a.json) {
    nlohmann::json j = {{"law", f.model->name()},
                        {"N", at.n},
                        {"D", at.d},
                        {"C", at.c},
                        {"x", at.x},
                        {"U", at.u},
                        {"loss", e.value},
                        {"se", std::isfinite(e.se) ? nlohmann::json(e.se) : nlohmann::json(nullptr)},
                        {"ci95", e.has_interval() ? nlohmann::json::array({e.lo, e.hi}) : nlohmann::json(nullptr)},
                        {"pi95", std::isfinite(pi.lo) ? nlohmann::json::array({pi.lo, pi.hi}) : nlohmann::json(nullptr)},
                        {"orders_past_data", p.orders_past_data},
                        {"warnings", warning ? nlohmann::json::array({*warning}) : nlohmann::json::array()}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << "law " << f.model->name() << " at ";
  const auto vars = f.model->variables();
  auto uses = [&](fit::Variable v) { return std::find(vars.begin(), vars.end(), v) != vars.end(); };
  if (uses(fit::Variable::kX) && !uses(fit::Variable::kN) && !uses(fit::Variable::kD) && !uses(fit::Variable::kC))
    std::cout << "x " << fmt(at.x, 4);
  else
    std::cout << "N " << fmt(at.n, 4) << ", D " << fmt(at.d, 4) << ", C " << fmt(at.c, 4);
  if (uses(fit::Variable::kU)) std::cout << ", U " << fmt(at.u, 4);
  std::cout << ": loss " << fmt(e.value, 5);
  if (e.has_interval()) std::cout << "  95% interval of the law " << fmt_ci(e) << " (" << f.bootstrap_theta.size() << " bootstrap fits)";
  std::cout << "\n";
  if (std::isfinite(pi.lo))
    std::cout << "a single run of this size is expected in [" << fmt(pi.lo) << ", " << fmt(pi.hi)
              << "] (95%, adding the fit's run-to-run scatter)\n";
  if (warning) std::cout << "warning: " << *warning << "\n";
}

}  // namespace

void register_predict(CLI::App& app) {
  auto a = std::make_shared<PredictArgs>();
  CLI::App* cmd = app.add_subcommand("predict", "Predict a run's loss, with its interval, from a fitted law");
  cmd->add_option("--law", a->fit_file, "fit JSON written by `scalinglab fit --json`")->required();
  cmd->add_option("--n", a->n, "parameters N")->check(CLI::PositiveNumber);
  cmd->add_option("--d", a->d, "training tokens D")->check(CLI::PositiveNumber);
  cmd->add_option("--c", a->c, "training compute C in FLOPs (C = 6ND)")->check(CLI::PositiveNumber);
  cmd->add_option("--x", a->x, "x for the power, inference and broken laws")->check(CLI::PositiveNumber);
  cmd->add_option("--u", a->u, "unique tokens U <= D for the data-constrained law")->check(CLI::PositiveNumber);
  cmd->add_flag("--json", a->json, "print JSON");
  cmd->callback([a] { run_predict(*a); });
}

}  // namespace scalinglab::cli
