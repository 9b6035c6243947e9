#pragma once
// Everything a sweep's store says about scaling, computed in one place so that the report, the
// demo's summary.json and the CLI print the same numbers: the final losses and training curves of
// the finished runs, Chinchilla approaches 1 (training-curve envelope), 2 (IsoFLOP parabolas) and
// 3 (parametric fit with bootstrap intervals), Kaplan et al. 2020's forms for comparison, and the
// held-out validation recorded in the store. Opens the store read-only: works while a sweep runs.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scalinglab/fit/dataset.h"
#include "scalinglab/fit/envelope.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/identifiability.h"
#include "scalinglab/fit/isoflop.h"
#include "scalinglab/store/run_store.h"
#include "scalinglab/sweep/self_validation.h"

namespace scalinglab::analysis {

struct AnalysisOptions {
  std::string sweep;                 // name; empty: the store's only sweep
  int bootstrap = 300;               // resamples of every fit
  int threads = 0;
  uint64_t seed = 1;
  std::vector<double> plan_budgets;  // where the frontier is evaluated; empty: 10x, 100x, 1000x the largest run
};

struct SweepAnalysis {
  std::string store_path;
  store::SweepRecord sweep;
  store::StatusCounts counts;
  std::vector<std::string> run_keys;        // finished runs, parallel to final_losses.runs and curves
  fit::Dataset final_losses;                // N total, D, C = 6ND, final validation loss
  std::vector<fit::TrainingCurve> curves;   // validation loss as each run progressed
  std::vector<double> plan_budgets;
  std::optional<fit::FittedLaw> chinchilla;       // approach 3
  std::optional<fit::IsoflopResult> isoflop;      // approach 2
  std::optional<fit::EnvelopeResult> envelope;    // approach 1
  std::optional<fit::FittedLaw> kaplan_nd;        // Kaplan et al. 2020 eq. 1.5, on the same final losses
  std::optional<fit::FittedLaw> kaplan_c;         // Kaplan's L(C) on the compute-optimal frontier (approach 1)
  std::optional<sweep::ValidationResult> validation;
  // Whether approaches 1, 2 and 3 agree on a (N_opt ∝ C^a) within their 95% intervals.
  fit::ExponentAgreement agreement;
  std::vector<std::string> warnings;              // analyses that could not be done, and why
  double c_min = 0, c_max = 0;
};

// Throws io::InputError for a file that is not a store, std::invalid_argument for a missing or
// ambiguous sweep. Too few finished runs is not an error: the fits are then absent with a warning.
SweepAnalysis analyze_store(const std::string& store_path, const AnalysisOptions& options = {});

// The machine-readable summary (schema "scalinglab.summary/1", see docs/SWEEP.md): runs,
// compute_range, fits with intervals and identifiability verdicts, agreement_on_a, frontier,
// heldout, warnings.
nlohmann::json summary_json(const SweepAnalysis& a);

// The files a sweep leaves for the rest of the tool, beside its summary.json in `dir`:
// fits/chinchilla.json, fits/kaplan-nd.json and fits/kaplan-c.json as `scalinglab fit --json`
// writes them (what `plan --law` and `predict --law` read), fits/approach1.json and
// fits/approach2.json as `fit --approach 1|2 --json` writes them, each only when that fit was
// done, and runs.csv (store_runs.h: runs_csv), the table those fits were made from. Every file is
// written atomically (a reader sees the old file or the new one). Returns the paths written, in
// that order; throws std::runtime_error when a file cannot be written.
std::vector<std::string> write_sweep_files(const SweepAnalysis& a, const std::string& dir);

// write_sweep_files, then sets summary["files"] (the paths written, relative to DIR) and writes
// `summary` (summary_json plus whatever the caller added) as DIR/summary.json, atomically and last,
// so a summary.json always has its fits/ beside it. Returns the fit and run files written.
std::vector<std::string> write_sweep_outputs(const SweepAnalysis& a, nlohmann::json& summary, const std::string& dir);

}  // namespace scalinglab::analysis
