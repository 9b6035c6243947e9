#pragma once
// A pilot sweep: which models to train on which corpus for how long, by a stated rule, so that the
// fitted law can be trusted. Read from a JSON file (or built from flags); plan() expands it into
// concrete runs, each with a stable key, before anything is trained.
#include <cstdint>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scalinglab/emergence/emergence_spec.h"
#include "scalinglab/run/run_spec.h"
#include "scalinglab/sweep/model_family.h"

namespace scalinglab::sweep {

// Per-size hyperparameters. Peak lr shrinks with width as lr = base·(base_width/d)^exponent, the
// μP-style transfer rule (Yang et al. 2022) in its simplest form; tokens per step and warmup
// fraction are shared by the family.
struct HyperRule {
  double lr_base = 3e-3;
  int lr_base_width = 128;
  double lr_width_exponent = 0.5;
  double lr_min = 5e-4, lr_max = 1e-2;
  uint32_t batch_tokens = 2048;
  // Short runs get smaller batches: the batch halves (down to min_batch_seqs sequences) until the
  // run takes at least min_steps optimizer steps. A run of a few dozen steps measures the
  // optimiser, not the model, and bends the fitted law; the critical batch size also shrinks as
  // the loss rises (Kaplan et al. 2020, §5.1), so small runs lose little by it. 0 disables.
  uint64_t min_steps = 0;
  uint32_t min_batch_seqs = 2;
  double warmup_frac = 0.05;
  double weight_decay = 0.1;
  // AdamW's second-moment decay. 0.95 is the large-batch default (GPT-3, Chinchilla); at small
  // batches its averaging horizon of ~20 steps sees too few tokens and tuning beta2 upward is
  // "essential at lower batch sizes" (Porian et al. 2024, "Resolving Discrepancies in
  // Compute-Optimal Scaling of Language Models").
  double beta2 = 0.95;
  // Optional run-length rule: with beta2_run_frac > 0 the second moment averages over that
  // fraction of the run's steps, beta2 = 1 - 1/(beta2_run_frac * steps), kept within
  // [beta2, beta2_max]: short runs keep the fast 0.95, long ones get the longer horizon that small
  // batches need. 0 (the default) uses beta2 for every run.
  double beta2_run_frac = 0;
  double beta2_max = 0.999;
  double beta2_for_steps(uint64_t steps) const;
  std::string schedule = "cosine";  // Hoffmann et al. 2022: cosine to 10% over exactly the run
  double lr_for_width(int d_model) const;
};

enum class DesignKind { kGrid, kIsoFlop, kWsd };

struct Design {
  DesignKind kind = DesignKind::kIsoFlop;
  // Grid: `sizes` target N log-spaced in [n_min, n_max] × tokens-per-parameter ratios.
  double n_min = 3e4, n_max = 2e6;
  int sizes = 5;
  std::vector<double> tokens_per_param = {5, 20, 80};
  // IsoFLOP: `budgets` compute values log-spaced in [c_min, c_max] (C = 6·N·D, N total params),
  // `per_budget` sizes spanning [N*/span, N*·span] around the expected optimum
  // N* = sqrt(C/(6·r)), r = center_tokens_per_param (about 20 in Hoffmann et al. 2022; tiny
  // byte-level models on a small corpus sit higher, see docs/SWEEP.md).
  double c_min = 1e12, c_max = 1e14;
  int budgets = 3, per_budget = 5;
  double span = 4;
  double center_tokens_per_param = 20;
  // WSD (Hägele et al. 2024, "Scaling Laws and Compute-Optimal Training Beyond Fixed Training
  // Durations"; Hu et al. 2024, MiniCPM): sizes as for the grid and, per size, one trunk at
  // constant lr after warmup with a cooldown branch for each duration D_k = tokens_per_param[k]·N.
  // Branch k leaves the trunk at step s_k − round(cooldown_frac·s_k) (s_k = D_k in steps) and
  // decays the lr to 0 over the rest, so it equals a single WSD run of length D_k.
  double cooldown_frac = 0.2;
};

struct SweepSpec {
  std::string name = "sweep";
  std::string corpus = "kjv";
  FamilyRule family;
  HyperRule hyper;
  Design design;
  std::vector<uint64_t> seeds = {1};
  int threads_per_run = 0;  // 0: decided by the scheduler
  double eval_fraction = 0.1;  // evaluations per run: every tenth of the run
  uint64_t eval_windows = 32;
  uint64_t final_eval_windows = 0;  // windows of each run's final evaluation (0: eval_windows)
  // An emergence sweep (docs/EMERGENCE.md "Emergence sweeps"): the runs train on the tasks' text
  // mixed into the corpus and are scored on the tasks at log-spaced checkpoints. Grid and IsoFLOP
  // designs only.
  std::optional<emergence::EmergenceSpec> emergence;
};

// A WSD cooldown branch: where it leaves which trunk. The trunk is not a run of the store (its
// constant-lr loss would bend a fit); it lives in <out>/runs/<trunk_key>/ and is trained, under a
// lock, by whichever worker first needs it to reach a branch step.
struct WsdBranch {
  std::string trunk_key;     // e.g. "N1.2e+05-trunk-s1"
  run::RunSpec trunk;        // constant lr after the same warmup, up to the last branch step
  uint64_t branch_step = 0;  // the trunk step this branch starts its cooldown from
  std::vector<uint64_t> trunk_branch_steps;  // every branch step of the trunk, ascending
};

struct PlannedRun {
  std::string key;   // stable name within the sweep, e.g. "C1.0e+13-N1.2e+05-s1"
  run::RunSpec spec;
  double n = 0, d = 0, c = 0;  // total params, tokens, 6·N·D
  double budget = 0;           // the IsoFLOP budget it belongs to (0 for a grid)
  // Tokens this run trains itself: d, except for a WSD branch, which trains its cooldown plus the
  // trunk segment since the previous branch step (so the trunk is counted once over its branches).
  double d_trained = 0;
  std::optional<WsdBranch> wsd;
};

// What the design costs: C summed over runs as if each were trained on its own (what the store
// and the fits see, 6·N·D per run) and C actually trained (each WSD trunk once plus its cooldowns).
struct PlanCompute {
  double independent = 0, trained = 0;
  int runs = 0, trunks = 0;
};
PlanCompute plan_compute(const std::vector<PlannedRun>& runs);

// The run spec JSON stored for a planned run: run::to_json(spec), plus for a WSD branch a
// "wsd_branch" object ({trunk_key, trunk, branch_step, trunk_branch_steps}) the workers read.
nlohmann::json stored_spec(const PlannedRun& r);
std::optional<WsdBranch> wsd_branch_from_json(const nlohmann::json& stored);

// The run of `model` for `tokens` tokens under the sweep's per-size rules (lr for the width,
// batch, warmup, checkpoints every tenth); the held-out validation run is made the same way.
run::RunSpec run_spec_for(const SweepSpec& s, const model::GptConfig& model, double tokens, uint64_t seed);

// Throws std::invalid_argument naming the JSON field for a malformed or inconsistent spec.
SweepSpec sweep_from_json(const nlohmann::json& j);
nlohmann::json to_json(const SweepSpec& s);

// Expands the design; throws std::invalid_argument for a spec that cannot give a fit (fewer than
// 3 distinct sizes, a budget too small for the smallest model, ...). With an emergence block every
// run gets snapshot_steps = the steps of emergence::eval_points (refused for a WSD design, whose
// branches do not train their first steps themselves, and for runs too short for the checkpoints).
std::vector<PlannedRun> plan(const SweepSpec& s);

}  // namespace scalinglab::sweep
