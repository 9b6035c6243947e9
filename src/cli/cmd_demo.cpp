// `scalinglab demo`: the main job on the embedded default data. A pilot sweep of small GPTs on the
// KJV corpus (two orders of magnitude of compute), the laws fitted to it, a held-out run at 4x the
// largest compute predicted and then trained, summary.json and report.html. `--synthetic` instead
// fits the bundled synthetic runs drawn from a published law (seconds, no training).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/example_data.h"
#include "cli/format.h"
#include "cli/sweep_spec_file.h"
#include "scalinglab/fit/fit_json.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/frontier.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/io/table.h"
#include "scalinglab/study/pilot_study.h"
#include "scalinglab/sweep/sweep_spec.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::cli {
namespace {

struct DemoArgs {
  std::string out = "scalinglab-demo";
  int bootstrap = -1;  // default: 1000 for --synthetic, 300 for the sweep
  int threads = 0, workers = 0;
  bool synthetic = false;
  std::string cache, spec;
};

void run_synthetic_demo(const DemoArgs& a) {
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
  o.bootstrap = a.bootstrap < 0 ? 1000 : a.bootstrap;
  o.threads = a.threads;
  o.seed = 1;
  o.holdout_top_compute = example_design().per_budget;  // hold out the whole largest budget
  o.at_compute = {1e22, 5.88e23};
  o.progress = true;
  fit::FittedLaw r = fit::fit(*law, data, o);
  io::write_file_atomic(a.out + "/fit.json", fit::to_json(r).dump(2) + "\n");

  fit::ChinchillaParams t = example_truth();
  std::cout << pad("param", 8) << pad("truth", 10) << pad("fit", 10) << pad("95% interval", 26) << "identified\n";
  const double truth[] = {t.E, t.A, t.B, t.alpha, t.beta};
  IdentNotes notes;
  for (size_t i = 0; i < 5; ++i)
    std::cout << pad(r.param_names[i], 8) << pad(fmt(truth[i], 4), 10) << pad(fmt(r.params[i].value, 4), 10)
              << pad(fmt_ci(r.params[i]), 26) << notes.cell(r.param_names[i], r.params[i]) << "\n";
  std::cout << pad("a", 8) << pad(fmt(fit::chinchilla_a(t), 4), 10) << pad(fmt(r.derived[0].estimate.value, 4), 10)
            << pad(fmt_ci(r.derived[0].estimate), 26) << notes.cell("a", r.derived[0].estimate) << "   (N_opt ~ C^a)\n";
  notes.print(std::cout);
  std::cout << "\n";
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

std::string ci_text(double lo, double hi, int digits = 4) { return "[" + fmt(lo, digits) + ", " + fmt(hi, digits) + "]"; }

void run_sweep_demo(const DemoArgs& a) {
  util::install_interrupt_handler(false);  // the sweep's workers finish their checkpoints first
  study::PilotStudyOptions o;
  o.out_dir = a.out;
  o.cache_dir = a.cache;
  o.workers = a.workers;
  o.threads = a.threads;
  if (a.bootstrap >= 0) o.bootstrap = a.bootstrap;
  sweep::SweepSpec spec = a.spec.empty() ? study::default_pilot_spec() : load_sweep_spec(a.spec);
  // The planned runs' compute, whatever the design (c_min/c_max are an IsoFLOP design's fields).
  double c_lo = INFINITY, c_hi = 0;
  try {
    for (const auto& p : sweep::plan(spec)) {
      c_lo = std::min(c_lo, p.c);
      c_hi = std::max(c_hi, p.c);
    }
  } catch (const std::invalid_argument& e) {
    throw UsageError((a.spec.empty() ? std::string("default spec") : a.spec) + ": " + e.what());
  }
  std::cout << "scalinglab demo: a pilot sweep of small GPTs on " << (spec.corpus == "kjv" ? "the KJV Bible" : spec.corpus) << " (byte-level), "
            << fmt(c_lo, 2) << ".." << fmt(c_hi, 2)
            << " FLOPs, then a held-out run at " << fmt(o.validation_factor, 2)
            << "x the largest compute, predicted before it is trained -> " << a.out << "/\n"
            << std::flush;
  study::PilotStudyResult r = study::run_pilot_study(spec, o);
  if (r.interrupted) {
    std::cout << "interrupted: run `scalinglab demo -o " << a.out << "` again to continue where it stopped\n";
    exit_code_ref() = 130;
    return;
  }
  const auto& s = r.summary;
  std::cout << "\nruns: " << s["runs"]["done"] << " done of " << s["runs"]["planned"] << " ("
            << r.sweep.workers << " at a time x " << r.sweep.threads_per_worker << " thread(s)); compute "
            << fmt(s["compute_range"]["min"].get<double>(), 2) << ".." << fmt(s["compute_range"]["max"].get<double>(), 2)
            << " FLOPs (" << fmt(s["compute_range"]["orders_of_magnitude"].get<double>(), 3) << " orders of magnitude)\n";
  IdentNotes notes;  // identified column: reasons of weak / unidentified numbers as footnotes
  if (r.analysis && r.analysis->chinchilla) {
    const auto& f = *r.analysis->chinchilla;
    std::cout << "law:  " << f.formula << "\n";
    for (size_t i = 0; i < f.params.size(); ++i)
      std::cout << "      " << pad(f.param_names[i], 6) << pad(fmt(f.params[i].value, 4), 11)
                << pad(ci_text(f.params[i].lo, f.params[i].hi), 26) << "identified " << notes.cell(f.param_names[i], f.params[i])
                << "\n";
    if (!f.derived.empty())
      std::cout << "      N_opt ~ C^a, a = " << fmt(f.derived[0].estimate.value, 3) << " "
                << ci_text(f.derived[0].estimate.lo, f.derived[0].estimate.hi, 3) << "  identified "
                << notes.cell("a (approach 3)", f.derived[0].estimate) << "\n";
  }
  if (r.analysis) {
    if (r.analysis->isoflop)
      std::cout << "approach 2 (IsoFLOP): a = " << fmt(r.analysis->isoflop->scaling.a.value, 3) << " "
                << ci_text(r.analysis->isoflop->scaling.a.lo, r.analysis->isoflop->scaling.a.hi, 3) << "  identified "
                << notes.cell("a (approach 2)", r.analysis->isoflop->scaling.a) << "\n";
    if (r.analysis->envelope)
      std::cout << "approach 1 (envelope): a = " << fmt(r.analysis->envelope->scaling.a.value, 3) << " "
                << ci_text(r.analysis->envelope->scaling.a.lo, r.analysis->envelope->scaling.a.hi, 3) << "  identified "
                << notes.cell("a (approach 1)", r.analysis->envelope->scaling.a) << "\n";
    notes.print(std::cout);
    if (!r.analysis->agreement.entries.empty())
      std::cout << "approaches on a: " << r.analysis->agreement.verdict << " (" << r.analysis->agreement.detail << ")\n";
  }
  if (r.validation) {
    const auto& v = *r.validation;
    std::cout << "\nheld-out run at C = " << fmt(v.compute, 3) << " (N " << fmt(v.n, 3) << ", D " << fmt(v.d, 3)
              << "): predicted " << fmt(v.predicted.value, 4) << " " << ci_text(v.pi95.lo, v.pi95.hi)
              << " (95% for one run; " << v.headline << "), actual " << fmt(v.actual, 4) << " -> error "
              << fmt(100 * v.rel_error, 3) << "%, " << (v.inside_pi95 ? "inside" : "OUTSIDE") << " the interval\n";
    if (v.by_law.size() > 1)
      for (const auto& x : v.by_law)
        std::cout << "  " << x.law << " alone: " << fmt(x.predicted.value, 4) << " " << ci_text(x.pi95.lo, x.pi95.hi)
                  << ", error " << fmt(100 * x.rel_error, 3) << "%\n";
    std::cout << "  headline " << v.headline << ": " << v.headline_reason << "\n";
    if (v.backtest) std::cout << backtest_text(*v.backtest, "  ");
  }
  for (const auto& w : s["warnings"]) std::cout << "warning: " << w.get<std::string>() << "\n";
  std::cout << "\nwrote " << r.summary_path << ", " << r.report_path << ", " << r.files.size()
            << " fit and run files (fits/, runs.csv) in " << fmt(r.wall_s, 3) << " s (store: " << r.store_path << ")\n";
  for (const auto& f : r.files)
    if (f.ends_with("fits/chinchilla.json")) {
      std::cout << "try: scalinglab plan --law " << f << " --compute " << fmt(100 * r.analysis->c_max, 2) << "\n";
      break;
    }
}

}  // namespace

void register_demo(CLI::App& app) {
  auto a = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "The main job: a pilot sweep on the embedded corpus, fitted laws, a validated prediction, a report");
  cmd->add_option("-o,--out", a->out, "output directory (run it again to resume)")->capture_default_str();
  cmd->add_option("--bootstrap", a->bootstrap, "bootstrap resamples (default 300; 1000 with --synthetic)");
  cmd->add_option("--threads", a->threads, "threads per run (default: from measured throughput)");
  cmd->add_option("--workers", a->workers, "parallel runs (default: from measured throughput)");
  cmd->add_option("--cache", a->cache, "tokenized corpora (default: ~/.cache/scalinglab)");
  cmd->add_option("--spec", a->spec, "a sweep spec (JSON, docs/SWEEP.md) instead of the built-in default");
  cmd->add_flag("--synthetic", a->synthetic,
                "only fit the bundled synthetic runs drawn from a published law (seconds, no training)");
  cmd->callback([a] {
    if (a->synthetic) run_synthetic_demo(*a);
    else run_sweep_demo(*a);
  });
}

}  // namespace scalinglab::cli
