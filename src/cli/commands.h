#pragma once
// Registration of the subcommands; each cmd_*.cpp defines one register_* function.
#include <CLI/CLI.hpp>
#include <ostream>
#include <stdexcept>

namespace scalinglab::emergence {
struct AnalysisResult;
}

namespace scalinglab::cli {

// A bad combination of flags or values that CLI11 itself cannot see; exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void register_fit(CLI::App& app);
void register_predict(CLI::App& app);
void register_synth(CLI::App& app);
void register_demo(CLI::App& app);
void register_bench(CLI::App& app);
void register_train(CLI::App& app);
void register_sweep(CLI::App& app);
void register_report(CLI::App& app);
void register_plan(CLI::App& app);
void register_monitor(CLI::App& app);
void register_emergence(CLI::App& app);
// Children of `emergence` (each in its own file).
void register_emergence_analyze(CLI::App& emergence);
void register_emergence_sweep(CLI::App& emergence);
// The analysis as the terminal table of `emergence analyze` (curves, verdicts, mirage tests,
// forecasts); also printed by `emergence demo`.
void print_emergence_analysis(const emergence::AnalysisResult& result, std::ostream& out);
// Child of `bench` (cmd_bench_emergence.cpp).
void register_bench_emergence(CLI::App& bench);
// Child of `bench` (cmd_bench_monitor.cpp).
void register_bench_monitor(CLI::App& bench);

inline void register_all(CLI::App& app) {
  register_fit(app);
  register_predict(app);
  register_synth(app);
  register_demo(app);
  register_train(app);
  register_sweep(app);
  register_report(app);
  register_plan(app);
  register_monitor(app);
  register_emergence(app);
  register_bench(app);
}

// Subcommands set a non-zero exit code for outcomes that are not errors of use (e.g. a warning
// promoted to failure); main returns it.
int& exit_code_ref();
inline int exit_code() { return exit_code_ref(); }

}  // namespace scalinglab::cli
