#pragma once
// Fills the report's plain data from the fitting engine's results, so `fit` output and the test
// suite can produce a report without knowing its layout. The sweep/store will add training
// curves (ReportData::runs) themselves.
#include <vector>

#include "scalinglab/fit/dataset.h"
#include "scalinglab/fit/envelope.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/isoflop.h"
#include "scalinglab/report/report_data.h"

namespace scalinglab::report {

// A fitted estimate as the report shows it: value, interval and identifiability verdict.
ValueCI value_ci(const fit::Estimate& e);
Verdict verdict_of(const fit::Estimate& e);

// Parameters (with bootstrap SE and 95% interval), residuals against C (or N when C is absent),
// held-out runs with their prediction intervals, planner rows from at_compute, the fit's
// warnings, and the formula as subtitle when none is set.
void add_fit(ReportData& out, const fit::FittedLaw& fit);

// IsoFLOP budgets (points, parabola, minimum; skipped budgets with their reason) and the
// frontier: per-budget optima and the fitted N_opt ∝ C^a, D_opt ∝ C^b, with a 95% band where
// the result has predictions (IsoflopOptions::predict_at) with intervals.
// Chinchilla approach 1: the envelope's used frontier points (thinned) and fitted lines.
void add_envelope(ReportData& out, const fit::EnvelopeResult& result);

void add_isoflop(ReportData& out, const std::vector<fit::Run>& runs, const fit::IsoflopResult& result);

}  // namespace scalinglab::report
