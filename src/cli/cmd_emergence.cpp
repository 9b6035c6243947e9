// `scalinglab emergence …`: the emergence lab. The subcommands live in their own files:
//   analyze  (cmd_emergence_analyze.cpp)  published or exported result tables → curves, verdicts
//   run, demo, export (cmd_emergence_sweep.cpp)  train a family on tasks and score its checkpoints
#include "cli/commands.h"

namespace scalinglab::cli {

void register_emergence(CLI::App& app) {
  CLI::App* e = app.add_subcommand(
      "emergence", "Emergence lab: train a family on tasks, score checkpoints, tell a real jump from a metric artefact");
  e->require_subcommand(1);
  register_emergence_analyze(*e);
  register_emergence_sweep(*e);
}

}  // namespace scalinglab::cli
