// `scalinglab sweep plan SPEC.json`: expand a sweep specification into its runs and show what
// they will cost before anything is trained.
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/sweep_spec_file.h"
#include "scalinglab/analysis/sweep_analysis.h"
#include "scalinglab/emergence/results_export.h"
#include "scalinglab/io/input_error.h"
#include "scalinglab/io/read_file.h"
#include "scalinglab/store/run_store.h"
#include "scalinglab/sweep/runner.h"
#include "scalinglab/sweep/self_validation.h"
#include "scalinglab/sweep/sweep_spec.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::cli {
namespace {

struct SweepPlanArgs {
  std::string spec_path;
  bool json = false, no_estimate = false;
};

}  // namespace

sweep::SweepSpec load_sweep_spec(const std::string& path) {
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

namespace {

void run_plan(const SweepPlanArgs& a) {
  sweep::SweepSpec spec = load_sweep_spec(a.spec_path);
  std::vector<sweep::PlannedRun> runs;
  try {
    runs = sweep::plan(spec);
  } catch (const std::invalid_argument& e) {
    throw io::InputError(a.spec_path, 0, "", e.what());
  }
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : runs) {
      out.push_back({{"key", r.key}, {"N", r.n}, {"D", r.d}, {"C", r.c}, {"budget", r.budget}, {"D_trained", r.d_trained},
                     {"spec", run::to_json(r.spec)}});
      if (r.wsd) out.back()["wsd"] = {{"trunk", r.wsd->trunk_key}, {"branch_step", r.wsd->branch_step},
                                      {"cooldown_steps", r.spec.steps() - r.wsd->branch_step}};
    }
    const sweep::PlanCompute pc = sweep::plan_compute(runs);
    std::cout << nlohmann::json{{"sweep", sweep::to_json(spec)},
                                {"runs", out},
                                {"compute", {{"independent", pc.independent}, {"trained", pc.trained}, {"trunks", pc.trunks}}}}
                     .dump(2)
              << "\n";
    return;
  }
  double total_c = 0, total_tokens = 0;
  std::map<int64_t, int> sizes;
  size_t key_w = 26;
  for (const auto& r : runs) key_w = std::max(key_w, r.key.size() + 2);
  std::cout << pad("key", key_w) << pad("shape (d, L, H)", 18) << pad("N total", 10) << pad("D tokens", 10) << pad("D/N", 7)
            << pad("C = 6ND", 10) << pad("lr", 9) << "steps\n";
  for (const auto& r : runs) {
    const auto& m = r.spec.model;
    std::cout << pad(r.key, key_w)
              << pad(std::to_string(m.d_model) + ", " + std::to_string(m.n_layer) + ", " + std::to_string(m.n_head), 18)
              << pad(fmt(r.n, 3), 10) << pad(fmt(r.d, 3), 10) << pad(fmt(r.d / r.n, 3), 7) << pad(fmt(r.c, 3), 10)
              << pad(fmt(r.spec.schedule.peak_lr, 3), 9) << r.spec.steps() << "\n";
    total_c += r.c;
    total_tokens += r.d;
    sizes[m.params_total()]++;
  }
  std::cout << "\n" << runs.size() << " runs, " << sizes.size() << " sizes, " << fmt(total_tokens, 3)
            << " training tokens, " << fmt(total_c, 3) << " FLOPs in all\n";
  const sweep::PlanCompute pc = sweep::plan_compute(runs);
  if (pc.trunks > 0)
    std::cout << "WSD: " << pc.trunks << " trunk(s) trained once + " << pc.runs << " cooldown branches = " << fmt(pc.trained, 3)
              << " FLOPs trained, vs " << fmt(pc.independent, 3) << " for independent runs (" << fmt(100 * (1 - pc.trained / pc.independent), 3)
              << "% saved)\n";
  if (!a.no_estimate) {
    const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    sweep::Schedule sch = sweep::choose_schedule(runs, cores);
    std::cout << "estimated wall time on this machine: " << util::Progress::format_duration(sch.est_seconds) << " ("
              << sch.workers << " run(s) at a time x " << sch.threads
              << " thread(s), from the measured training throughput of the smallest and largest shapes)\n";
  }
}

