#include "scalinglab/emergence/report_section.h"

#include <set>

#include "scalinglab/emergence/results_export.h"
#include "scalinglab/store/run_store.h"

namespace scalinglab::emergence {

EmergenceReport add_emergence_report(report::ReportData& data, const std::string& store_path, const std::string& sweep_name,
                                     const AnalyzeOptions& options, const HtmlOptions& html) {
  validate(options);
  const store::RunStore st = store::RunStore::open(store_path, {store::OpenMode::kReadOnly});
  const store::SweepRecord sw = store::select_sweep(st, sweep_name);
  if (!is_emergence_sweep(sw)) return EmergenceReport::kNotEmergence;
  const io::Table table = export_results(st, sw.id);
  if (table.rows.empty()) {
    data.notes.push_back("emergence sweep: no finished run has task scores yet, so there is no emergence analysis");
    return EmergenceReport::kNote;
  }
  const AnalysisResult result = analyze_table(table, options);
  if (result.curves.empty()) {
    // The analysis notes one line per skipped curve; one line says the same here.
    std::set<std::string> models;
    const size_t col = *table.find("model");
    for (const auto& row : table.rows) models.insert(row[col]);
    data.notes.push_back("emergence sweep: " + std::to_string(models.size()) +
                         " finished run(s) have task scores, but no curve can be analysed yet (" +
                         (result.notes.empty() ? std::string("no curves") : "first: " + result.notes.front()) + ")");
    return EmergenceReport::kNote;
  }
  data.sections.push_back({"sec-emergence", "Emergence", render_emergence_section(result, html)});
  return EmergenceReport::kSection;
}

}  // namespace scalinglab::emergence
