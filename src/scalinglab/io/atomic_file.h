#pragma once
// Outputs are never half-written: write to "<path>.tmp.<pid>" then rename over the target.
#include <string>

namespace scalinglab::io {

// Writes `contents` to `path` atomically; "-" means standard output. Throws std::runtime_error.
void write_file_atomic(const std::string& path, const std::string& contents);

}  // namespace scalinglab::io
