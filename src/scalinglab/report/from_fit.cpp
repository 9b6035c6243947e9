#include "scalinglab/report/from_fit.h"

#include <algorithm>
#include <string>

#include "scalinglab/report/escape.h"

namespace scalinglab::report {

Verdict verdict_of(const fit::Estimate& e) {
  if (e.ident.verdict == fit::Identified::kNotAssessed) return {};
  return {fit::to_string(e.ident.verdict), e.ident.reason, e.ident.remedy};
}

ValueCI value_ci(const fit::Estimate& e) { return {e.value, e.lo, e.hi, verdict_of(e)}; }

namespace {

ValueCI ci(const fit::Estimate& e) { return value_ci(e); }

std::string run_label(long line, double n, double d) {
  return "line " + std::to_string(line) + " (N = " + format_number(n) + ", D = " + format_number(d) + ")";
}

}  // namespace

void add_fit(ReportData& out, const fit::FittedLaw& f) {
  if (out.subtitle.empty()) out.subtitle = f.formula;
  for (size_t i = 0; i < f.params.size() && i < f.param_names.size(); ++i) {
    const auto& e = f.params[i];
    out.params.push_back({f.param_names[i], e.value, e.se, e.lo, e.hi, verdict_of(e)});
  }
  for (const auto& d : f.derived) {
    out.params.push_back({d.name, d.estimate.value, d.estimate.se, d.estimate.lo, d.estimate.hi, verdict_of(d.estimate)});
  }
  bool by_c = std::any_of(f.residuals.begin(), f.residuals.end(), [](const fit::Residual& r) { return r.c > 0; });
  Residuals res;
  res.x_label = by_c ? "Compute C (FLOPs)" : "Parameters N";
  for (const auto& r : f.residuals) {
    res.points.push_back({by_c ? r.c : r.n, r.log_residual, run_label(r.line, r.n, r.d)});
  }
  if (!res.points.empty()) out.residuals = std::move(res);
  if (f.holdout) {
    for (const auto& r : f.holdout->rows) {
      // The prediction interval (parameters plus run-to-run scatter) is the honest yardstick
      // for a single new run.
      out.held_out.push_back({run_label(r.line, r.n, r.d), r.c, r.predicted.value, r.pi95.lo, r.pi95.hi, r.actual});
    }
  }
  for (const auto& p : f.at_compute) out.planner.push_back({p.compute, ci(p.n_opt), ci(p.d_opt), ci(p.loss)});
  out.warnings.insert(out.warnings.end(), f.warnings.begin(), f.warnings.end());
}

void add_isoflop(ReportData& out, const std::vector<fit::Run>& runs, const fit::IsoflopResult& r) {
  Frontier fr;
  for (const auto& b : r.budgets) {
    IsoflopCurve c;
    c.c = b.c;
    for (size_t i : b.members) {
      if (i < runs.size()) c.points.push_back({runs[i].n, runs[i].loss});
    }
    if (b.parabola) {
      c.has_parabola = true;
      c.c0 = b.parabola->c0, c.c1 = b.parabola->c1, c.c2 = b.parabola->c2;
      c.log_loss = r.loss_scale == fit::LossScale::kLog;
    }
    c.used = b.used();
    c.extrapolated = b.extrapolated;
    if (b.used()) {
      c.n_opt = b.n_opt, c.loss_opt = b.l_opt;
      fr.points.push_back({b.c, {b.n_opt}, {b.d_opt}});
      if (b.extrapolated) c.note = b.reason;
    } else {
      c.note = std::string(fit::to_string(b.skipped)) + (b.reason.empty() ? "" : ": " + b.reason);
    }
    out.isoflop.push_back(std::move(c));
  }
  const auto& s = r.scaling;
  if (s.n_fit.n >= 2) {
    PowerLawLine n{s.k_n.value, ci(s.a), {}}, d{s.k_d.value, ci(s.b), {}};
    for (const auto& p : s.predictions) {
      if (p.n_opt.has_interval()) n.band.push_back({p.c, p.n_opt.lo, p.n_opt.hi});
      if (p.d_opt.has_interval()) d.band.push_back({p.c, p.d_opt.lo, p.d_opt.hi});
    }
    fr.n_fit = std::move(n);
    fr.d_fit = std::move(d);
  }
  if (out.frontier) {  // keep what add_envelope put there
    fr.envelope_points = std::move(out.frontier->envelope_points);
    fr.envelope_n_fit = std::move(out.frontier->envelope_n_fit);
    fr.envelope_d_fit = std::move(out.frontier->envelope_d_fit);
  }
  out.frontier = std::move(fr);
  out.warnings.insert(out.warnings.end(), r.warnings.begin(), r.warnings.end());
}

void add_envelope(ReportData& out, const fit::EnvelopeResult& r) {
  if (!out.frontier) out.frontier = Frontier{};
  std::vector<const fit::FrontierPoint*> used;
  for (const auto& p : r.frontier)
    if (p.used) used.push_back(&p);
  const size_t step = std::max<size_t>(1, used.size() / 60);  // 1,500 samples would bury the plot
  for (size_t i = 0; i < used.size(); i += step) out.frontier->envelope_points.push_back({used[i]->c, {used[i]->n_opt}, {used[i]->d_opt}});
  const auto& s = r.scaling;
  if (s.n_fit.n >= 2) {
    out.frontier->envelope_n_fit = PowerLawLine{s.k_n.value, ci(s.a), {}};
    out.frontier->envelope_d_fit = PowerLawLine{s.k_d.value, ci(s.b), {}};
  }
}

}  // namespace scalinglab::report
