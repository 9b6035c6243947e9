#include "scalinglab/plan/planner.h"

#include <array>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "scalinglab/plan/optimum.h"

namespace scalinglab::plan {

std::vector<std::string> preset_law_names() { return {"chinchilla", "epoch"}; }

fit::ChinchillaParams preset_law(const std::string& name) {
  if (name != "chinchilla" && name != "epoch")
    throw std::invalid_argument("unknown law preset '" + name + "' (known: chinchilla, epoch, or a fit JSON file)");
  return preset_surface(name).chinchilla;
}

void limit_unique_tokens(PlanLaw& law, const DataConstraint& dc) {
  if (law.point.form != Surface::Form::kChinchilla)
    throw std::invalid_argument(
        "--unique-tokens needs a law of the Chinchilla form (E + A/N^alpha + B/D^beta): Muennighoff et al. 2023 define "
        "the repeated-parameter term through its compute-optimal N");
  law.point.data = dc;
  for (auto& r : law.replicates) r.data = dc;
}

Allocation optimal_allocation(const PlanLaw& law, double c) {
  auto one = [c](const Surface& s) {
    const Optimum o = optimum(s, c);
    return std::array<double, 4>{o.n, o.d, o.d / o.n, o.loss};
  };
  auto v = one(law.point);
  std::array<std::vector<double>, 4> reps;
  for (const auto& r : law.replicates) {
    auto x = one(r);
    for (size_t i = 0; i < 4; ++i) reps[i].push_back(x[i]);
  }
  Allocation a;
  a.compute = c;
  a.n = fit::summarize(v[0], reps[0]);
  a.d = fit::summarize(v[1], reps[1]);
  a.tokens_per_param = fit::summarize(v[2], reps[2]);
  a.loss = fit::summarize(v[3], reps[3]);
  return a;
}

double compute_for_loss(const Surface& s, double target) { return min_compute_for_loss(s, target); }

fit::Estimate compute_for_loss(const PlanLaw& law, double target) {
  std::vector<double> reps;
  for (const auto& r : law.replicates) reps.push_back(min_compute_for_loss(r, target));
  return fit::summarize(min_compute_for_loss(law.point, target), reps);
}

FixedSize fixed_size(const Surface& s, double n, double c) {
  FixedSize f;
  f.n = n;
  f.d = c / (6.0 * n);
  f.loss = s.loss(n, f.d);
  f.optimal_loss = optimum(s, c).loss;
  f.loss_penalty = f.loss - f.optimal_loss;
  f.compute_overhead = c / min_compute_for_loss(s, f.loss) - 1.0;
  return f;
}

std::vector<Allocation> frontier(const PlanLaw& law, double c_min, double c_max, int points) {
  std::vector<Allocation> out;
  for (int i = 0; i < points; ++i) {
    const double t = points == 1 ? 0.0 : double(i) / (points - 1);
    out.push_back(optimal_allocation(law, c_min * std::pow(c_max / c_min, t)));
  }
  return out;
}

namespace {
std::string sci(double v) {
  std::ostringstream s;
  s.precision(2);
  s << std::scientific << v;
  return s.str();
}
}  // namespace

std::vector<std::string> plan_warnings(const PlanLaw& law, double c, double n, double d) {
  std::vector<std::string> w;
  fit::DataRange range = law.range;
  if (!std::isfinite(range.c.max) && law.fitted_c_max > 0) range.c.max = law.fitted_c_max;
  if (auto x = fit::extrapolation_warning(c, range, "the plan")) w.push_back(*x);
  const auto& rn = range.n;
  if (std::isfinite(rn.min) && std::isfinite(rn.max) && std::isfinite(n) && (n < rn.min || n > rn.max))
    w.push_back("the plan's N = " + sci(n) + " is outside the fitted range of N [" + sci(rn.min) + ", " + sci(rn.max) +
                "]");
  const auto& rt = range.tokens_per_param;
  const double tpp = d / n;
  if (std::isfinite(rt.min) && std::isfinite(rt.max) && std::isfinite(tpp) && (tpp < rt.min || tpp > rt.max))
    w.push_back("the plan's D/N = " + sci(tpp) + " tokens per parameter is outside the fitted range [" + sci(rt.min) +
                ", " + sci(rt.max) + "] (laws fitted at typical ratios misjudge extreme ones: Sardana et al. 2024)");
  return w;
}

}  // namespace scalinglab::plan
