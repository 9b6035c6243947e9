#pragma once
// Training runs as the fitting engine sees them: one row per run with parameters N, tokens D,
// compute C and the final loss, read from a table with user-chosen column names.
#include <optional>
#include <string>
#include <vector>

#include "scalinglab/io/input_error.h"
#include "scalinglab/io/table.h"

namespace scalinglab::fit {

struct Run {
  double n = 0;     // parameters
  double d = 0;     // training tokens
  double c = 0;     // training compute, FLOPs
  double x = 0;     // free variable for the generic `power` law
  double loss = 0;  // final loss (nats/token or any positive metric)
  long line = 0;    // source line, for messages
  double u = 0;     // unique tokens (0: not given); D/U is the number of epochs
  double budget = 0;  // nominal compute budget of an IsoFLOP run (0: not given), groups approach 2
};

// Which table columns hold N, D, C, loss and x. An empty name means "use the default names"
// (N, D, C, loss and common aliases) and tolerate absence; a name the user gave must exist.
// Unique tokens U come from a U column or from an epochs column (U = D/epochs).
struct ColumnSpec {
  std::string n, d, c, loss, x;
  std::string u, epochs;
  std::string budget;  // nominal IsoFLOP budget (default: budget, flops_budget, compute_budget, isoflop, ...)
};

struct RunFilters {
  int exclude_top_loss = 0;  // drop the K highest losses (Besiroglu et al. 2024 drop 5)
  std::optional<double> min_n, max_n, min_c, max_c;
};

struct Dataset {
  std::string source;
  std::vector<Run> runs;
  bool has_n = false, has_d = false, has_c = false, has_x = false, has_u = false, has_budget = false;
  // 'N', 'D' or 'C' when that variable was not in the table but derived from the other two by
  // C = 6ND; 0 when none was.
  char derived = 0;
  std::string x_name = "x";
  // A column found under a default name (not given by a flag) whose values are unusable: the
  // error is raised only when a law needs that variable (see make_problem).
  std::optional<io::InputError> x_error, u_error, budget_error;
};

// Reads runs from a table: checks every value (positive finite N, D, C; finite positive loss;
// 0 < U <= D), derives D = C/(6N) or C = 6ND when one is missing and U = D/epochs from an epochs
// column, then applies filters. Throws io::InputError.
Dataset load_runs(const io::Table& table, const ColumnSpec& columns, const RunFilters& filters = {});

// Names that count as the default column for each variable (first match wins); variable is
// 'N', 'D', 'C', 'L' (loss), 'x', 'U' (unique tokens), 'R' (epochs) or 'B' (nominal budget).
// Matching is case-insensitive (io::Table::find).
const std::vector<std::string>& default_names(char variable);

}  // namespace scalinglab::fit
