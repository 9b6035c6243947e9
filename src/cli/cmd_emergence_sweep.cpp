// `scalinglab emergence run | resume | export | demo`: an emergence sweep — a model family trained on task
// text mixed into the corpus, every run scored on the tasks at log-spaced checkpoints — run by the
// sweep runner (its workers, store, progress and Ctrl-C handling), and its long results table.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/sweep_spec_file.h"
#include "scalinglab/emergence/analyze.h"
#include "scalinglab/emergence/results_export.h"
#include "scalinglab/io/input_error.h"
#include "scalinglab/store/run_store.h"
#include "scalinglab/study/emergence_demo.h"
#include "scalinglab/sweep/runner.h"
#include "scalinglab/util/progress.h"

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


// The three curves a reader compares, per task: exact match beside the continuous metrics, one
// row per scale of the view (model sizes, or one run's checkpoints).
void print_metric_table(const emergence::AnalysisResult& r, const std::string& group, std::ostream& out) {
  const char* metrics[] = {"exact_match", "token_accuracy", "loglik_per_token"};
  const emergence::Curve* c[3] = {nullptr, nullptr, nullptr};
  for (const auto& a : r.curves)
    if (a.curve.group() == group)
      for (int k = 0; k < 3; ++k)
        if (a.curve.metric == metrics[k]) c[k] = &a.curve;
  if (!c[0]) return;
  out << "  " << pad("model", 28) << pad("params", 10) << pad("compute", 10) << pad("exact match", 13) << pad("token acc", 11)
      << "loglik/token\n";
  for (size_t i = 0; i < c[0]->points.size(); ++i) {
    const auto& p = c[0]->points[i];
    out << "  " << pad(p.model, 28) << pad(fmt(p.params, 3), 10) << pad(fmt(p.compute, 3), 10) << pad(fmt(p.value, 3), 13);
    for (int k = 1; k < 3; ++k) {
      std::string v = "-";
      if (c[k])
        for (const auto& q : c[k]->points)
          if (q.model == p.model) v = fmt(q.value, 3);
      out << (k == 1 ? pad(v, 11) : v);
    }
    out << "\n";
  }
}

void print_verdicts(const emergence::AnalysisResult& r, std::ostream& out) {
  for (const auto& t : r.verdicts) {
    out << "  " << pad(t.group, 40) << t.verdict << "\n";
    for (const auto& a : r.curves)
      if (a.curve.group_label() == t.group &&
          (a.curve.metric == "exact_match" || a.curve.metric == "token_accuracy" || a.curve.metric == "loglik_per_token"))
        out << "      " << pad(a.curve.metric, 18) << pad(a.shape, 8) << "sharpness " << pad(fmt(a.sharpness, 3), 8)
            << "forecast mean |err| " << pad(fmt(a.forecast.mean_abs_error, 3), 8) << a.verdict << "\n";
  }
}

struct DemoArgs {
  std::string spec;
  study::EmergenceDemoOptions options;
};

void run_demo(DemoArgs& a) {
  util::install_interrupt_handler(false);  // the workers finish the checkpoint they are writing
  sweep::SweepSpec spec;
  try {
    spec = a.spec.empty() ? study::default_emergence_spec() : load_sweep_spec(a.spec);
    if (!spec.emergence)
      throw io::InputError(a.spec, 0, "", "field 'emergence' is missing: the emergence demo trains and scores tasks");
    double c_lo = INFINITY, c_hi = 0, n_lo = INFINITY, n_hi = 0;
    const auto plan = sweep::plan(spec);
    for (const auto& p : plan) {
      c_lo = std::min(c_lo, p.c), c_hi = std::max(c_hi, p.c);
      n_lo = std::min(n_lo, p.n), n_hi = std::max(n_hi, p.n);
    }
    std::cout << "scalinglab emergence demo: " << plan.size() << " GPTs of " << fmt(n_lo, 2) << ".." << fmt(n_hi, 2)
              << " parameters (" << fmt(c_lo, 2) << ".." << fmt(c_hi, 2) << " FLOPs) trained on "
              << (spec.corpus == "kjv" ? "the KJV Bible" : spec.corpus) << " with ";
    for (size_t i = 0; i < spec.emergence->tasks.size(); ++i)
      std::cout << (i ? ", " : "") << spec.emergence->tasks[i].name;
    std::cout << " mixed in (" << fmt(100 * spec.emergence->mix_fraction, 3) << "% of bytes), each scored at "
              << spec.emergence->checkpoints + 1 << " checkpoints -> " << a.options.out_dir << "/\n"
              << std::flush;
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    if (what.rfind("sweep spec:", 0) == 0) throw io::InputError(a.spec.empty() ? "default spec" : a.spec, 0, "", what);
    throw UsageError(what);
  }
  const study::EmergenceDemoResult r = study::run_emergence_demo(spec, a.options);
  const auto& o = r.sweep;
  std::cout << "runs: " << o.done << " done, " << o.diverged << " diverged, " << o.failed << " failed of " << o.total << " ("
            << o.workers << " at a time x " << o.threads_per_worker << " thread(s), " << fmt(o.wall_s, 3) << " s)\n";
  if (r.interrupted) {
    std::cout << "interrupted: run `scalinglab emergence demo -o " << a.options.out_dir << "` again to continue where it stopped\n";
    exit_code_ref() = 130;
    return;
  }
  std::cout << "\nacross the family (final checkpoints, by compute):\n";
  std::vector<std::string> groups;
  for (const auto& c : r.family.curves)
    if (std::find(groups.begin(), groups.end(), c.curve.group()) == groups.end()) {
      groups.push_back(c.curve.group());
      std::cout << " " << c.curve.group_label() << "\n";
      print_metric_table(r.family, c.curve.group(), std::cout);
    }
  std::cout << "\nverdicts across the family (rule: docs/EMERGENCE.md):\n";
  print_verdicts(r.family, std::cout);
  std::cout << "\nverdicts along each run's training (checkpoints by compute so far):\n";
  print_verdicts(r.training, std::cout);
  std::cout << "\n";
  for (const auto& f : r.files) std::cout << "wrote " << f << "\n";
  std::cout << "in " << fmt(r.wall_s, 3) << " s (store: " << r.store_path << "); every curve's fits and forecasts: "
            << "scalinglab emergence analyze " << a.options.out_dir << "/family.csv\n";
  if (o.failed > 0 || o.queued > 0) exit_code_ref() = 1;
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

  auto d = std::make_shared<DemoArgs>();
  CLI::App* dm = emergence.add_subcommand(
      "demo", "Train a small family on addition and modular arithmetic mixed into the embedded corpus and show "
              "exact match jumping while per-token metrics improve smoothly (about 1-2 minutes on 2 cores)");
  dm->add_option("-o,--out", d->options.out_dir, "output directory (run it again to resume)")->capture_default_str();
  dm->add_option("--spec", d->spec, "a sweep spec with an `emergence` block instead of the built-in family");
  dm->add_option("--workers", d->options.workers, "parallel runs (default: from measured throughput)");
  dm->add_option("--threads", d->options.threads, "threads per run");
  dm->add_option("--bootstrap", d->options.bootstrap, "bootstrap replicates for the logistic x0 interval")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  dm->add_option("--cache", d->options.cache_dir, "tokenized corpora (default: ~/.cache/scalinglab)");
  dm->callback([d] { run_demo(*d); });

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
