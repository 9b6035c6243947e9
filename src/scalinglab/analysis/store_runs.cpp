#include "scalinglab/analysis/store_runs.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "scalinglab/io/csv_write.h"

namespace scalinglab::analysis {
namespace {

using io::csv_field;
std::string number(double v) { return io::csv_number(v); }

}  // namespace

bool is_store_path(const std::string& path) {
  if (path.ends_with(".db") || path.ends_with(".sqlite")) return true;
  std::ifstream in(path, std::ios::binary);
  std::array<char, 16> head{};
  if (!in.read(head.data(), head.size())) return false;
  return std::memcmp(head.data(), "SQLite format 3\0", 16) == 0;
}

StoreRuns load_store_runs(const std::string& path, const std::string& sweep_name) {
  return load_store_runs(store::RunStore::open(path, {store::OpenMode::kReadOnly}), path, sweep_name);
}

StoreRuns load_store_runs(const store::RunStore& st, const std::string& path, const std::string& sweep_name) {
  StoreRuns s;
  s.store_path = path;
  s.sweep = store::select_sweep(st, sweep_name);
  s.counts = st.counts(s.sweep.id);
  s.final_losses.source = path;
  s.final_losses.has_n = s.final_losses.has_d = s.final_losses.has_c = true;
  for (const auto& r : st.runs(s.sweep.id, store::RunStatus::kDone)) {
    if (!r.eval_loss) continue;
    const double n = static_cast<double>(r.params_total);
    s.keys.push_back(r.key);
    s.final_losses.runs.push_back({n, r.tokens, 6 * n * r.tokens, 0, *r.eval_loss, r.id});
    fit::TrainingCurve curve{r.key, n, {}, r.id};
    for (const auto& p : st.points(r.id)) {
      if (!p.eval_loss || !std::isfinite(*p.eval_loss) || p.tokens == 0) continue;
      const double c = 6 * n * static_cast<double>(p.tokens);
      if (!curve.points.empty() && c <= curve.points.back().c) continue;
      curve.points.push_back({static_cast<double>(p.tokens), c, *p.eval_loss, 0});
    }
    s.curves.push_back(std::move(curve));
  }
  return s;
}

std::string runs_csv(const std::vector<std::string>& keys, const fit::Dataset& d) {
  if (keys.size() != d.runs.size()) throw std::invalid_argument("keys: expected one key per run");
  std::string out = "key,N,D,C,loss\n";
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto& r = d.runs[i];
    out += csv_field(keys[i]) + "," + number(r.n) + "," + number(r.d) + "," + number(r.c) + "," + number(r.loss) + "\n";
  }
  return out;
}

io::Table runs_table(const StoreRuns& runs, const std::string& source) {
  return io::parse_csv(runs_csv(runs.keys, runs.final_losses), source);
}

}  // namespace scalinglab::analysis
