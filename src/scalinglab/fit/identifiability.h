#pragma once
// Whether the data determine each fitted or derived number: a verdict (Identified, estimate.h)
// with a short reason and the design change that would fix it, for approach 3's parameters,
// derived a, b, G and predictions, and for approaches 1 and 2's a, b, k_N, k_D.
//
// THE RULE. Checked in this order; the first of 1–5 that applies decides, otherwise 6 does.
//  1. fixed: the parameter is held at a value (--fix) → "fixed"; its SE is set to exactly 0 and
//     its interval to [v, v] (the bootstrap would give rounding noise of ~1e-15).
//  2. the estimate is not finite, or unbounded (|v| ≥ kUnboundedMagnitude = 1e300: the optimiser
//     drove a log-parametrised parameter towards infinity) → "no", "unbounded: no run tests it".
//  3. the parameter has no effect on any run's prediction at the optimum (∂ log L̂/∂θ_j = 0 at every
//     run: fitter step 6; e.g. R_N* when no run has N above N_opt(U)) → "no"; so is a prediction at a
//     point where such a parameter matters (every refit kept its arbitrary value, so the bootstrap
//     interval there looks narrow but rests on nothing).
//  4. no bootstrap interval (bootstrap off, or fewer than 2 usable refits) → "not assessed",
//     except that when more than half of at least 2 requested refits failed → "no".
//  5. (nothing else decides alone)
//  6. the worst of three criteria, each giving yes / weak / no:
//     a. share of bootstrap refits at a bound — failed, non-finite, unbounded, or (for a positive
//        parameter) ≤ 0 or more than 6 orders of magnitude from the estimate (a term driven to zero,
//        e.g. E ≈ 0): ≥ 10% → no, ≥ 2.5% → weak;
//     b. the 95% percentile interval — positive (scale) parameters: reaching 0, or hi/lo > 10 (over
//        an order of magnitude) → no, hi/lo > 4 → weak; signed parameters (exponents, whose natural
//        bound is 0): the interval includes 0 → no;
//     c. relative bootstrap SE se/|v| — positive: > 2 → no, > 0.5 → weak; signed: > 0.5 → no,
//        > 0.15 → weak. (The SE catches heavy tails that the percentiles hide, e.g. SE 1e15 beside a
//        finite interval; for a log-normal spread, relative SE 0.5 matches an interval of a factor ~6.)
// An approach 1/2 line through fewer than 3 independent optima (budgets or frontier runs) is at
// best "weak": two points always lie on a line, so nothing tests the power-law form.
//
// Limits: the verdict is about the bootstrap's view of the design; a parameter can be identified
// by this rule and still be biased (e.g. approach 2's parabola bias, isoflop.h).
#include <string>
#include <vector>

#include "scalinglab/fit/estimate.h"

namespace scalinglab::fit {

class Law;
struct FittedLaw;
struct OptimalScaling;

// Positive: a scale fitted in logs (E, A, B, R*, N_c, k_N, G, N_opt, loss), judged by ratios.
// Signed: an exponent (α, β, a, b, a broken law's slopes), judged against 0.
enum class Scale { kPositive, kSigned };

struct IdentSpec {
  Scale scale = Scale::kPositive;
  bool fixed = false;      // held at its value (--fix)
  bool no_effect = false;  // changes no run's prediction at the optimum
  std::string remedy;      // design change that would determine it (shown for weak / no)
};

struct BootstrapEvidence {
  std::vector<double> replicates;  // the quantity in each usable refit; may be empty when only the
                                   // estimate's se/lo/hi are known (approaches 1 and 2)
  int requested = 0;               // refits asked for
  int failed = 0;                  // refits that produced no fit (not in `replicates`)
};

// The verdict of rule 1–6 for one estimate. For a fixed parameter also sets se = 0, lo = hi = value.
void identify(Estimate& e, const IdentSpec& spec, const BootstrapEvidence& boot);

// Scale of a law's public parameter by name: exponents (alpha*, beta*, gamma*, and a broken power
// law's slopes c0, c1, ...) are signed; everything else is positive.
Scale parameter_scale(const std::string& public_name);

// The design change that determines a named approach-3 quantity of law `law_name` (e.g. E: larger
// models and longer training; R_N_star: runs with N above N_opt(U)).
std::string remedy_for(const std::string& law_name, const std::string& name);

// Verdicts for every estimate of an approach-3 fit. `columns` holds the bootstrap replicates of
// each quantity in the fitter's layout order: params, derived, then per at_compute entry N_opt,
// D_opt, tokens_per_param (when `per_compute` is 4) and loss, then one per at_point.
// `no_effect_internal[j]` marks internal coordinates without effect (fitter step 6).
void identify_fit(FittedLaw& report, const Law& law, const std::vector<std::vector<double>>& columns,
                  const std::vector<bool>& no_effect_internal, size_t per_compute);

// Verdicts for a, b, k_N, k_D and the predictions of approach 1 or 2. `optima` is the number of
// independent optima the lines rest on (budgets used, or runs on the frontier); `remedy` the design
// change for that approach.
void identify_scaling(OptimalScaling& s, size_t optima, const std::string& what, const std::string& remedy);
// The design change that determines approach 1's or 2's lines (approach = 1 or 2).
std::string approach_remedy(int approach);

// Whether approaches 1, 2 and 3 agree on a (the N_opt exponent): every pair of 95% intervals
// overlaps. Only approaches with an interval take part; `verdict` is "agree", "disagree" or
// "not assessed" (fewer than two intervals).
struct ExponentAgreement {
  struct Entry {
    std::string approach;  // "approach1", "approach2", "approach3"
    Estimate a;
  };
  std::vector<Entry> entries;
  std::string verdict = "not assessed";
  std::string detail;  // e.g. "approach 1 [0.41, 0.55] and approach 3 [0.62, 0.70] do not overlap"
};
ExponentAgreement agreement_on_a(const std::vector<ExponentAgreement::Entry>& entries);

}  // namespace scalinglab::fit
