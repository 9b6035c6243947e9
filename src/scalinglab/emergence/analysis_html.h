#pragma once
// The emergence analysis as HTML in the house style of the scaling-law report (report/): per
// curve group, the discrete metrics against scale with their logistic fits, p^L predictions and
// emergence points beside the continuous ones (as their loss-like quantity q on a log axis, with
// the power-law fit), then the verdict tables, the forecasts and the two-step forecasts. Every
// user-supplied string is HTML-escaped.
//
// Ids: sec-emergence, emergence-verdicts, emergence-curves, emergence-forecasts,
// emergence-two-step, and plots emergence-plot-<k>-discrete / -continuous for group k.
#include <string>

#include "scalinglab/emergence/analyze.h"

namespace scalinglab::emergence {

struct HtmlOptions {
  int max_groups = 24;  // plots for the first groups only (tables list every curve); a note says so
};

// One <section id="sec-emergence">, to be placed in a report page (report::ReportData::sections).
std::string render_emergence_section(const AnalysisResult& result, const HtmlOptions& options = {});

// A self-contained page (report::render_html with this one section).
std::string render_emergence_page(const AnalysisResult& result, const HtmlOptions& options = {});

// render_emergence_page() written atomically to `path` ("-": standard output). Throws
// std::runtime_error.
void write_emergence_html(const AnalysisResult& result, const std::string& path, const HtmlOptions& options = {});

}  // namespace scalinglab::emergence
