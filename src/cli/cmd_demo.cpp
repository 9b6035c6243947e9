// `scalinglab demo`: the main job on the embedded default data. For now: fit the bundled example
// runs by Chinchilla approach 3 with bootstrap intervals, check the fit by predicting the
// largest budget from the smaller ones, and write fit.json and the data into --out.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/example_data.h"
#include "cli/format.h"
#include "scalinglab/fit/fit_json.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/frontier.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/io/table.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::cli {
namespace {

struct DemoArgs {
  std::string out = "scalinglab-demo";
  int bootstrap = 1000;
  int threads = 0;
};

void run_demo(const DemoArgs& a) {
  util::install_interrupt_handler();
  std::filesystem::create_directories(a.out);
  const std::string csv_path = a.out + "/runs.csv";
  io::write_file_atomic(csv_path, synthetic_csv(example_truth(), example_design()));
  fit::Dataset data = fit::load_runs(io::read_table(csv_path), {});
  std::cout << "scalinglab demo: " << data.runs.size() << " runs (9 IsoFLOP budgets, 1e17..1e21 FLOPs) drawn from "
               "Besiroglu et al. 2024's Chinchilla refit with 1.5% noise -> "
            << csv_path << "\n\n"
            << std::flush;

  auto law = fit::make_law("chinchilla");
  fit::FitOptions o;
  o.bootstrap = a.bootstrap;
  o.threads = a.threads;
  o.seed = 1;
  o.holdout_top_compute = example_design().per_budget;  // hold out the whole largest budget
  o.at_compute = {1e22, 5.88e23};
  o.progress = true;
  fit::FitReport r = fit::fit(*law, data, o);
  io::write_file_atomic(a.out + "/fit.json", fit::to_json(r).dump(2) + "\n");

  fit::ChinchillaParams t = example_truth();
  std::cout << pad("param", 8) << pad("truth", 10) << pad("fit", 10) << "95% interval\n";
  const double truth[] = {t.E, t.A, t.B, t.alpha, t.beta};
  for (size_t i = 0; i < 5; ++i)
    std::cout << pad(r.param_names[i], 8) << pad(fmt(truth[i], 4), 10) << pad(fmt(r.params[i].value, 4), 10)
              << fmt_ci(r.params[i]) << "\n";
  std::cout << pad("a", 8) << pad(fmt(fit::chinchilla_a(t), 4), 10) << pad(fmt(r.derived[0].estimate.value, 4), 10)
            << fmt_ci(r.derived[0].estimate) << "   (N_opt ~ C^a)\n\n";
  for (const auto& c : r.at_compute)
    std::cout << "at C = " << fmt(c.compute, 3) << ": N_opt " << fmt(c.n_opt.value, 3) << " " << fmt_ci(c.n_opt)
              << ", D/N " << fmt(c.tokens_per_param.value, 3) << ", loss " << fmt(c.loss.value, 4) << " "
              << fmt_ci(c.loss) << "  (truth: N_opt " << fmt(fit::chinchilla_n_opt(t, c.compute), 3) << ")\n";
  if (r.holdout) {
    int inside = 0;
    for (const auto& h : r.holdout->rows) inside += h.inside_pi95 ? 1 : 0;
    std::cout << "\nholdout: fitted without the largest budget (" << fmt(r.holdout->rows[0].c, 2)
              << " FLOPs), its " << r.holdout->k << " runs are predicted with mean |rel err| "
              << fmt(100 * r.holdout->mean_abs_rel_error, 3) << "% (max " << fmt(100 * r.holdout->max_abs_rel_error, 3)
              << "%), " << inside << "/" << r.holdout->k << " inside their 95% prediction interval\n";
  }
  for (const auto& w : r.warnings) std::cout << "warning: " << w << "\n";
  std::cout << "\nwrote " << a.out << "/fit.json in " << fmt(r.wall_s, 3) << " s  (try: scalinglab predict --law "
            << a.out << "/fit.json --n 7e10 --d 1.4e12)\n";
}

}  // namespace

void register_demo(CLI::App& app) {
  auto a = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand("demo", "Run the main job on the embedded example data");
  cmd->add_option("-o,--out", a->out, "output directory")->capture_default_str();
  cmd->add_option("--bootstrap", a->bootstrap, "bootstrap resamples")->capture_default_str();
  cmd->add_option("--threads", a->threads, "threads (default: all cores)");
  cmd->callback([a] { run_demo(*a); });
}

}  // namespace scalinglab::cli
