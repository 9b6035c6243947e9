#pragma once
// The long results table of an emergence sweep (docs/EMERGENCE.md): one row per run × checkpoint ×
// task × metric, read from the run store's evaluations — what `scalinglab emergence export` writes
// and `scalinglab emergence analyze` reads. Columns, in this order:
//   model             the run's key
//   params            N, total parameters
//   compute           C = 6·N·D at the checkpoint (D = training tokens up to it)
//   task, metric, value
//   n_examples        eval examples behind the value
//   stderr            standard error of the value (empty when not known)
//   higher_is_better  1 or 0
//   answer_len        L, the task's target length in tokens
//   progress          the checkpoint's nominal fraction of its run (2^-k or 1: equal across runs)
//   step              optimizer steps behind the checkpoint (differs across runs at one progress)
// Numbers have 17 significant digits (io::csv_number), so the CSV reads back to the same doubles.
#include <cstdint>
#include <string>
#include <vector>

#include "scalinglab/io/table.h"
#include "scalinglab/store/run_store.h"

namespace scalinglab::emergence {

// The column names above.
const std::vector<std::string>& results_columns();

// The rows of the sweep's finished (done) runs, by run id, step, task and metric; the runs still
// queued or running, diverged or failed are left out (their scores are partial or absent).
// `source` names the table (io::Table::source). Reads only: works on a store opened read-only
// while a sweep writes it.
io::Table export_results(const store::RunStore& st, int64_t sweep_id, const std::string& source = "");

// The table as CSV (io::to_csv).
std::string results_csv(const io::Table& table);

}  // namespace scalinglab::emergence
