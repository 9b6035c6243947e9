// `scalinglab bench monitor RUN_DIR…`: how well the monitor works on the project's own finished
// runs (bench/monitor_runs.sh trains them): healthy runs flagged, runs made 5% worse flagged in
// time, the final-loss estimate's error — the figures docs/MONITOR.md states.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/format.h"
#include "scalinglab/monitor/law_band.h"
#include "scalinglab/study/monitor_study.h"

namespace scalinglab::cli {
namespace {

struct BenchMonitorArgs {
  std::vector<std::string> dirs;
  study::StudyOptions study;
  double calibrate_fraction = 0.3;
  bool json = false;
};

double median(std::vector<double> v) { return v.empty() ? NAN : monitor::select_quantile(v, 0.5); }

void run_bench_monitor(BenchMonitorArgs& a) {
  namespace fs = std::filesystem;
  std::vector<std::string> dirs;
  for (const auto& d : a.dirs) {
    if (fs::exists(fs::path(d) / "metrics.jsonl")) {
      dirs.push_back(d);
      continue;
    }
    if (!fs::is_directory(d)) throw UsageError("bench monitor: " + d + " is neither a run directory nor a directory of runs");
    for (const auto& e : fs::directory_iterator(d))
      if (fs::exists(e.path() / "metrics.jsonl") && fs::exists(e.path() / "result.json")) dirs.push_back(e.path().string());
  }
  std::sort(dirs.begin(), dirs.end());
  if (dirs.empty()) throw UsageError("bench monitor: no finished runs (metrics.jsonl + result.json) under the given directories");
  std::vector<study::StudyRun> runs;
  for (const auto& d : dirs) runs.push_back(study::load_study_run(d));
  a.study.monitor.calibrate_fraction = a.calibrate_fraction;
  a.study.monitor.calibrate_points = 0;
  study::StudyResult r = study::run_study(runs, a.study);

  struct Group {
    int runs = 0, flagged = 0, cooldown = 0;
    std::vector<int> detected, trials, early;
    std::vector<std::vector<double>> err, cover;
  };
  std::map<std::string, Group> groups;
  const size_t no = a.study.onsets.size(), ne = a.study.estimate_at.size();
  for (const auto& o : r.runs)
    for (const std::string& key : {o.kind, std::string("all")}) {
      Group& g = groups[key];
      if (g.detected.empty()) g.detected.assign(no, 0), g.trials.assign(no, 0), g.early.assign(no, 0), g.err.resize(ne), g.cover.resize(ne);
      ++g.runs;
      g.flagged += o.flagged;
      g.cooldown += o.flagged_in_cooldown;
      for (size_t i = 0; i < no; ++i) {
        ++g.trials[i];
        g.detected[i] += o.detected[i] == 1;
        g.early[i] += o.detected[i] == -1;
      }
      for (size_t i = 0; i < ne; ++i)
        if (std::isfinite(o.estimate_error[i])) g.err[i].push_back(o.estimate_error[i]), g.cover[i].push_back(o.estimate_covered[i]);
    }
  if (a.json) {
    nlohmann::json j;
    j["schema"] = "scalinglab.bench-monitor/1";
    j["options"] = {{"calibrate_fraction", a.calibrate_fraction}, {"shift", a.study.shift}, {"within", a.study.within},
                    {"onsets", a.study.onsets}, {"estimate_at", a.study.estimate_at},
                    {"patience", a.study.monitor.patience}, {"level", a.study.monitor.level}};
    for (const auto& [k, g] : groups) {
      nlohmann::json e = {{"runs", g.runs}, {"healthy_flagged", g.flagged}, {"flagged_in_cooldown", g.cooldown}};
      for (size_t i = 0; i < no; ++i)
        e["detection"].push_back({{"onset", a.study.onsets[i]}, {"detected", g.detected[i]}, {"trials", g.trials[i]},
                                  {"flagged_before_onset", g.early[i]}});
      for (size_t i = 0; i < ne; ++i) {
        std::vector<double> ab;
        for (double x : g.err[i]) ab.push_back(std::fabs(x));
        double cov = 0;
        for (double c : g.cover[i]) cov += c;
        e["final_estimate"].push_back({{"at", a.study.estimate_at[i]}, {"runs", g.err[i].size()}, {"median_abs_error", median(ab)},
                                       {"max_abs_error", ab.empty() ? NAN : *std::max_element(ab.begin(), ab.end())},
                                       {"coverage", g.cover[i].empty() ? NAN : cov / g.cover[i].size()}});
      }
      j["groups"][k] = e;
    }
    for (const auto& o : r.runs)
      j["runs"].push_back({{"name", o.name}, {"kind", o.kind}, {"flagged", o.flagged}, {"flagged_in_cooldown", o.flagged_in_cooldown},
                           {"first_flag", o.first_flag}, {"detected", o.detected}, {"final_loss", o.final_loss},
                           {"estimate_error", o.estimate_error}});
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << "bench monitor: " << r.runs.size() << " runs, calibrated on the first " << fmt(100 * a.calibrate_fraction, 3)
            << "% of each, patience " << a.study.monitor.patience << ", " << fmt(100 * a.study.monitor.level, 3)
            << "% band; runs made " << fmt(100 * a.study.shift, 3) << "% worse from an onset on, caught within "
            << a.study.within << " evaluations\n";
  for (const auto& [k, g] : groups) {
    std::cout << "  " << pad(k, 7) << pad(std::to_string(g.runs) + " runs", 9) << "healthy flagged " << g.flagged << " ("
              << fmt(100.0 * g.flagged / g.runs, 3) << "%), in the cooldown " << g.cooldown << "; detected:";
    for (size_t i = 0; i < no; ++i)
      std::cout << " @" << fmt(100 * a.study.onsets[i], 3) << "% " << g.detected[i] << "/" << g.trials[i]
                << (g.early[i] ? " (" + std::to_string(g.early[i]) + " early)" : "");
    std::cout << "\n" << std::string(18, ' ') << "final loss estimated at";
    for (size_t i = 0; i < ne; ++i) {
      std::vector<double> ab;
      for (double x : g.err[i]) ab.push_back(std::fabs(x));
      double cov = 0;
      for (double c : g.cover[i]) cov += c;
      std::cout << " " << fmt(100 * a.study.estimate_at[i], 3) << "%: median |err| " << fmt(100 * median(ab), 2) << "%, max "
                << fmt(ab.empty() ? NAN : 100 * *std::max_element(ab.begin(), ab.end()), 2) << "%, covered "
                << fmt(g.cover[i].empty() ? NAN : 100 * cov / g.cover[i].size(), 3) << "%;";
    }
    std::cout << "\n";
  }
  for (const auto& o : r.runs)
    if (o.flagged) std::cout << "  flagged healthy run " << o.name << ": " << o.first_flag << "\n";
}

}  // namespace

void register_bench_monitor(CLI::App& bench) {
  auto a = std::make_shared<BenchMonitorArgs>();
  CLI::App* c = bench.add_subcommand("monitor", "Measure the monitor on finished runs: false alarms, detection, final-loss error");
  c->add_option("dirs", a->dirs, "run directories, or directories of runs (bench/monitor_runs.sh)")->required();
  c->add_option("--calibrate-fraction", a->calibrate_fraction, "calibration window (default 0.3)")->check(CLI::Range(0.05, 0.95));
  c->add_option("--shift", a->study.shift, "how much worse a broken run gets (default 0.05)")->check(CLI::Range(0.0, 1.0));
  c->add_option("--within", a->study.within, "evaluations from the onset to be caught in (default 3)")->check(CLI::PositiveNumber);
  c->add_option("--onsets", a->study.onsets, "fractions of the run where the shift starts (default 0.4 0.5 0.6 0.7)");
  c->add_option("--patience", a->study.monitor.patience, "monitor patience (default 3)")->check(CLI::PositiveNumber);
  c->add_option("--level", a->study.monitor.level, "band coverage (default 0.95)")->check(CLI::Range(0.5, 0.9999));
  c->add_flag("--flag-below", a->study.monitor.flag_below, "count runs below the band as flagged too");
  c->add_option("--anneal-drop", a->study.monitor.curve.prior.drop, "prior mean of the reference-anneal drop");
  c->add_option("--anneal-drop-sd", a->study.monitor.curve.prior.drop_sd, "prior sd");
  c->add_option("--threads", a->study.threads, "threads (default: all cores)");
  c->add_flag("--json", a->json, "print JSON");
  c->callback([a] { run_bench_monitor(*a); });
}

}  // namespace scalinglab::cli
