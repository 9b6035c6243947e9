#include "scalinglab/emergence/results_views.h"

#include <cstdio>
#include <string>

#include "scalinglab/io/input_error.h"

namespace scalinglab::emergence {
namespace {

size_t progress_column(const io::Table& t) {
  const auto p = t.find("progress");
  if (!p) throw io::InputError(t.source, 0, "progress", "missing: the view needs the sweep's results table (emergence export)");
  return *p;
}

// "0.1" for 0.10000000000000001: a readable model label (the exact value stays in `compute`).
std::string io_progress(const std::string& cell) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", std::stod(cell));
  return buf;
}

template <class F>
io::Table rebuilt(const io::Table& t, size_t drop, F&& keep_and_edit) {
  io::Table out;
  out.source = t.source;
  for (size_t c = 0; c < t.columns.size(); ++c)
    if (c != drop) out.columns.push_back(t.columns[c]);
  for (size_t r = 0; r < t.rows.size(); ++r) {
    std::vector<std::string> row;
    for (size_t c = 0; c < t.columns.size(); ++c)
      if (c != drop) row.push_back(t.rows[r][c]);
    if (!keep_and_edit(t.rows[r], row)) continue;
    out.rows.push_back(std::move(row));
    out.lines.push_back(r < t.lines.size() ? t.lines[r] : static_cast<long>(r + 2));
  }
  return out;
}

}  // namespace

io::Table family_view(const io::Table& results) {
  const size_t p = progress_column(results);
  return rebuilt(results, p, [p](const std::vector<std::string>& in, std::vector<std::string>&) {
    return std::stod(in[p]) == 1.0;
  });
}

io::Table training_view(const io::Table& results) {
  const size_t p = progress_column(results);
  const size_t m = results.require("model");
  io::Table out = rebuilt(results, p, [p, m](const std::vector<std::string>& in, std::vector<std::string>& row) {
    const size_t mo = m < p ? m : m - 1;  // the model column's index once progress is dropped
    row[mo] = in[m] + "@" + io_progress(in[p]);
    row.push_back(in[m]);
    return true;
  });
  out.columns.push_back("run");
  return out;
}

}  // namespace scalinglab::emergence