struct SweepRunArgs {
  std::string spec_path, store_path, sweep_name;
  sweep::SweepRunOptions options;
};

void print_outcome(const sweep::SweepOutcome& o, const std::string& store) {
  std::cout << "sweep: " << o.done << " done, " << o.diverged << " diverged, " << o.failed << " failed, " << o.queued
            << " left of " << o.total << " runs (" << o.workers << " worker(s) x " << o.threads_per_worker
            << " thread(s), " << fmt(o.wall_s, 3) << " s); store " << store << "\n";
  if (o.interrupted) std::cout << "interrupted: `scalinglab sweep resume " << store << "` continues\n";
}

void run_sweep_cmd(SweepRunArgs& a, bool resume) {
  a.options.store_path = a.store_path;
  if (a.options.out_dir.empty())
    a.options.out_dir = std::filesystem::path(a.store_path).parent_path().empty()
                            ? "."
                            : std::filesystem::path(a.store_path).parent_path().string();
  sweep::SweepOutcome o;
  std::string name = a.sweep_name;
  try {
    if (resume) {
      o = sweep::resume_sweep(a.options, a.sweep_name);
    } else {
      sweep::SweepSpec spec = load_sweep_spec(a.spec_path);
      name = spec.name;
      o = sweep::run_sweep(spec, a.options);
    }
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  print_outcome(o, a.store_path);
  // A finished sweep leaves what the rest of the tool reads beside its store, as `demo` does:
  // summary.json, fits/<law>.json and runs.csv (docs/SWEEP.md).
  if (!o.interrupted && o.queued == 0 && o.done > 0) {
    const std::string dir = std::filesystem::path(a.store_path).parent_path().empty()
                                ? "."
                                : std::filesystem::path(a.store_path).parent_path().string();
    try {
      analysis::AnalysisOptions ao;
      ao.sweep = name;
      const analysis::SweepAnalysis an = analysis::analyze_store(a.store_path, ao);
      nlohmann::json summary = analysis::summary_json(an);
      const auto files = analysis::write_sweep_outputs(an, summary, dir);
      std::cout << "wrote " << (std::filesystem::path(dir) / "summary.json").string() << " and " << files.size()
                << " fit and run files (fits/, runs.csv)\n";
    } catch (const std::exception& e) {
      std::cerr << "scalinglab: warning: the sweep's fits were not written: " << e.what() << "\n";
    }
  }
  // An emergence sweep also leaves its long results table, as `emergence run` does.
  if (!o.interrupted && o.done > 0) {
    const store::SweepRecord sw =
        store::select_sweep(store::RunStore::open(a.store_path, {store::OpenMode::kReadOnly}), name);
    if (emergence::is_emergence_sweep(sw)) {
      const std::string csv = (std::filesystem::path(a.options.out_dir) / "results.csv").string();
      const size_t rows = emergence::write_results_csv(a.store_path, sw.name, csv);
      std::cout << "wrote " << csv << " (" << rows << " rows: run x checkpoint x task x metric)\n";
    }
  }
  if (o.interrupted) exit_code_ref() = 130;
  else if (o.failed > 0 || o.queued > 0) exit_code_ref() = 1;
}

}  // namespace

