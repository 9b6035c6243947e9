#pragma once
// The sweep checks itself: fit the law to the finished runs, predict the final loss of a larger
// run (by default at 4x the largest compute, with the compute-optimal N and D of the fit), train
// that run, and compare. This is the honest test of a scaling law — extrapolation to a run the fit
// has not seen — and what the Chinchilla and GPT-4 reports did before their large runs.
#include <optional>
#include <string>
#include <vector>

#include "scalinglab/fit/estimate.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/sweep/rollout_backtest.h"

namespace scalinglab::sweep {

struct ValidationOptions {
  std::string sweep;           // name; empty: the store's only sweep
  double compute_factor = 4;   // held-out compute / largest compute in the sweep
  int bootstrap = 300;
  int threads = 0;
  std::string out_dir;         // the held-out run goes to <out_dir>/heldout/<key>
  std::string cache_dir;
  // The headline prediction: the candidate the rollout backtest on the sweep's own runs chose
  // (kBacktest; see rollout_backtest.h and choose_headline), or Hoffmann et al.'s law alone
  // (kChinchilla). Either way every law's own prediction and the backtest are kept.
  enum class Headline { kBacktest, kChinchilla } headline = Headline::kBacktest;
  BacktestOptions backtest;  // the candidates; threads are taken from `threads`
};

// One law's prediction of the held-out run, recorded before the run trains.
struct LawPrediction {
  std::string law;
  fit::Estimate predicted;  // the law's expected loss with its 95% bootstrap interval
  fit::Interval pi95;       // where a single run is expected (adds the runs' scatter)
  double rel_error = NAN;   // filled once the run is trained
};

struct ValidationResult {
  std::string key, run_dir;
  double compute = 0, n = 0, d = 0;   // of the trained run (N from the family rule nearest N_opt)
  double n_opt = 0, d_opt = 0;        // approach 3's compute-optimal allocation (Chinchilla law)
  std::string headline;               // the candidate `predicted` is: a law of by_law or combination_name of them
  std::string headline_reason;        // why that candidate (see choose_headline)
  fit::Estimate predicted;            // the headline loss at (N, D), with its 95% interval
  fit::Interval pi95;                 // where a single run is expected (adds run-to-run scatter)
  double actual = 0, rel_error = 0;   // (predicted − actual)/actual
  bool inside_pi95 = false;
  std::string status;                 // of the held-out run: done | diverged | interrupted
  std::vector<LawPrediction> by_law;  // Chinchilla (Hoffmann et al. 2022) first, then Kaplan et al. 2020's L(N, D)
  // The rollout backtest on the sweep's runs, recorded with the predictions before the held-out
  // run trains; absent in artifacts recorded before it existed.
  std::optional<Backtest> backtest;
};

// Sets v.headline, v.predicted and v.pi95 (and, once v.actual is known, rel_error and
// inside_pi95) to the prediction of `candidate`: a law of v.by_law (its own prediction and
// intervals), or combination_name of all of v.by_law's laws (the mean of their predictions — a
// forecast combination, Bates & Granger 1969 — with the union of their intervals, which then hold
// the form uncertainty too). Returns false, changing nothing, for any other candidate.
bool form_headline(ValidationResult& v, const std::string& candidate);

// The headline rule, which never looks at the held-out run's loss:
// - kChinchilla: Hoffmann et al.'s law;
// - kBacktest: the backtest's chosen candidate; Chinchilla when the backtest chose nothing (fewer
//   than 3 budgets) or chose a law that could not be fitted to all of the sweep's runs;
// - a result without a backtest (recorded by an earlier version): the headline it recorded.
// Sets headline_reason to say which case applied.
void choose_headline(ValidationResult& v, ValidationOptions::Headline how);

// Everything recorded before the held-out run trains, from the sweep's runs alone: every law of
// options.backtest.laws fitted to `data` and predicted at (v.n, v.d) into v.by_law (a law that
// cannot be fitted is left out; Chinchilla must fit), the rollout backtest on `data` grouped by
// `budgets` (parallel to data.runs, 0 where a run has none), and the headline (choose_headline).
// `chinchilla`: the Chinchilla law already fitted to `data`, asked instead of refitted (null: fitted here).
// Throws std::invalid_argument when the Chinchilla law cannot be fitted.
void predict_heldout(ValidationResult& v, const fit::Dataset& data, const std::vector<double>& budgets,
                     const ValidationOptions& options, const fit::FittedLaw* chinchilla = nullptr);

nlohmann::json to_json(const ValidationResult& v);
ValidationResult validation_from_json(const nlohmann::json& j);  // missing numbers read as NaN

// The store artifact holding the latest validation of a sweep (see RunStore::put_artifact).
inline constexpr const char* kValidationArtifact = "validation";

// Records the prediction in the store before training the held-out run and the outcome after;
// a validation already done with the same compute factor is returned without retraining.
ValidationResult validate_sweep(const std::string& store_path, const ValidationOptions& options);

}  // namespace scalinglab::sweep
