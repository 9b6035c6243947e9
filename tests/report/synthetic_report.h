#pragma once
// A report built the way a user would get one: runs drawn from a known Chinchilla law, fitted by
// approach 3 (with held-out runs and planner budgets) and by IsoFLOP parabolas (approach 2), plus
// training curves from the same law. Small bootstraps keep it to about a second.
#include <cmath>
#include <string>

#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/isoflop.h"
#include "scalinglab/fit/law.h"
#include "scalinglab/fit/synthetic.h"
#include "scalinglab/report/from_fit.h"
#include "scalinglab/report/report_data.h"

namespace scalinglab::report::testing {

inline ReportData synthetic_report() {
  fit::ChinchillaParams truth;
  fit::SyntheticDesign design;
  design.kind = fit::SyntheticDesign::Kind::kIsoFlop;
  design.c_min = 1e17, design.c_max = 1e20, design.budgets = 5, design.per_budget = 7, design.n_span = 6;
  design.noise = 0.01, design.seed = 7;
  fit::Dataset data = fit::make_synthetic(truth, design);

  ReportData r;
  r.title = "Synthetic Chinchilla sweep";

  auto law = fit::make_law("chinchilla");
  fit::FitOptions fo;
  // Every 150th of the 4,500 published starts: noise-free-ish data need no more, and the test
  // stays fast on a shared machine.
  auto starts = law->default_starts();
  for (size_t i = 0; i < starts.size(); i += 150) fo.starts.push_back(starts[i]);
  fo.bootstrap = 30;
  fo.seed = 1;
  fo.threads = 2;
  fo.holdout_top_compute = 4;
  fo.at_compute = {1e21, 1e22, 1e23};
  add_fit(r, fit::fit(*law, data, fo));

  fit::IsoflopOptions io;
  io.bootstrap = 200;
  io.seed = 2;
  io.threads = 2;
  for (int i = 0; i <= 12; ++i) io.predict_at.push_back(1e16 * std::pow(10.0, i * 0.5));
  add_isoflop(r, data.runs, fit::fit_isoflop(data.runs, io));

  // Training curves of six model sizes, each to 20 tokens per parameter, from the same law.
  for (int i = 0; i < 6; ++i) {
    double n = 2e7 * std::pow(3.0, i);
    Curve c;
    c.name = "run-" + std::to_string(i);
    c.n = n;
    for (int j = 0; j < 80; ++j) {
      double tokens = 1e7 * std::pow(20 * n / 1e7, j / 79.0);
      c.points.push_back({tokens, 6 * n * tokens, truth.loss(n, tokens)});
    }
    r.runs.push_back(std::move(c));
  }
  // Approach 1 on those curves, drawn beside approach 2 on the frontier plots, and the table
  // comparing the approaches.
  std::vector<fit::TrainingCurve> curves;
  for (const auto& c : r.runs) {
    fit::TrainingCurve t{c.name, c.n, {}, 0};
    for (const auto& p : c.points) t.points.push_back({p.tokens, p.flops, p.loss, 0});
    curves.push_back(std::move(t));
  }
  fit::EnvelopeOptions eo;
  eo.bootstrap = 50;
  eo.seed = 3;
  eo.require_bracket = false;  // every curve stops at 20 tokens per parameter: the largest run is never bracketed
  auto env = fit::fit_envelope(curves, eo);
  add_envelope(r, env);
  r.approaches.push_back({"Approach 1: training-curve envelope", {env.scaling.a.value, env.scaling.a.lo, env.scaling.a.hi},
                          {env.scaling.b.value, env.scaling.b.lo, env.scaling.b.hi}, "6 runs"});
  r.approaches.push_back({"Kaplan et al. 2020 L(N, D)", {}, {}, "AIC -12 <b>not bold</b>"});
  r.notes.push_back("Drawn from L = 1.69 + 406.4/N^0.34 + 410.7/D^0.28 with 1% noise.");
  return r;
}

}  // namespace scalinglab::report::testing