void register_sweep(CLI::App& app) {
  CLI::App* sweep_cmd = app.add_subcommand("sweep", "Pilot sweeps: plan, run, resume and validate a family of training runs");
  sweep_cmd->require_subcommand(1);
  auto a = std::make_shared<SweepPlanArgs>();
  CLI::App* p = sweep_cmd->add_subcommand("plan", "Expand a sweep spec (JSON) into runs with their sizes and FLOPs");
  p->add_option("spec", a->spec_path, "sweep specification (JSON; see docs/SWEEP.md)")->required();
  p->add_flag("--json", a->json, "print the planned runs as JSON");
  p->add_flag("--no-estimate", a->no_estimate, "skip the throughput measurement behind the wall-time estimate");
  p->callback([a] { run_plan(*a); });

  auto r = std::make_shared<SweepRunArgs>();
  CLI::App* run = sweep_cmd->add_subcommand("run", "Train every run of a sweep, recording them in a crash-safe store");
  run->add_option("spec", r->spec_path, "sweep specification (JSON)")->required();
  run->add_option("--store", r->store_path, "SQLite run store (created if missing)")->required();
  run->add_option("--out", r->options.out_dir, "where run directories go (default: beside the store)");
  run->add_option("--workers", r->options.workers, "parallel runs (default: from measured throughput)");
  run->add_option("--threads", r->options.threads_per_worker, "threads per run");
  run->add_option("--cache", r->options.cache_dir, "tokenized corpora");
  run->callback([r] { run_sweep_cmd(*r, false); });

  auto s = std::make_shared<SweepRunArgs>();
  CLI::App* res = sweep_cmd->add_subcommand("resume", "Continue a sweep after a crash, kill or Ctrl-C");
  res->add_option("store", s->store_path, "the sweep's store")->required()->check(CLI::ExistingFile);
  res->add_option("--sweep", s->sweep_name, "sweep name, when the store holds several");
  res->add_option("--out", s->options.out_dir, "where run directories go (default: beside the store)");
  res->add_option("--workers", s->options.workers, "parallel runs (default: from measured throughput)");
  res->add_option("--threads", s->options.threads_per_worker, "threads per run");
  res->add_option("--cache", s->options.cache_dir, "tokenized corpora");
  res->callback([s] { run_sweep_cmd(*s, true); });

  struct ValidateArgs {
    std::string store;
    sweep::ValidationOptions options;
  };
  auto v = std::make_shared<ValidateArgs>();
  CLI::App* val = sweep_cmd->add_subcommand(
      "validate", "Predict a run at 4x the sweep's largest compute from the fit, train it and compare");
  val->add_option("store", v->store, "the sweep's store")->required()->check(CLI::ExistingFile);
  val->add_option("--sweep", v->options.sweep, "sweep name, when the store holds several");
  val->add_option("--factor", v->options.compute_factor, "held-out compute / largest sweep compute")
      ->capture_default_str();
  val->add_option("--out", v->options.out_dir, "where the held-out run goes (default: beside the store)");
  val->add_option("--threads", v->options.threads, "threads");
  val->add_flag_function(
      "--chinchilla-only",
      [v](int64_t) { v->options.headline = sweep::ValidationOptions::Headline::kChinchilla; },
      "headline prediction from Hoffmann et al.'s law alone, not the law the rollout backtest on the sweep's runs chose");
  val->add_option("--cache", v->options.cache_dir, "tokenized corpora");
  val->callback([v] {
    if (v->options.out_dir.empty())
      v->options.out_dir = std::filesystem::path(v->store).parent_path().empty()
                               ? "."
                               : std::filesystem::path(v->store).parent_path().string();
    util::install_interrupt_handler();
    sweep::ValidationResult r;
    try {
      r = sweep::validate_sweep(v->store, v->options);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    std::cout << "held-out run " << r.key << " (N " << fmt(r.n, 3) << ", D " << fmt(r.d, 3) << ", C " << fmt(r.compute, 3)
              << "): predicted " << fmt(r.predicted.value, 4) << " (95% for one run [" << fmt(r.pi95.lo, 4) << ", "
              << fmt(r.pi95.hi, 4) << "]; " << r.headline << "), actual " << fmt(r.actual, 4) << ", error " << fmt(100 * r.rel_error, 3)
              << "% -> " << v->options.out_dir << "/validation.json\n";
    std::cout << "  headline " << r.headline << ": " << r.headline_reason << "\n";
    if (r.backtest) std::cout << backtest_text(*r.backtest, "  ");
    if (r.status != "done") exit_code_ref() = r.status == "interrupted" ? 130 : 3;
  });
}

}  // namespace scalinglab::cli
