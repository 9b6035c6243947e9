#pragma once
// Small text helpers for terminal tables.
#include <cmath>
#include <cstdio>
#include <string>

#include "scalinglab/fit/estimate.h"
#include "scalinglab/sweep/rollout_backtest.h"

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

// The rollout backtest behind a headline, one line per candidate, the chosen one marked.
inline std::string backtest_text(const sweep::Backtest& b, const std::string& indent) {
  std::string o = indent + "backtest (" + std::to_string(b.rollouts.size()) + " rollout" + (b.rollouts.size() == 1 ? "" : "s") +
                  " on " + std::to_string(b.budgets) + " budgets" + (b.note.empty() ? "" : "; " + b.note) + "):\n";
  for (const auto& l : b.by_law) {
    o += indent + "  " + (l.law == b.chosen ? "* " : "  ") + pad(l.law, 34);
    o += l.failure.empty() ? "mean |error| " + fmt(100 * l.mean_abs_rel_error, 3) + "%, mean error " +
                                 fmt(100 * l.mean_rel_error, 3) + "%"
                           : "no score: " + l.failure;
    o += "\n";
  }
  return o;
}

}  // namespace scalinglab::cli
