#pragma once
// The finished runs of one sweep in a run store, as every fit of that sweep sees them: final
// losses (N total, D, C = 6ND, final validation loss), their training curves, and the runs table
// (`runs.csv`) written beside a sweep's summary. `scalinglab fit STORE.db`, the sweep analysis and
// the demo all read a store through this file, so they fit the same runs.
#include <string>
#include <vector>

#include "scalinglab/fit/dataset.h"
#include "scalinglab/fit/envelope.h"
#include "scalinglab/io/table.h"
#include "scalinglab/store/run_store.h"

namespace scalinglab::analysis {

struct StoreRuns {
  std::string store_path;
  store::SweepRecord sweep;
  store::StatusCounts counts;
  std::vector<std::string> keys;           // finished runs with a final loss, parallel to final_losses.runs
  fit::Dataset final_losses;               // N total, D, C = 6ND, final validation loss; line = store run id
  std::vector<fit::TrainingCurve> curves;  // validation loss as each run progressed, parallel to keys
};

// True when the file starts with SQLite's 16-byte header ("SQLite format 3\0") or is named
// *.db / *.sqlite: a run store, or a file load_store_runs rejects with a one-line io::InputError
// (another SQLite database, a truncated store). False for a table such as runs.csv.
bool is_store_path(const std::string& path);

// Opens the store read-only (works while a sweep writes it). `sweep_name` empty: the store's only
// sweep. Throws io::InputError for a file that is not a store, std::invalid_argument naming the
// field `sweep` for a missing or ambiguous sweep. Runs without a final loss are left out.
StoreRuns load_store_runs(const std::string& store_path, const std::string& sweep_name = "");
// The same from a store already open (`store_path` names it in messages).
StoreRuns load_store_runs(const store::RunStore& st, const std::string& store_path, const std::string& sweep_name);

// The runs table: header `key,N,D,C,loss`, one row per finished run in store order, numbers with
// 17 significant digits so that reading it back gives the same doubles (and `fit runs.csv` the
// same fit as `fit STORE.db`). Keys are quoted as RFC 4180 asks when they hold a comma or quote.
std::string runs_csv(const std::vector<std::string>& keys, const fit::Dataset& final_losses);

// runs_csv parsed as a table with `source` as its name: what `scalinglab fit STORE.db` reads, so
// the CLI's column options and filters apply to a store exactly as to a runs.csv.
io::Table runs_table(const StoreRuns& runs, const std::string& source);

}  // namespace scalinglab::analysis
