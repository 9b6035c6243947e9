#pragma once
// Small text helpers for terminal tables.
#include <cmath>
#include <cstdio>
#include <string>

#include "scalinglab/fit/estimate.h"

namespace scalinglab::cli {

inline std::string fmt(double v, int precision = 4) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  double a = std::fabs(v);
  if (a != 0 && (a >= 1e5 || a < 1e-3))
    std::snprintf(buf, sizeof buf, "%.*e", precision - 1, v);
  else
    std::snprintf(buf, sizeof buf, "%.*g", precision + 1, v);
  return buf;
}

inline std::string fmt_ci(const fit::Estimate& e) {
  if (!e.has_interval()) return "-";
  return "[" + fmt(e.lo) + ", " + fmt(e.hi) + "]";
}

inline std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

}  // namespace scalinglab::cli
