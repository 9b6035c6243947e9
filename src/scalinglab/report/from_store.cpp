#include "scalinglab/report/from_store.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/isoflop.h"
#include "scalinglab/report/from_fit.h"
#include "scalinglab/store/run_store.h"

namespace scalinglab::report {

ReportData report_from_store(const std::string& path, const StoreReportOptions& o) {
  store::RunStore st = store::RunStore::open(path, {store::OpenMode::kReadOnly});
  auto sweeps = st.sweeps();
  std::optional<store::SweepRecord> sw;
  if (o.sweep.empty()) {
    if (sweeps.size() != 1)
      throw std::invalid_argument(path + ": holds " + std::to_string(sweeps.size()) + " sweeps; name one with --sweep");
    sw = sweeps[0];
  } else {
    sw = st.sweep(o.sweep);
    if (!sw) throw std::invalid_argument(path + ": no sweep named '" + o.sweep + "'");
  }

  ReportData data;
  data.title = "Scaling-law report: " + sw->name;
  fit::Dataset final_losses;
  final_losses.source = path;
  final_losses.has_n = final_losses.has_d = final_losses.has_c = true;
  auto counts = st.counts(sw->id);
  for (const auto& r : st.runs(sw->id)) {
    if (r.status != store::RunStatus::kDone || !r.eval_loss) continue;
    Curve curve;
    curve.name = r.key;
    curve.n = static_cast<double>(r.params_total);
    // Validation points when the run has a few (one curve of one kind: train and eval losses
    // interleaved would zigzag), else the training loss.
    auto points = st.points(r.id);
    const bool use_eval = std::count_if(points.begin(), points.end(), [](const auto& p) { return p.eval_loss.has_value(); }) >= 3;
    for (const auto& p : points) {
      if (use_eval && !p.eval_loss) continue;
      double loss = use_eval ? *p.eval_loss : p.train_loss;
      if (std::isfinite(loss) && p.tokens > 0)
        curve.points.push_back({static_cast<double>(p.tokens), 6.0 * curve.n * static_cast<double>(p.tokens), loss});
    }
    data.runs.push_back(std::move(curve));
    final_losses.runs.push_back({static_cast<double>(r.params_total), r.tokens, 6.0 * r.params_total * r.tokens, 0,
                                 *r.eval_loss, r.id});
  }
  char note[256];
  std::snprintf(note, sizeof note,
                "%lld runs done, %lld diverged, %lld failed, %lld not finished; N = total parameters, C = 6ND, "
                "loss = final validation loss (nats/token)",
                static_cast<long long>(counts.done), static_cast<long long>(counts.diverged),
                static_cast<long long>(counts.failed), static_cast<long long>(counts.queued + counts.running));
  data.notes.push_back(note);

  if (final_losses.runs.size() < 6) {
    data.warnings.push_back("fewer than 6 finished runs: no law fitted yet");
    return data;
  }
  double c_max = 0;
  for (const auto& r : final_losses.runs) c_max = std::max(c_max, r.c);
  fit::FitOptions fo;
  fo.bootstrap = o.bootstrap;
  fo.threads = o.threads;
  fo.at_compute = o.plan_budgets.empty() ? std::vector<double>{10 * c_max, 100 * c_max, 1000 * c_max} : o.plan_budgets;
  try {
    add_fit(data, fit::fit(*fit::make_law("chinchilla"), final_losses, fo));
  } catch (const std::exception& e) {
    data.warnings.push_back(std::string("Chinchilla fit failed: ") + e.what());
  }
  fit::IsoflopOptions io;
  io.bootstrap = o.bootstrap;
  io.threads = o.threads;
  io.predict_at = fo.at_compute;
  try {
    add_isoflop(data, final_losses.runs, fit::fit_isoflop(final_losses.runs, io));
  } catch (const std::invalid_argument& e) {
    data.warnings.push_back(std::string("IsoFLOP analysis skipped: ") + e.what());
  }
  return data;
}

}  // namespace scalinglab::report
