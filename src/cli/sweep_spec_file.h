#pragma once
// Reading a sweep spec file, shared by `sweep` and `demo --spec`.
#include <string>

#include "scalinglab/sweep/sweep_spec.h"

namespace scalinglab::cli {

// Throws io::InputError naming the file for unreadable or invalid JSON and for an inconsistent spec.
sweep::SweepSpec load_sweep_spec(const std::string& path);

}  // namespace scalinglab::cli
