#pragma once
// Writing CSV (RFC 4180): the one quoting rule and number format of every table the tool writes,
// chosen so that io::read_table reads the same cells and the same doubles back.
#include <string>

#include "scalinglab/io/table.h"

namespace scalinglab::io {

// The cell as is, or quoted (with inner quotes doubled) when it holds a comma, quote or newline.
std::string csv_field(const std::string& s);
// 17 significant digits ("%.17g"): reading it back gives the same double; inf, -inf and nan as
// printf writes them (read_table parses them).
std::string csv_number(double v);
// The table as CSV: the header line, then one line per row (cells quoted by csv_field). Throws
// std::invalid_argument when a row has another number of cells than there are columns, or a cell
// holds a line break (io::read_table reads one record per line, so it could not be read back).
std::string to_csv(const Table& table);

}  // namespace scalinglab::io
