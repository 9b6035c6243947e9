#include "scalinglab/fit/compare_laws.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace scalinglab::fit {

LawComparison compare_laws(const Dataset& data, const CompareOptions& o) {
  LawComparison out;
  for (const auto& name : o.laws) {
    try {
      LawOptions lo{o.irreducible, {}};
      const auto names = make_law(name, lo)->param_names();
      for (const auto& f : o.fixed)
        if (std::find(names.begin(), names.end(), f.first) != names.end()) lo.fixed.push_back(f);
      if (name == "data-constrained") {
        DataConstrainedFit dc = fit_data_constrained(data, o.fit, {o.procedure, lo.fixed});
        ComparedLaw c{name, dc.report};
        c.data_constrained = std::move(dc);
        out.laws.push_back(std::move(c));
      } else {
        out.laws.push_back({name, fit(std::shared_ptr<const Law>(make_law(name, lo)), data, o.fit)});
      }
    } catch (const std::invalid_argument& e) {
      out.skipped.emplace_back(name, e.what());
    }
  }
  if (out.laws.empty()) throw std::invalid_argument("laws: none of the laws could be fitted to " + data.source);
  out.best_aic = INFINITY;
  for (const auto& l : out.laws) out.best_aic = std::min(out.best_aic, l.fit.quality.aic);
  std::vector<size_t> order(out.laws.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return out.laws[a].fit.quality.aic < out.laws[b].fit.quality.aic; });
  for (size_t r = 0; r < order.size(); ++r) {
    auto& l = out.laws[order[r]];
    l.rank = static_cast<int>(r) + 1;
    l.delta_aic = l.fit.quality.aic - out.best_aic;
  }
  return out;
}

}  // namespace scalinglab::fit
