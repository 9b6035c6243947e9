#pragma once
// A sweep's report straight from its store: training curves of every finished run, and the fits
// (Chinchilla approach 3 with bootstrap intervals, approach 2 on IsoFLOP budgets) of their final
// losses. Opens the store read-only, so it works while the sweep is still writing.
#include <string>
#include <vector>

#include "scalinglab/report/report_data.h"

namespace scalinglab::report {

struct StoreReportOptions {
  std::string sweep;         // name; empty: the store's only sweep
  int bootstrap = 300;
  int threads = 0;
  std::vector<double> plan_budgets;  // planner rows; empty: 10x, 100x and 1000x the largest run
};

// Throws io::InputError for a file that is not a store, std::invalid_argument for a missing sweep.
ReportData report_from_store(const std::string& store_path, const StoreReportOptions& options = {});

}  // namespace scalinglab::report
