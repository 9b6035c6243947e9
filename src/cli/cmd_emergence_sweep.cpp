// Placeholder: replaced by the emergence sweep subcommands.
#include "cli/commands.h"

namespace scalinglab::cli {
void register_emergence_sweep(CLI::App& emergence) { (void)emergence; }
}  // namespace scalinglab::cli
