#pragma once
// Training runs as the fitting engine sees them: one row per run with parameters N, tokens D,
// compute C and the final loss, read from a table with user-chosen column names.
#include <optional>
#include <string>
#include <vector>

#include "scalinglab/io/table.h"

namespace scalinglab::fit {

struct Run {
  double n = 0;     // parameters
  double d = 0;     // training tokens
  double c = 0;     // training compute, FLOPs
  double x = 0;     // free variable for the generic `power` law
  double loss = 0;  // final loss (nats/token or any positive metric)
  long line = 0;    // source line, for messages
};

// Which table columns hold N, D, C, loss and x. An empty name means "use the default names"
// (N, D, C, loss and common aliases) and tolerate absence; a name the user gave must exist.
struct ColumnSpec {
  std::string n, d, c, loss, x;
};

struct RunFilters {
  int exclude_top_loss = 0;  // drop the K highest losses (Besiroglu et al. 2024 drop 5)
  std::optional<double> min_n, max_n, min_c, max_c;
};

struct Dataset {
  std::string source;
  std::vector<Run> runs;
  bool has_n = false, has_d = false, has_c = false, has_x = false;
  std::string x_name = "x";
};

// Reads runs from a table: checks every value (positive finite N, D, C; finite positive loss),
// derives D = C/(6N) or C = 6ND when one is missing, then applies filters. Throws io::InputError.
Dataset load_runs(const io::Table& table, const ColumnSpec& columns, const RunFilters& filters = {});

// Names that count as the default column for each variable (first match wins).
const std::vector<std::string>& default_names(char variable);

}  // namespace scalinglab::fit
