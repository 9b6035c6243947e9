#pragma once
// The emergence section of `scalinglab report STORE`: for a sweep whose spec has an `emergence`
// block, its long results table (results_export.h: finished runs only) analysed with the given
// AnalyzeOptions (default: seeded bootstrap, results independent of the thread count, so the same
// store gives the same page) and rendered by analysis_html.h — each metric against compute with its
// fit and emergence point, discrete and continuous side by side, and the verdict tables.
//
// It lives in emergence/, not in report/, because the section is drawn with report's primitives
// (svg_plot.h, html_report.h): emergence depends on report, never the reverse, and the CLI puts
// the two together (report_from_store, then add_emergence_report).
#include <string>

#include "scalinglab/emergence/analysis_html.h"
#include "scalinglab/emergence/analyze.h"
#include "scalinglab/report/report_data.h"

namespace scalinglab::emergence {

enum class EmergenceReport {
  kNotEmergence,  // a plain sweep: `data` untouched
  kSection,       // the section was appended to data.sections (id "sec-emergence")
  kNote,          // no finished run has scores yet, or no curve has enough model sizes: one note instead
};

// Adds the emergence analysis of the sweep `sweep_name` (empty: the store's only sweep) to `data`.
// Reads only: works on a store opened read-only while the sweep writes it. Throws io::InputError
// when the file is not a store, std::invalid_argument ("sweep: ...") when the sweep is missing or
// ambiguous, and what validate(options) throws for bad options.
EmergenceReport add_emergence_report(report::ReportData& data, const std::string& store_path, const std::string& sweep_name,
                                     const AnalyzeOptions& options = {}, const HtmlOptions& html = {});

}  // namespace scalinglab::emergence
