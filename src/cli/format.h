#pragma once
// Small text helpers for terminal tables.
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "scalinglab/fit/estimate.h"
#include "scalinglab/sweep/rollout_backtest.h"

namespace scalinglab::cli {

// Magnitudes at or beyond fit::kUnboundedMagnitude (and ±inf) print as "unbounded", never as 1.79e+308.
inline std::string fmt(double v, int precision = 4) {
  if (fit::is_unbounded(v)) return v > 0 ? "unbounded" : "-unbounded";
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
  auto usable = [](double v) { return std::isfinite(v) || fit::is_unbounded(v); };
  if (!usable(e.lo) || !usable(e.hi)) return "-";
  return "[" + fmt(e.lo) + ", " + fmt(e.hi) + "]";
}

// The identification column of a table: "yes", "fixed", or "weak [k]" / "no [k]" with the reason
// and remedy collected as footnote k, printed below the table by print().
class IdentNotes {
 public:
  std::string cell(const std::string& name, const fit::Estimate& e) {
    const auto v = e.ident.verdict;
    if (v == fit::Identified::kYes || v == fit::Identified::kFixed) return fit::to_string(v);
    notes_.push_back(name + ": " + e.ident.reason + (e.ident.remedy.empty() ? "" : "; would be determined by " + e.ident.remedy));
    return std::string(fit::to_string(v)) + " [" + std::to_string(notes_.size()) + "]";
  }
  void print(std::ostream& out) const {
    for (size_t i = 0; i < notes_.size(); ++i) out << "  [" << i + 1 << "] " << notes_[i] << "\n";
  }
  bool empty() const { return notes_.empty(); }

 private:
  std::vector<std::string> notes_;
};

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
