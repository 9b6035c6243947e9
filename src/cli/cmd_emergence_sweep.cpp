// `scalinglab emergence run | resume | export`: an emergence sweep — a model family trained on task
// text mixed into the corpus, every run scored on the tasks at log-spaced checkpoints — run by the
// sweep runner (its workers, store, progress and Ctrl-C handling), and its long results table.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/sweep_spec_file.h"
#include "scalinglab/emergence/results_export.h"
#include "scalinglab/io/input_error.h"
#include "scalinglab/store/run_store.h"
#include "scalinglab/sweep/runner.h"

namespace scalinglab::cli {
namespace {

struct EmergenceRunArgs {
  std::string spec_path, store_path, sweep_name;
  sweep::SweepRunOptions options;
};

std::string beside(const std::string& store_path) {
  const auto dir = std::filesystem::path(store_path).parent_path();
  return dir.empty() ? "." : dir.string();
}

void run_cmd(EmergenceRunArgs& a, bool resume) {
  a.options.store_path = a.store_path;
  if (a.options.out_dir.empty()) a.options.out_dir = beside(a.store_path);
  sweep::SweepOutcome o;
  std::string name = a.sweep_name;
  try {
    if (resume) {
      const store::SweepRecord sw =
          store::select_sweep(store::RunStore::open(a.store_path, {store::OpenMode::kReadOnly}), a.sweep_name);
      if (!emergence::is_emergence_sweep(sw))
        throw UsageError(a.store_path + ": sweep '" + sw.name + "' is not an emergence sweep; resume it with `scalinglab sweep resume`");
      name = sw.name;
      o = sweep::resume_sweep(a.options, sw.name);
    } else {
      sweep::SweepSpec spec = load_sweep_spec(a.spec_path);
      if (!spec.emergence)
        throw io::InputError(a.spec_path, 0, "",
                             "field 'emergence' is missing: `emergence run` trains and scores tasks (docs/EMERGENCE.md); "
                             "a plain sweep runs with `scalinglab sweep run`");
      name = spec.name;
      o = sweep::run_sweep(spec, a.options);
    }
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    if (!resume && what.rfind("sweep spec:", 0) == 0) throw io::InputError(a.spec_path, 0, "", what);
    throw UsageError(what);
  }
  std::cout << "emergence sweep: " << o.done << " done, " << o.diverged << " diverged, " << o.failed << " failed, " << o.queued
            << " left of " << o.total << " runs (" << o.workers << " worker(s) x " << o.threads_per_worker << " thread(s), "
            << fmt(o.wall_s, 3) << " s); store " << a.store_path << "\n";
  if (o.interrupted) {
    std::cout << "interrupted: `scalinglab emergence resume --store " << a.store_path << "` continues\n";
    exit_code_ref() = 130;
    return;
  }
  if (o.done > 0) {
    const std::string csv = (std::filesystem::path(a.options.out_dir) / "results.csv").string();
    const size_t rows = emergence::write_results_csv(a.store_path, name, csv);
    std::cout << "wrote " << csv << " (" << rows << " rows: run x checkpoint x task x metric)\n";
  }
  if (o.failed > 0 || o.queued > 0) exit_code_ref() = 1;
}

void add_run_options(CLI::App* c, EmergenceRunArgs& a) {
  c->add_option("--out", a.options.out_dir, "run directories, the mixed corpus and results.csv (default: beside the store)");
  c->add_option("--workers", a.options.workers, "parallel runs (default: from measured throughput)");
  c->add_option("--threads", a.options.threads_per_worker, "threads per run");
  c->add_option("--cache", a.options.cache_dir, "tokenized corpora");
}

}  // namespace

void register_emergence_sweep(CLI::App& emergence) {
  auto r = std::make_shared<EmergenceRunArgs>();
  CLI::App* run = emergence.add_subcommand(
      "run", "Train a family on tasks mixed into the corpus and score every run at log-spaced checkpoints (crash-safe store)");
  run->add_option("spec", r->spec_path, "sweep specification with an `emergence` block (JSON; docs/SWEEP.md)")->required();
  run->add_option("--store", r->store_path, "SQLite run store (created if missing)")->required();
  add_run_options(run, *r);
  run->callback([r] { run_cmd(*r, false); });

  auto s = std::make_shared<EmergenceRunArgs>();
  CLI::App* res = emergence.add_subcommand("resume", "Continue an emergence sweep after a crash, kill or Ctrl-C");
  res->add_option("--store", s->store_path, "the sweep's store")->required()->check(CLI::ExistingFile);
  res->add_option("--sweep", s->sweep_name, "sweep name, when the store holds several");
  add_run_options(res, *s);
  res->callback([s] { run_cmd(*s, true); });

  struct ExportArgs {
    std::string store, sweep, csv;
    emergence::ExportOptions options;
  };
  auto e = std::make_shared<ExportArgs>();
  CLI::App* ex = emergence.add_subcommand(
      "export", "Write the long results table (model, params, compute, task, metric, value, ...) of an emergence sweep");
  ex->add_option("--store", e->store, "the sweep's store")->required()->check(CLI::ExistingFile);
  ex->add_option("--csv", e->csv, "output CSV file ('-': standard output)")->required();
  ex->add_option("--sweep", e->sweep, "sweep name, when the store holds several");
  ex->add_flag("--with-step", e->options.with_step,
               "add the checkpoint's optimizer step (differs between sizes at one progress: `analyze` would split curves by it)");
  ex->callback([e] {
    size_t rows = 0;
    try {
      rows = emergence::write_results_csv(e->store, e->sweep, e->csv, e->options);
    } catch (const std::invalid_argument& err) {
      throw UsageError(err.what());
    }
    if (e->csv != "-") std::cout << "wrote " << e->csv << " (" << rows << " rows)\n";
    if (rows == 0) std::cerr << "scalinglab: note: no finished run has scores yet\n";
  });
}

}  // namespace scalinglab::cli
