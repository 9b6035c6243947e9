// `scalinglab sweep plan SPEC.json`: expand a sweep specification into its runs and show what
// they will cost before anything is trained.
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "cli/format.h"
#include "scalinglab/io/input_error.h"
#include "scalinglab/io/read_file.h"
#include "scalinglab/sweep/sweep_spec.h"

namespace scalinglab::cli {
namespace {

struct SweepPlanArgs {
  std::string spec_path;
  bool json = false;
};

sweep::SweepSpec load_spec(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(io::read_file(path, "sweep spec"));
  } catch (const nlohmann::json::parse_error& e) {
    throw io::InputError(path, 0, "", std::string("not valid JSON (") + e.what() + ")");
  }
  try {
    return sweep::sweep_from_json(j);
  } catch (const std::invalid_argument& e) {
    throw io::InputError(path, 0, "", e.what());
  }
}

void run_plan(const SweepPlanArgs& a) {
  sweep::SweepSpec spec = load_spec(a.spec_path);
  std::vector<sweep::PlannedRun> runs;
  try {
    runs = sweep::plan(spec);
  } catch (const std::invalid_argument& e) {
    throw io::InputError(a.spec_path, 0, "", e.what());
  }
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : runs)
      out.push_back({{"key", r.key}, {"N", r.n}, {"D", r.d}, {"C", r.c}, {"budget", r.budget}, {"spec", run::to_json(r.spec)}});
    std::cout << nlohmann::json{{"sweep", sweep::to_json(spec)}, {"runs", out}}.dump(2) << "\n";
    return;
  }
  double total_c = 0, total_tokens = 0;
  std::map<int64_t, int> sizes;
  std::cout << pad("key", 26) << pad("shape (d, L, H)", 18) << pad("N total", 10) << pad("D tokens", 10) << pad("D/N", 7)
            << pad("C = 6ND", 10) << pad("lr", 9) << "steps\n";
  for (const auto& r : runs) {
    const auto& m = r.spec.model;
    std::cout << pad(r.key, 26)
              << pad(std::to_string(m.d_model) + ", " + std::to_string(m.n_layer) + ", " + std::to_string(m.n_head), 18)
              << pad(fmt(r.n, 3), 10) << pad(fmt(r.d, 3), 10) << pad(fmt(r.d / r.n, 3), 7) << pad(fmt(r.c, 3), 10)
              << pad(fmt(r.spec.schedule.peak_lr, 3), 9) << r.spec.steps() << "\n";
    total_c += r.c;
    total_tokens += r.d;
    sizes[m.params_total()]++;
  }
  std::cout << "\n" << runs.size() << " runs, " << sizes.size() << " sizes, " << fmt(total_tokens, 3)
            << " training tokens, " << fmt(total_c, 3) << " FLOPs in all\n";
}

}  // namespace

void register_sweep(CLI::App& app) {
  CLI::App* sweep_cmd = app.add_subcommand("sweep", "Pilot sweeps: plan (and, next, run) a family of training runs");
  sweep_cmd->require_subcommand(1);
  auto a = std::make_shared<SweepPlanArgs>();
  CLI::App* p = sweep_cmd->add_subcommand("plan", "Expand a sweep spec (JSON) into runs with their sizes and FLOPs");
  p->add_option("spec", a->spec_path, "sweep specification (JSON; see docs/SWEEP.md)")->required();
  p->add_flag("--json", a->json, "print the planned runs as JSON");
  p->callback([a] { run_plan(*a); });
}

}  // namespace scalinglab::cli
