#pragma once
// A whole log read at once, as `scalinglab monitor` reads a finished file: records, the warnings
// for a cut last line, the format detected and the lines ignored — and the error text of a bad one.
#include <string>
#include <vector>

#include "scalinglab/io/input_error.h"
#include "scalinglab/monitor/log_reader.h"

namespace scalinglab::testing {

struct ReadLog {
  monitor::LogFormat format;
  std::vector<monitor::LogRecord> records;
  std::vector<std::string> warnings;
  monitor::IgnoredByReason ignored;
};

inline ReadLog read_log(const std::string& path, monitor::ParseOptions o = {}) {
  monitor::LogReader r(path, o);
  ReadLog out;
  out.records = r.read_all(out.warnings);
  out.format = r.format();
  out.ignored = r.ignored();
  return out;
}

// The one-line error reading `path` gives ("" when it reads).
inline std::string read_error(const std::string& path, monitor::ParseOptions o = {}) {
  try {
    read_log(path, o);
  } catch (const io::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace scalinglab::testing
