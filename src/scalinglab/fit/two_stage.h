#pragma once
// How the data-constrained law of Muennighoff et al. 2023 ("Scaling Data-Constrained Language
// Models", arXiv:2305.16264, §5 and their repo's utils/parametric_fit.ipynb) is fitted.
//
// The paper fits in two stages: (1) the base law L = E + A/N^α + B/D^β on runs that saw every
// token once (theirs: Chinchilla's C4 points), then (2) with E, A, B, α, β frozen, only R_D* and
// R_N* on the repeated-data runs. Fitting all seven parameters at once (the joint procedure) lets
// the multi-epoch runs move the base law, which trades against R_D* (on their 182 runs: R_D* 25
// jointly against 15.4 published). On a user's table the single-epoch runs (D <= U) play the role
// of Chinchilla's points, so two-stage is the default whenever a table holds both kinds of run.
//
// Two-stage here:
//   stage 1  the Chinchilla law fitted by fit::fit to the single-epoch runs alone (as the paper,
//            the base ignores the parameter decay of runs with N > N_opt(D); such runs are
//            rare among single-epoch runs of a sensible design);
//   stage 2  the data-constrained law with the five base parameters held (FixedParameters),
//            fitted by fit::fit to ALL runs. With the base frozen, single-epoch runs with
//            N <= N_opt(U) add only a constant to the objective, so this is the multi-epoch fit
//            plus the single-epoch runs whose excess parameters inform R_N* (the paper's stage 2
//            likewise used all 182 of its runs, single-epoch ones included).
// Uncertainty is propagated: each bootstrap replicate resamples the single-epoch and the
// multi-epoch runs separately (a stratified bootstrap: every replicate keeps each stage's run
// count), refits stage 1 on its single-epoch resample, then stage 2 on the union of both
// resamples with that replicate's base held. The percentile intervals of E, A, B, α, β are
// therefore stage 1's, those of R_D*, R_N* include the base law's uncertainty. Stage 2's own
// bootstrap with the base held at its optimum is reported beside them (`ci95_base_fixed`), so the
// share of the interval due to the base is visible.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scalinglab/fit/fitter.h"

namespace scalinglab::fit {

// kAuto: two-stage when the table has single-epoch runs enough for stage 1 — more than the base
// law's free parameters, at at least 3 distinct N and 3 distinct D (with fewer the base is not
// determined) — and at least one multi-epoch run; joint otherwise. kTwoStage asked for on runs
// with fewer distinct values still runs, with a warning.
enum class DataConstrainedProcedure { kAuto, kJoint, kTwoStage };
const char* procedure_name(DataConstrainedProcedure p);  // "auto", "joint", "two-stage"

struct DataConstrainedOptions {
  DataConstrainedProcedure procedure = DataConstrainedProcedure::kAuto;
  // Public parameters held at a value in every stage (as LawOptions::fixed): base ones (E, A, B,
  // alpha, beta) in stage 1, R_D_star / R_N_star in stage 2.
  std::vector<std::pair<std::string, double>> fixed;
};

// A run counts as single-epoch when D <= U (no token seen twice), up to rounding of an epochs column.
bool is_single_epoch(const Run& run);

struct StageReport {
  int runs = 0;                        // runs the stage was fitted to
  std::vector<std::string> free;       // public parameters this stage fitted
  // Their values with the propagated bootstrap's SE and interval (the final report's).
  std::vector<Estimate> estimates;
  // Stage 2 only: the same parameters from stage 2's own bootstrap with the base held at its
  // optimum (no propagation), to show how much of the interval the base's uncertainty makes.
  std::vector<Estimate> base_fixed;
  double objective = NAN;
  Quality quality;                     // on this stage's runs, with this stage's law
  int starts = 0, converged_starts = 0, starts_at_best = 0;
  std::string status;
};

struct DataConstrainedFit {
  FittedLaw report;  // the data-constrained law with every parameter: predict/plan/JSON as any fit
  DataConstrainedProcedure procedure = DataConstrainedProcedure::kJoint;  // the one used (never kAuto)
  bool chosen_by_default = false;      // procedure came from kAuto
  std::string reason;                  // why this procedure (one sentence)
  int single_epoch_runs = 0, multi_epoch_runs = 0;
  // Runs with N above N_opt(U) at the final parameters: without any, R_N* has no effect on the
  // data and is not determined (its value is only where its start left it).
  int runs_above_n_opt = 0;
  bool r_n_star_determined = true;
  std::optional<StageReport> stage1, stage2;  // two-stage only
};

// Fits the data-constrained law by `dc.procedure`. `options` are fit::fit's: starts apply to
// the joint fit only (stage 1 uses Chinchilla's published grid, stage 2 a 5×5 grid over R_D*,
// R_N*), bootstrap counts replicates of the whole procedure,
// at_points and holdout_top_compute are honoured (a holdout refit repeats the same procedure).
// Throws std::invalid_argument whose message starts with the field it concerns ("procedure: ..."
// when two-stage is asked for but the single-epoch runs are too few for stage 1;
// "holdout_top_x: ..." for two-stage, whose law has no x), and everything fit::fit throws
// (missing U, too few runs).
DataConstrainedFit fit_data_constrained(const Dataset& data, const FitOptions& options,
                                        const DataConstrainedOptions& dc = {});

// The fit JSON (to_json(FittedLaw)) plus a "procedure" object with the stage details
// (docs/FIT_JSON.md).
nlohmann::json to_json(const DataConstrainedFit& fit);

}  // namespace scalinglab::fit
