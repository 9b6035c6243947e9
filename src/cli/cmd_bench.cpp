// `scalinglab bench fit`: how long the fitting engine takes on the bundled example (the
// side-by-side comparison with SciPy is bench/fit_vs_scipy.py, which calls this).
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/example_data.h"
#include "cli/format.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/huber_objective.h"
#include "scalinglab/fit/multistart.h"
#include "scalinglab/io/table.h"

namespace scalinglab::cli {
namespace {

struct BenchFitArgs {
  std::string data;
  int threads = 0, bootstrap = 1000;
  bool json = false;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run_bench_fit(const BenchFitArgs& a) {
  fit::Dataset data = a.data.empty() ? fit::make_synthetic(example_truth(), example_design())
                                     : fit::load_runs(io::read_table(a.data), {});
  auto law = fit::make_law("chinchilla");
  fit::FitOptions o;
  o.threads = a.threads;
  o.bootstrap = 0;
  auto t0 = std::chrono::steady_clock::now();
  fit::FitReport grid = fit::fit(*law, data, o);
  double grid_s = seconds_since(t0);
  o.bootstrap = a.bootstrap;
  t0 = std::chrono::steady_clock::now();
  fit::FitReport boot = fit::fit(*law, data, o);
  double boot_s = seconds_since(t0) - grid_s;
  if (a.json) {
    nlohmann::json j = {{"points", grid.points},       {"starts", grid.starts},
                        {"grid_fit_s", grid_s},        {"bootstrap", a.bootstrap},
                        {"bootstrap_s", boot_s},       {"objective", grid.objective},
                        {"params", grid.params.size()}};
    std::vector<double> p;
    for (const auto& e : grid.params) p.push_back(e.value);
    j["param_values"] = p;
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << "bench fit: " << grid.points << " runs, chinchilla law\n"
            << "  " << grid.starts << "-start L-BFGS grid: " << fmt(grid_s, 3) << " s (objective " << fmt(grid.objective, 6)
            << ")\n"
            << "  " << a.bootstrap << " bootstrap refits:     " << fmt(boot_s, 3) << " s\n";
}

}  // namespace

void register_bench(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks (timings, not tests)");
  bench->require_subcommand(1);
  auto a = std::make_shared<BenchFitArgs>();
  CLI::App* f = bench->add_subcommand("fit", "Time the Chinchilla fit: 4,500-start grid and bootstrap");
  f->add_option("--data", a->data, "runs table (default: the bundled example)");
  f->add_option("--threads", a->threads, "threads (default: all cores)");
  f->add_option("--bootstrap", a->bootstrap, "bootstrap resamples")->capture_default_str();
  f->add_flag("--json", a->json, "print JSON");
  f->callback([a] { run_bench_fit(*a); });
}

}  // namespace scalinglab::cli
