#include "scalinglab/io/csv_write.h"

#include <cstdio>
#include <stdexcept>

namespace scalinglab::io {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

std::string csv_number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string to_csv(const Table& t) {
  std::string out;
  auto line = [&out](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (cells[i].find_first_of("\n\r") != std::string::npos)
        throw std::invalid_argument("to_csv: the cell \"" + cells[i].substr(0, cells[i].find_first_of("\n\r")) +
                                    "...\" holds a line break, which a CSV reader of one record per line cannot read back");
      out += (i ? "," : "") + csv_field(cells[i]);
    }
    out += "\n";
  };
  line(t.columns);
  for (size_t r = 0; r < t.rows.size(); ++r) {
    if (t.rows[r].size() != t.columns.size())
      throw std::invalid_argument("to_csv: row " + std::to_string(r + 1) + " has " + std::to_string(t.rows[r].size()) +
                                  " cells for " + std::to_string(t.columns.size()) + " columns");
    line(t.rows[r]);
  }
  return out;
}

}  // namespace scalinglab::io
