// Placeholder: replaced by the emergence analyze subcommands.
#include "cli/commands.h"

namespace scalinglab::cli {
void register_emergence_analyze(CLI::App& emergence) { (void)emergence; }
}  // namespace scalinglab::cli
