// scalinglab: the thin command line over the library. Each subcommand lives in its own file
// (cmd_<name>.cpp) and registers itself here; all real work happens in src/scalinglab/.
#include <unistd.h>

#include <cstdlib>
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "scalinglab/io/input_error.h"
#include "scalinglab/util/printable.h"

int main(int argc, char** argv) {
  // Idle OpenMP threads sleep instead of spinning unless the user says otherwise: a spinning
  // thread that shares its core with another process (a second sweep worker, a build) stalls every
  // barrier of the training step, several times slower than sleeping (measured in docs/PERFORMANCE.md).
  // libgomp reads it when the library loads, before main, so the process re-executes itself once
  // with it set (same pid; if exec fails, it simply goes on spinning).
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);
  }
  CLI::App app{"scalinglab: neural scaling laws of language models — train pilots, fit laws, plan, report"};
  app.set_version_flag("--version", SCALINGLAB_VERSION);
  app.require_subcommand(1);
  // A flag given twice takes the last value, so scripts can append overrides.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  scalinglab::cli::register_all(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::cerr << "scalinglab: error: " << scalinglab::util::printable(e.what()) << " (see --help)\n";
    return 2;
  } catch (const scalinglab::io::InputError& e) {
    std::cerr << "scalinglab: error: " << scalinglab::util::printable(e.what()) << "\n";
    return 2;
  } catch (const scalinglab::cli::UsageError& e) {
    std::cerr << "scalinglab: error: " << scalinglab::util::printable(e.what()) << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "scalinglab: error: " << scalinglab::util::printable(e.what()) << "\n";
    return 1;
  }
  return scalinglab::cli::exit_code();
}
