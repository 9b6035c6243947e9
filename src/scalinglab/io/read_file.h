#pragma once
// Whole-file reads with the project's error style (io::InputError naming the file).
#include <string>

namespace scalinglab::io {

// `what` names the kind of file in the message, e.g. "corpus file" → "cannot read corpus file (…)".
std::string read_file(const std::string& path, const std::string& what = "file");

}  // namespace scalinglab::io
