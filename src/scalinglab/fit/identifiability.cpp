#include "scalinglab/fit/identifiability.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/law.h"
#include "scalinglab/fit/power_law_regression.h"
#include "scalinglab/fit/problem.h"

namespace scalinglab::fit {
namespace {

// Thresholds of the rule in the header.
constexpr double kBoundShareNo = 0.10, kBoundShareWeak = 0.025;
constexpr double kRatioNo = 10, kRatioWeak = 4;
constexpr double kRelSePositiveNo = 2, kRelSePositiveWeak = 0.5;
constexpr double kRelSeSignedNo = 0.5, kRelSeSignedWeak = 0.15;
constexpr double kFarOrders = 6;  // a replicate this many orders from the estimate sits at a bound

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

struct Finding {
  Identified level = Identified::kYes;
  std::string reason;
};

int severity(Identified v) { return v == Identified::kNo ? 2 : v == Identified::kWeak ? 1 : 0; }

void worse(Finding& f, Identified level, std::string reason) {
  if (severity(level) > severity(f.level)) f = {level, std::move(reason)};
}

void set(Estimate& e, Identified v, std::string reason, const std::string& remedy) {
  e.ident.verdict = v;
  e.ident.reason = std::move(reason);
  e.ident.remedy = (v == Identified::kNo || v == Identified::kWeak) ? remedy : std::string();
}

bool at_bound(double r, double value, Scale scale) {
  if (!std::isfinite(r) || is_unbounded(r)) return true;
  if (scale != Scale::kPositive) return false;
  if (!(r > 0)) return true;
  return value > 0 && std::fabs(std::log10(r / value)) > kFarOrders;
}

}  // namespace

Scale parameter_scale(const std::string& n) {
  auto starts = [&](const char* p) { return n.rfind(p, 0) == 0; };
  if (starts("alpha") || starts("beta") || starts("gamma")) return Scale::kSigned;
  // Broken power law slopes c0, c1, ... (broken_power_law.h).
  if (n.size() >= 2 && n[0] == 'c' && std::all_of(n.begin() + 1, n.end(), [](char c) { return std::isdigit(c); }))
    return Scale::kSigned;
  return Scale::kPositive;
}

void identify(Estimate& e, const IdentSpec& spec, const BootstrapEvidence& boot) {
  if (spec.fixed) {
    e.se = 0;
    e.se_analytic = 0;
    e.lo = e.hi = e.value;
    set(e, Identified::kFixed, "held fixed at its given value (--fix)", "");
    return;
  }
  if (is_unbounded(e.value)) return set(e, Identified::kNo, "unbounded: no run tests it", spec.remedy);
  if (!std::isfinite(e.value)) return set(e, Identified::kNo, "the estimate is not finite", spec.remedy);
  if (spec.no_effect)
    return set(e, Identified::kNo, "changes no run's prediction at the optimum: no run tests it", spec.remedy);

  const int usable = boot.replicates.empty() ? (e.has_interval() ? boot.requested - boot.failed : 0)
                                             : static_cast<int>(boot.replicates.size());
  const int total = std::max(boot.requested, usable + boot.failed);
  int bad = boot.failed;
  for (double r : boot.replicates) bad += at_bound(r, e.value, spec.scale);
  if (!e.has_interval() && !(is_unbounded(e.lo) || is_unbounded(e.hi))) {
    if (total >= 2 && 2 * bad > total)
      return set(e, Identified::kNo,
                 std::to_string(bad) + " of " + std::to_string(total) + " bootstrap refits gave no usable value",
                 spec.remedy);
    return set(e, Identified::kNotAssessed, "no bootstrap interval (bootstrap off or too few refits)", "");
  }

  Finding f;
  f.reason = "bootstrap interval narrow";
  // a. refits at a bound.
  if (total > 0) {
    const double share = static_cast<double>(bad) / total;
    const std::string what = num(100 * share) + "% of bootstrap refits " +
                             (2 * boot.failed >= bad ? std::string("failed (no usable fit)")
                              : spec.scale == Scale::kPositive ? "at a bound (driven to 0 or unbounded)"
                                                               : "at a bound (not finite)");
    if (share >= kBoundShareNo) worse(f, Identified::kNo, what);
    else if (share >= kBoundShareWeak) worse(f, Identified::kWeak, what);
  }
  // b. the percentile interval.
  if (is_unbounded(e.hi) || is_unbounded(e.lo)) {
    worse(f, Identified::kNo, "95% interval unbounded: no run tests it");
  } else if (spec.scale == Scale::kPositive) {
    if (!(e.lo > 0)) {
      worse(f, Identified::kNo, "95% interval reaches 0");
    } else {
      const double ratio = e.hi / e.lo;
      if (ratio > kRatioNo)
        worse(f, Identified::kNo, "95% interval spans " + num(std::log10(ratio)) + " orders of magnitude");
      else if (ratio > kRatioWeak)
        worse(f, Identified::kWeak, "95% interval spans a factor of " + num(ratio));
    }
  } else if (e.lo <= 0 && e.hi >= 0) {
    worse(f, Identified::kNo, "95% interval [" + num(e.lo) + ", " + num(e.hi) + "] includes 0");
  }
  // c. relative SE.
  if (std::isfinite(e.se) && e.value != 0) {
    const double rel = e.se / std::fabs(e.value);
    const bool pos = spec.scale == Scale::kPositive;
    const std::string what = "relative bootstrap SE " + num(rel);
    if (rel > (pos ? kRelSePositiveNo : kRelSeSignedNo)) worse(f, Identified::kNo, what);
    else if (rel > (pos ? kRelSePositiveWeak : kRelSeSignedWeak)) worse(f, Identified::kWeak, what);
    else if (f.level == Identified::kYes) f.reason = "bootstrap interval narrow (" + what + ")";
  }
  set(e, f.level, f.reason, spec.remedy);
}

std::string remedy_for(const std::string& law, const std::string& n) {
  if (n == "R_D_star") return "runs with repeated data (several epochs, e.g. 2 to 40, at a few unique-token budgets)";
  if (n == "R_N_star") return "runs with N above N_opt(U) (more parameters than their unique data can use)";
  if (n == "E" || n == "L_inf")
    return "larger runs (wider N range upwards, more tokens per run): the floor shows only where the power-law terms "
           "have decayed";
  if (law == "chinchilla" || law == "data-constrained" || law == "kaplan-nd") {
    if (n == "A" || n == "alpha" || n == "N_c" || n == "alpha_N")
      return "a wider N range (at least 1.5 to 2 orders of magnitude of model sizes)";
    if (n == "B" || n == "beta" || n == "D_c" || n == "alpha_D")
      return "a wider range of D at each N (several tokens-per-parameter ratios, e.g. 5 to 80)";
    if (n == "a" || n == "b" || n == "G")
      return "a wider N range and more budgets (a, b and G follow from alpha, beta, A and B)";
    return "more budgets and a wider N range (the prediction inherits the parameters' uncertainty)";
  }
  return "a wider range of the law's variable (more runs spread over more orders of magnitude)";
}

void identify_fit(FittedLaw& rep, const Law& law, const std::vector<std::vector<double>>& columns,
                  const std::vector<bool>& no_effect, size_t per_compute) {
  size_t col = 0;
  auto evidence = [&](size_t j) {
    BootstrapEvidence b;
    if (j < columns.size()) b.replicates = columns[j];
    b.requested = rep.bootstrap_requested;
    b.failed = rep.bootstrap_failed;
    return b;
  };
  const auto fixed = law.fixed();
  for (size_t i = 0; i < rep.params.size(); ++i, ++col) {
    const std::string& name = i < rep.param_names.size() ? rep.param_names[i] : std::string();
    IdentSpec s;
    s.scale = parameter_scale(name);
    s.fixed = std::any_of(fixed.begin(), fixed.end(), [&](const auto& f) { return f.first == name; });
    const int ii = law.internal_index_of(i);
    s.no_effect = ii >= 0 && static_cast<size_t>(ii) < no_effect.size() && no_effect[static_cast<size_t>(ii)];
    s.remedy = remedy_for(rep.law, name);
    if (s.scale == Scale::kPositive && !(rep.params[i].value > 0) && std::isfinite(rep.params[i].value))
      s.scale = Scale::kSigned;
    identify(rep.params[i], s, evidence(col));
  }
  for (auto& d : rep.derived) {
    IdentSpec s;
    s.scale = (d.name == "a" || d.name == "b") ? Scale::kSigned : Scale::kPositive;
    s.remedy = remedy_for(rep.law, d.name);
    identify(d.estimate, s, evidence(col++));
  }
  const std::string pred_remedy = remedy_for(rep.law, "prediction");
  for (auto& c : rep.at_compute) {
    std::vector<Estimate*> q;
    if (per_compute == 4) q = {&c.n_opt, &c.d_opt, &c.tokens_per_param};
    if (per_compute >= 1) q.push_back(&c.loss);
    for (Estimate* e : q) identify(*e, {Scale::kPositive, false, false, pred_remedy}, evidence(col++));
  }
  // A prediction at a point where a parameter that no run tests does matter (e.g. N above N_opt(U)
  // with R_N* untested) rests on that parameter's arbitrary value: every refit kept it, so the
  // bootstrap interval looks narrow, but nothing determines it.
  const auto internal = law.internal_names();
  for (size_t i = 0; i < rep.at_points.size(); ++i) {
    auto& p = rep.at_points[i];
    IdentSpec s{Scale::kPositive, false, false, pred_remedy};
    std::vector<double> g(law.dim(), 0.0);
    const Run at{p.n, p.d, p.c, p.x, 1, 0, p.u};
    if (rep.theta.size() == law.dim()) law.log_predict(rep.theta.data(), log_point(at), g.data());
    std::string untested;
    for (size_t j = 0; j < g.size() && j < no_effect.size() && j < internal.size(); ++j)
      if (no_effect[j] && std::fabs(g[j]) > 1e-9) {
        s.no_effect = true;
        untested = internal[j].rfind("ln_", 0) == 0 ? internal[j].substr(3) : internal[j];
        s.remedy = remedy_for(rep.law, untested);
      }
    identify(p.loss, s, evidence(col++));
    if (s.no_effect) p.loss.ident.reason = "depends on " + untested + ", which no run tests";
  }
}

void identify_scaling(OptimalScaling& s, size_t optima, const std::string& what, const std::string& remedy) {
  BootstrapEvidence b;
  b.requested = s.bootstrap_requested;
  b.failed = s.bootstrap_requested - s.bootstrap_used;
  auto one = [&](Estimate& e, Scale scale) {
    identify(e, {scale, false, false, remedy}, b);
    if (optima < 3 && e.ident.verdict == Identified::kYes)
      set(e, Identified::kWeak,
          "a line through " + std::to_string(optima) + " " + what + ": nothing tests the power-law form", remedy);
  };
  one(s.a, Scale::kSigned);
  one(s.b, Scale::kSigned);
  one(s.k_n, Scale::kPositive);
  one(s.k_d, Scale::kPositive);
  for (auto& p : s.predictions) {
    one(p.n_opt, Scale::kPositive);
    one(p.d_opt, Scale::kPositive);
  }
}

std::string approach_remedy(int approach) {
  if (approach == 1)
    return "more model sizes whose training curves bracket the lowest loss at each compute, over a wider compute "
           "range (a wider N range)";
  return "more budgets (5 or more over 2 or more orders of magnitude of C) and more runs per budget (5 or more sizes "
         "bracketing each minimum)";
}

ExponentAgreement agreement_on_a(const std::vector<ExponentAgreement::Entry>& entries) {
  ExponentAgreement out;
  out.entries = entries;
  // An unidentified a has an interval wide enough to "agree" with anything: it takes no part.
  std::vector<const ExponentAgreement::Entry*> with;
  std::string left_out;
  for (const auto& e : out.entries) {
    if (e.a.ident.verdict == Identified::kNo)
      left_out += (left_out.empty() ? "" : ", ") + e.approach + " (a not identified: " + e.a.ident.reason + ")";
    else if (e.a.has_interval())
      with.push_back(&e);
  }
  const std::string tail = left_out.empty() ? "" : "; left out: " + left_out;
  if (with.size() < 2) {
    out.detail = "fewer than two approaches have an identified a with an interval" + tail;
    return out;
  }
  std::string disagree;
  for (size_t i = 0; i < with.size(); ++i)
    for (size_t j = i + 1; j < with.size(); ++j) {
      const Estimate &x = with[i]->a, &y = with[j]->a;
      if (x.hi < y.lo || y.hi < x.lo)
        disagree += (disagree.empty() ? "" : "; ") + with[i]->approach + " [" + num(x.lo) + ", " + num(x.hi) + "] and " +
                    with[j]->approach + " [" + num(y.lo) + ", " + num(y.hi) + "] do not overlap";
    }
  out.verdict = disagree.empty() ? "agree" : "disagree";
  if (disagree.empty()) {
    out.detail = "the 95% intervals of";
    for (const auto* e : with) out.detail += " " + e->approach;
    out.detail += " overlap pairwise";
  } else {
    out.detail = disagree;
  }
  out.detail += tail;
  return out;
}

}  // namespace scalinglab::fit
