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
};

// Another law's prediction of the same held-out run, made at the same time (a comparison of forms:
// the decision uses approach 3's Chinchilla law).
struct AlternativePrediction {
  std::string law;
  double predicted = 0;
  fit::Interval pi95;
  double rel_error = 0;  // filled once the run is trained
};

struct ValidationResult {
  std::string key, run_dir;
  double compute = 0, n = 0, d = 0;   // of the trained run (N from the family rule nearest N_opt)
  double n_opt = 0, d_opt = 0;        // the fit's compute-optimal allocation
  fit::Estimate predicted;            // the law's loss at (N, D), with its 95% interval
  fit::Interval pi95;                 // where a single run is expected (adds run-to-run scatter)
  double actual = 0, rel_error = 0;   // (predicted − actual)/actual
  bool inside_pi95 = false;
  std::string status;                 // of the held-out run: done | diverged | interrupted
  std::vector<AlternativePrediction> alternatives;  // Kaplan et al. 2020's L(N, D), on the same runs
};

nlohmann::json to_json(const ValidationResult& v);
ValidationResult validation_from_json(const nlohmann::json& j);  // missing numbers read as NaN

// The store artifact holding the latest validation of a sweep (see RunStore::put_artifact).
inline constexpr const char* kValidationArtifact = "validation";

// Records the prediction in the store before training the held-out run and the outcome after;
// a validation already done with the same compute factor is returned without retraining.
ValidationResult validate_sweep(const std::string& store_path, const ValidationOptions& options);

}  // namespace scalinglab::sweep
