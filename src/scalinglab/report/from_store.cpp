#include "scalinglab/report/from_store.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "scalinglab/report/escape.h"
#include "scalinglab/report/from_fit.h"

namespace scalinglab::report {

namespace {

ValueCI ci(const fit::Estimate& e) { return value_ci(e); }

}  // namespace

ReportData report_from_analysis(const analysis::SweepAnalysis& a) {
  ReportData data;
  data.title = "Scaling-law report: " + a.sweep.name;
  for (size_t i = 0; i < a.curves.size(); ++i) {
    Curve curve{a.curves[i].id, a.curves[i].n, {}};
    for (const auto& p : a.curves[i].points) curve.points.push_back({p.tokens, p.c, p.loss});
    data.runs.push_back(std::move(curve));
  }
  char note[256];
  std::snprintf(note, sizeof note,
                "%lld runs done, %lld diverged, %lld failed, %lld not finished; N = total parameters, C = 6ND, "
                "loss = final validation loss (nats/token)",
                static_cast<long long>(a.counts.done), static_cast<long long>(a.counts.diverged),
                static_cast<long long>(a.counts.failed), static_cast<long long>(a.counts.queued + a.counts.running));
  data.notes.push_back(note);
  data.warnings = a.warnings;
  if (a.chinchilla) add_fit(data, *a.chinchilla);
  if (a.isoflop) add_isoflop(data, a.final_losses.runs, *a.isoflop);
  if (a.envelope) add_envelope(data, *a.envelope);

  // The three Chinchilla approaches and Kaplan's forms, side by side (Hoffmann et al. 2022, Table 2).
  if (a.envelope)
    data.approaches.push_back({"Approach 1: training-curve envelope", ci(a.envelope->scaling.a), ci(a.envelope->scaling.b),
                               std::to_string(a.envelope->points_used) + " frontier points from " +
                                   std::to_string(a.envelope->runs_on_frontier) + " runs"});
  if (a.isoflop)
    data.approaches.push_back({"Approach 2: IsoFLOP parabolas", ci(a.isoflop->scaling.a), ci(a.isoflop->scaling.b),
                               std::to_string(a.isoflop->scaling.n_fit.n) + " budgets used"});
  if (a.chinchilla && a.chinchilla->derived.size() >= 2)
    data.approaches.push_back({"Approach 3: parametric fit", ci(a.chinchilla->derived[0].estimate),
                               ci(a.chinchilla->derived[1].estimate),
                               a.chinchilla->formula + ", R² of ln L " + format_number(a.chinchilla->quality.r2_log) +
                                   ", AIC " + format_number(a.chinchilla->quality.aic)});
  if (a.kaplan_nd)
    data.approaches.push_back({"Kaplan et al. 2020 L(N, D)", {}, {},
                               a.kaplan_nd->formula + ", R² of ln L " + format_number(a.kaplan_nd->quality.r2_log) +
                                   ", AIC " + format_number(a.kaplan_nd->quality.aic) + " (same runs as approach 3)"});
  if (a.kaplan_c && a.kaplan_c->params.size() >= 2)
    data.approaches.push_back({"Kaplan et al. 2020 L(C) on the frontier", {}, {},
                               a.kaplan_c->formula + ": alpha_C = " + format_number(a.kaplan_c->params[1].value) + " [" +
                                   format_number(a.kaplan_c->params[1].lo) + ", " +
                                   format_number(a.kaplan_c->params[1].hi) + "]"});

  if (!a.agreement.entries.empty())
    data.agreement = "Agreement on a (N_opt ∝ C^a): " + a.agreement.verdict + " — " + a.agreement.detail + ".";

  if (a.validation && a.validation->status == "done") {
    const auto& v = *a.validation;
    data.held_out.push_back({v.key + " (" + format_number(v.compute / std::max(a.c_max, 1.0)) + "x the largest run), " +
                                 v.headline,
                             v.compute, v.predicted.value, v.pi95.lo, v.pi95.hi, v.actual});
    if (v.by_law.size() > 1)
      for (const auto& x : v.by_law)
        data.held_out.push_back({v.key + " by " + x.law + " alone", v.compute, x.predicted.value, x.pi95.lo, x.pi95.hi, v.actual});
  }
  if (a.validation && a.validation->backtest) {
    const auto& b = *a.validation->backtest;
    data.backtest_rule = "Chosen before the held-out run trained, from the sweep's runs alone (" +
                         std::to_string(b.budgets) + " budgets, grouped by " + b.grouping + "): " + b.rule +
                         (b.note.empty() ? "" : ". " + b.note) + ". Headline: " + a.validation->headline + " — " +
                         a.validation->headline_reason + ".";
    for (const auto& l : b.by_law)
      data.backtest.push_back({l.law, l.mean_abs_rel_error, l.mean_rel_error, l.law == b.chosen, l.failure});
  }
  if (a.validation && a.validation->status != "done") {
    data.notes.push_back("held-out run " + a.validation->key + " predicted at " + format_number(a.validation->predicted.value) +
                         " is " + a.validation->status);
  }
  return data;
}

ReportData report_from_store(const std::string& path, const StoreReportOptions& o) {
  analysis::AnalysisOptions ao;
  ao.sweep = o.sweep;
  ao.bootstrap = o.bootstrap;
  ao.threads = o.threads;
  ao.plan_budgets = o.plan_budgets;
  return report_from_analysis(analysis::analyze_store(path, ao));
}

}  // namespace scalinglab::report
