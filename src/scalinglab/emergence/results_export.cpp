#include "scalinglab/emergence/results_export.h"

#include <cmath>
#include <map>

#include "scalinglab/io/atomic_file.h"
#include "scalinglab/io/csv_write.h"

namespace scalinglab::emergence {

std::vector<std::string> results_columns(const ExportOptions& options) {
  std::vector<std::string> c{"model",  "params", "compute", "task",  "metric",           "value",      "n_examples",
                             "stderr", "ci_lo",  "ci_hi",   "higher_is_better", "answer_len", "progress"};
  if (options.with_step) c.push_back("step");
  return c;
}

io::Table export_results(const store::RunStore& st, int64_t sweep_id, const ExportOptions& options,
                         const std::string& source) {
  io::Table t;
  t.source = source.empty() ? st.path() : source;
  t.columns = results_columns(options);
  std::map<int64_t, store::RunRecord> done;
  for (auto& r : st.runs(sweep_id, store::RunStatus::kDone)) done.emplace(r.id, std::move(r));
  auto num = [](double v) { return io::csv_number(v); };
  auto err = [](double v) { return std::isfinite(v) ? io::csv_number(v) : std::string(); };
  for (const auto& [run_id, e] : st.sweep_evals(sweep_id)) {
    auto it = done.find(run_id);
    if (it == done.end()) continue;
    const store::RunRecord& r = it->second;
    std::vector<std::string> row{r.key,        num(static_cast<double>(r.params_total)), num(e.flops),
                                 e.task,       e.metric,                                 num(e.value),
                                 std::to_string(e.n), err(e.stderr), err(e.ci_lo), err(e.ci_hi),
                                 e.higher_is_better ? "1" : "0", std::to_string(e.answer_len), num(e.progress)};
    if (options.with_step) row.push_back(std::to_string(e.step));
    t.rows.push_back(std::move(row));
    t.lines.push_back(static_cast<long>(t.rows.size()) + 1);  // its line in the CSV (after the header)
  }
  return t;
}

std::string results_csv(const io::Table& table) { return io::to_csv(table); }

bool is_emergence_sweep(const store::SweepRecord& sweep) {
  return sweep.spec.is_object() && sweep.spec.contains("emergence");
}

size_t write_results_csv(const std::string& store_path, const std::string& sweep_name, const std::string& csv_path,
                         const ExportOptions& options) {
  const store::RunStore st = store::RunStore::open(store_path, {store::OpenMode::kReadOnly});
  const store::SweepRecord sw = store::select_sweep(st, sweep_name);
  const io::Table t = export_results(st, sw.id, options);
  io::write_file_atomic(csv_path, results_csv(t));
  return t.rows.size();
}

}  // namespace scalinglab::emergence
