#pragma once
// The sweep checks itself: fit the law to the finished runs, predict the final loss of a larger
// run (by default at 4x the largest compute, with the compute-optimal N and D of the fit), train
// that run, and compare. This is the honest test of a scaling law — extrapolation to a run the fit
// has not seen — and what the Chinchilla and GPT-4 reports did before their large runs.
#include <string>
#include <vector>

#include "scalinglab/fit/estimate.h"
#include "scalinglab/fit/fitter.h"

namespace scalinglab::sweep {

struct ValidationOptions {
  std::string sweep;           // name; empty: the store's only sweep
  double compute_factor = 4;   // held-out compute / largest compute in the sweep
  int bootstrap = 300;
  int threads = 0;
  std::string out_dir;         // the held-out run goes to <out_dir>/heldout/<key>
  std::string cache_dir;
  // The headline prediction: the equal-weight mean of the laws' predictions (kCombined), or
  // Hoffmann et al.'s law alone (kChinchilla). Either way every law's own prediction is kept.
  enum class Headline { kCombined, kChinchilla } headline = Headline::kCombined;
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
  std::string headline;               // how `predicted` was formed from by_law (see combine_predictions)
  fit::Estimate predicted;            // the headline loss at (N, D), with its 95% interval
  fit::Interval pi95;                 // where a single run is expected (adds run-to-run scatter)
  double actual = 0, rel_error = 0;   // (predicted − actual)/actual
  bool inside_pi95 = false;
  std::string status;                 // of the held-out run: done | diverged | interrupted
  std::vector<LawPrediction> by_law;  // Chinchilla (Hoffmann et al. 2022) first, then Kaplan et al. 2020's L(N, D)
};

// Sets v.headline, v.predicted and v.pi95 from v.by_law. kCombined: the mean of the laws'
// predictions, a forecast combination (Bates & Granger 1969, "The Combination of Forecasts"; equal
// weights, which are hard to beat with estimated ones, Smith & Wallis 2009). The two forms err on
// opposite sides when they are extrapolated from small pilot runs: Hoffmann's additive law
// saturates too early, Kaplan's interacting one too late (measured in docs/PERFORMANCE.md). The
// intervals are the union of the laws' intervals: they hold the form uncertainty too. With one law
// (or kChinchilla) the headline is Chinchilla's own prediction.
void combine_predictions(ValidationResult& v, ValidationOptions::Headline how);

nlohmann::json to_json(const ValidationResult& v);
ValidationResult validation_from_json(const nlohmann::json& j);  // missing numbers read as NaN

// The store artifact holding the latest validation of a sweep (see RunStore::put_artifact).
inline constexpr const char* kValidationArtifact = "validation";

// Records the prediction in the store before training the held-out run and the outcome after;
// a validation already done with the same compute factor is returned without retraining.
ValidationResult validate_sweep(const std::string& store_path, const ValidationOptions& options);

}  // namespace scalinglab::sweep
