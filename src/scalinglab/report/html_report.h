#pragma once
// The scaling-law report as one self-contained HTML page: inline SVG plots (report/svg_plot.h),
// inline CSS and a small inline script for hover tooltips. A Content-Security-Policy forbids
// every network load, so the page renders the same offline, in a mail attachment or an archive.
//
// Sections (each omitted when its data is empty), with stable ids for tests and links:
//   sec-warnings, sec-runs (plot-loss-tokens, plot-loss-flops), sec-isoflop (plot-isoflop),
//   sec-frontier (plot-n-opt, plot-d-opt), sec-holdout (plot-holdout), sec-residuals
//   (plot-residuals), sec-params, sec-planner, the extra ReportData::sections, sec-notes.
#include <string>

#include "scalinglab/report/report_data.h"

namespace scalinglab::report {

// The whole page. Every user-supplied string is HTML-escaped.
std::string render_html(const ReportData& data);

// render_html() written atomically to `path` ("-": standard output). Throws std::runtime_error.
void write_report(const ReportData& data, const std::string& path);

}  // namespace scalinglab::report
