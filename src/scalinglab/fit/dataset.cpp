#include "scalinglab/fit/dataset.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "scalinglab/io/input_error.h"

namespace scalinglab::fit {

const std::vector<std::string>& default_names(char variable) {
  static const std::vector<std::string> n{"N", "params", "n_params", "num_params", "parameters", "Model Size"};
  static const std::vector<std::string> d{"D", "tokens", "n_tokens", "num_tokens", "training_tokens"};
  static const std::vector<std::string> c{"C", "flops", "compute", "Training FLOP", "training_flops"};
  static const std::vector<std::string> loss{"loss", "final_loss", "eval_loss", "val_loss", "L"};
  // x: the free variable of `power`, `inference` and the broken laws (test-time compute for the
  // inference-scaling law: samples per problem, thinking tokens). A column named plain "x" is used
  // only when given by --col-x: tables extracted from plots call pixel coordinates x (Epoch's
  // svg_extracted_data.csv has x and y).
  static const std::vector<std::string> x{"samples", "test_compute", "thinking_tokens"};
  static const std::vector<std::string> u{"U", "unique_tokens", "unique", "U_D"};
  static const std::vector<std::string> epochs{"epochs", "num_epochs", "n_epochs"};
  // The nominal budget of an IsoFLOP run: grouping by it is exact, where grouping by a logged or
  // derived C is not (C = 6ND of runs whose FLOPs are not 6ND varies within a budget).
  static const std::vector<std::string> budget{"budget", "flops_budget", "compute_budget", "isoflop", "C_budget",
                                               "budget_flops"};
  switch (variable) {
    case 'N': return n;
    case 'D': return d;
    case 'C': return c;
    case 'L': return loss;
    case 'U': return u;
    case 'R': return epochs;
    case 'B': return budget;
    default: return x;
  }
}

namespace {

// Resolves a column: an explicit name must exist; otherwise the first default alias present.
std::optional<size_t> resolve(const io::Table& t, const std::string& explicit_name, char variable,
                              const char* flag) {
  if (!explicit_name.empty()) return t.require(explicit_name, std::string("given by ") + flag);
  for (const auto& alias : default_names(variable))
    if (auto i = t.find(alias)) return i;
  return std::nullopt;
}

std::string short_number(double v) {
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

void check_positive(const io::Table& t, size_t col, const std::vector<double>& v, const char* what) {
  for (size_t r = 0; r < v.size(); ++r) {
    if (!std::isfinite(v[r]) || v[r] <= 0)
      throw io::InputError(t.source, t.lines[r], t.columns[col],
                           std::string("expected a positive finite ") + what + ", got " + t.rows[r][col]);
  }
}

// U per row from a U column (0 < U <= D) or an epochs column (U = D/epochs, epochs >= 1).
std::vector<double> unique_tokens(const io::Table& t, std::optional<size_t> u_col, std::optional<size_t> epochs_col,
                                  const std::vector<double>* d) {
  const size_t col = u_col ? *u_col : *epochs_col;
  if (!d)
    throw io::InputError(t.source, 0, t.columns[col],
                         "unique tokens need the total tokens D too (a D column, or two of N, D, C)");
  std::vector<double> v = t.numeric(col);
  check_positive(t, col, v, u_col ? "unique token count U" : "number of epochs");
  for (size_t r = 0; r < v.size(); ++r) {
    if (epochs_col) {
      if (v[r] < 1 - 1e-9)
        throw io::InputError(t.source, t.lines[r], t.columns[col],
                             "expected a number of epochs >= 1 (D/U), got " + t.rows[r][col]);
      v[r] = (*d)[r] / v[r];
    } else if (v[r] > (*d)[r] * (1 + 1e-9)) {
      throw io::InputError(t.source, t.lines[r], t.columns[col],
                           "expected unique tokens U <= total tokens D (" + short_number((*d)[r]) + "), got " +
                               t.rows[r][col]);
    }
    v[r] = std::min(v[r], (*d)[r]);  // rounding in the file must not make U exceed D
  }
  return v;
}

}  // namespace

Dataset load_runs(const io::Table& t, const ColumnSpec& spec, const RunFilters& filters) {
  Dataset ds;
  ds.source = t.source;
  auto loss_col = resolve(t, spec.loss, 'L', "--col-loss");
  if (!loss_col) t.require("loss", "the loss column; choose another with --col-loss");
  auto n_col = resolve(t, spec.n, 'N', "--col-n");
  auto d_col = resolve(t, spec.d, 'D', "--col-d");
  auto c_col = resolve(t, spec.c, 'C', "--col-c");
  auto x_col = resolve(t, spec.x, 'x', "--col-x");
  auto budget_col = resolve(t, spec.budget, 'B', "--col-budget");
  // Unique tokens: an explicit --col-u wins, then an explicit --col-epochs, then the default names.
  std::optional<size_t> u_col, epochs_col;
  if (!spec.u.empty() && !spec.epochs.empty())
    throw io::InputError(t.source, 0, spec.u, "give unique tokens with --col-u or --col-epochs, not both");
  if (!spec.epochs.empty()) {
    epochs_col = t.require(spec.epochs, "given by --col-epochs");
  } else {
    u_col = resolve(t, spec.u, 'U', "--col-u");
    if (!u_col) epochs_col = resolve(t, "", 'R', "--col-epochs");
  }
  // Columns found under a default name (x, U, epochs) may mean something else in a table that
  // does not use them (SVG coordinates named x): their errors surface only when a law needs them.
  const bool x_explicit = !spec.x.empty(), u_explicit = !spec.u.empty() || !spec.epochs.empty();

  const size_t rows = t.rows.size();
  std::vector<double> loss = t.numeric(*loss_col);
  for (size_t r = 0; r < rows; ++r)
    if (!std::isfinite(loss[r]) || loss[r] <= 0)
      throw io::InputError(t.source, t.lines[r], t.columns[*loss_col],
                           "expected a positive finite loss, got " + t.rows[r][*loss_col]);
  std::vector<double> n(rows, 0), d(rows, 0), c(rows, 0), x(rows, 0);
  if (n_col) { n = t.numeric(*n_col); check_positive(t, *n_col, n, "parameter count N"); }
  if (d_col) { d = t.numeric(*d_col); check_positive(t, *d_col, d, "token count D"); }
  if (c_col) { c = t.numeric(*c_col); check_positive(t, *c_col, c, "compute C"); }
  std::vector<double> u(rows, 0), budget(rows, 0);
  if (budget_col) {
    try {
      budget = t.numeric(*budget_col);
      check_positive(t, *budget_col, budget, "nominal compute budget (FLOPs)");
      ds.has_budget = true;
    } catch (const io::InputError& e) {
      if (!spec.budget.empty()) throw;
      ds.budget_error = e;  // raised only by approach 2, the one user of budgets
      budget.assign(rows, 0);
    }
  }
  if (x_col) {
    try {
      x = t.numeric(*x_col);
      check_positive(t, *x_col, x, "value");
      ds.has_x = true;
      ds.x_name = t.columns[*x_col];
    } catch (const io::InputError& e) {
      if (x_explicit) throw;
      ds.x_error = e;
      x.assign(rows, 0);
    }
  }

  ds.has_n = n_col.has_value();
  ds.has_d = d_col.has_value();
  ds.has_c = c_col.has_value();
  // C ≈ 6ND (Kaplan et al. 2020 §2.1; Hoffmann et al. 2022 eq. 4) links the three when one is missing.
  if (ds.has_n && ds.has_c && !ds.has_d) {
    for (size_t r = 0; r < rows; ++r) d[r] = c[r] / (6.0 * n[r]);
    ds.has_d = true;
    ds.derived = 'D';
  } else if (ds.has_n && ds.has_d && !ds.has_c) {
    for (size_t r = 0; r < rows; ++r) c[r] = 6.0 * n[r] * d[r];
    ds.has_c = true;
    ds.derived = 'C';
  } else if (ds.has_d && ds.has_c && !ds.has_n) {
    for (size_t r = 0; r < rows; ++r) n[r] = c[r] / (6.0 * d[r]);
    ds.has_n = true;
    ds.derived = 'N';
  }
  // Unique tokens (Muennighoff et al. 2023): a run sees its U unique tokens D/U >= 1 times.
  if (u_col || epochs_col) {
    try {
      u = unique_tokens(t, u_col, epochs_col, ds.has_d ? &d : nullptr);
      ds.has_u = true;
    } catch (const io::InputError& e) {
      if (u_explicit) throw;
      ds.u_error = e;
      u.assign(rows, 0);
    }
  }

  for (size_t r = 0; r < rows; ++r) {
    Run run{n[r], d[r], c[r], x[r], loss[r], t.lines[r], u[r], budget[r]};
    if (filters.min_n && ds.has_n && run.n < *filters.min_n) continue;
    if (filters.max_n && ds.has_n && run.n > *filters.max_n) continue;
    if (filters.min_c && ds.has_c && run.c < *filters.min_c) continue;
    if (filters.max_c && ds.has_c && run.c > *filters.max_c) continue;
    ds.runs.push_back(run);
  }
  if (filters.exclude_top_loss > 0) {
    auto k = std::min<size_t>(static_cast<size_t>(filters.exclude_top_loss), ds.runs.size());
    std::stable_sort(ds.runs.begin(), ds.runs.end(), [](const Run& a, const Run& b) { return a.loss > b.loss; });
    ds.runs.erase(ds.runs.begin(), ds.runs.begin() + static_cast<long>(k));
    std::stable_sort(ds.runs.begin(), ds.runs.end(), [](const Run& a, const Run& b) { return a.line < b.line; });
  }
  return ds;
}

}  // namespace scalinglab::fit
