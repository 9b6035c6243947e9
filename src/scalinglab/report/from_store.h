#pragma once
// A sweep's report straight from its store (through analysis::analyze_store). Opens the store read-only, so it works while the sweep is still writing.
#include <string>
#include <vector>

#include "scalinglab/analysis/sweep_analysis.h"
#include "scalinglab/report/report_data.h"

namespace scalinglab::report {

struct StoreReportOptions {
  std::string sweep;         // name; empty: the store's only sweep
  int bootstrap = 300;
  int threads = 0;
  std::vector<double> plan_budgets;  // planner rows; empty: 10x, 100x and 1000x the largest run
};

// The report of an analysed sweep: curves, approaches 1–3 side by side, Kaplan's forms, the
// held-out prediction.
ReportData report_from_analysis(const analysis::SweepAnalysis& analysis);

// Throws io::InputError for a file that is not a store, std::invalid_argument for a missing sweep.
ReportData report_from_store(const std::string& store_path, const StoreReportOptions& options = {});

}  // namespace scalinglab::report
