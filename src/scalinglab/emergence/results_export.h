#pragma once
// The long results table of an emergence sweep (docs/EMERGENCE.md), exported from the run store's
// evaluations: one row per run × checkpoint × task × metric — what `scalinglab emergence export`
// (and `emergence run` or `sweep run` of an emergence spec, as <out>/results.csv) writes and `scalinglab emergence analyze` reads
// (emergence/results_table.h). Columns, in this order:
//   model             the run's key
//   params            N, total parameters
//   compute           C = 6·N·D at the checkpoint (D = training tokens up to it)
//   task, metric, value
//   n_examples        eval examples behind the value
//   stderr            standard error of the value
//   ci_lo, ci_hi      its 95% interval (PassUntil's own; else value ± 1.96·stderr)
//   higher_is_better  1 or 0
//   answer_len        L, the task's target length in tokens
//   progress          the checkpoint's nominal fraction of its run (2^-k or 1: equal across runs)
//   step              only with ExportOptions::with_step: optimizer steps behind the checkpoint
// Every column but model, scale, value and their errors is part of a curve's identity for the
// reader, so a curve is one task × metric × progress across model sizes; `step` differs between
// sizes at one progress and would cut every such curve into single points, hence it is optional.
// Non-finite errors are written as empty cells, numbers with 17 significant digits
// (io::csv_number), so the CSV reads back to the same doubles.
#include <cstdint>
#include <string>
#include <vector>

#include "scalinglab/io/table.h"
#include "scalinglab/store/run_store.h"

namespace scalinglab::emergence {

struct ExportOptions {
  bool with_step = false;  // add the `step` column (a per-run table; not for `analyze` by compute)
};

// The column names above.
std::vector<std::string> results_columns(const ExportOptions& options = {});

// The rows of the sweep's finished (done) runs, by run id, step, task and metric; the runs still
// queued or running, diverged or failed are left out (their scores are partial or absent).
// `source` names the table (io::Table::source; default: the store's path). Reads only: works on a
// store opened read-only while a sweep writes it.
io::Table export_results(const store::RunStore& st, int64_t sweep_id, const ExportOptions& options = {},
                         const std::string& source = "");

// The table as CSV (io::to_csv).
std::string results_csv(const io::Table& table);

// Whether a stored sweep is an emergence sweep: its spec has an `emergence` block.
bool is_emergence_sweep(const store::SweepRecord& sweep);

// The table of the sweep `sweep_name` (empty: the store's only sweep) written atomically to
// `csv_path` ("-": standard output); returns its number of rows (0: the header alone, no finished
// run has scores yet). This is <out>/results.csv of `emergence run` and of `sweep run` / `sweep
// resume` of an emergence spec, and `emergence export`. Opens the store read-only. Throws
// io::InputError when the file is not a store, std::invalid_argument ("sweep: ...", from
// store::select_sweep) when the sweep is missing or ambiguous, std::runtime_error when the file
// cannot be written.
size_t write_results_csv(const std::string& store_path, const std::string& sweep_name, const std::string& csv_path,
                         const ExportOptions& options = {});

}  // namespace scalinglab::emergence
