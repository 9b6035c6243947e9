#pragma once
// The predicted loss of a run of N parameters after D tokens from a fitted law
// (`scalinglab fit --json`), with the band where a single run is expected: the law's bootstrap
// replicates plus the fit's run-to-run scatter (its log residuals), built exactly as
// fit::prediction_interval builds its 95% interval, at any level.
#include <cmath>
#include <memory>

#include "scalinglab/fit/fit_json.h"

namespace scalinglab::monitor {

struct Band {
  double predicted = NAN, lo = NAN, hi = NAN;
  bool contains(double v) const { return v >= lo && v <= hi; }
};

class LawBand {
 public:
  // Throws std::invalid_argument when the law needs N and params ≤ 0, or the fit carries no
  // bootstrap replicates or residuals (a band cannot be built from a bare optimum).
  LawBand(std::shared_ptr<const fit::FittedLaw> fit, double params, double level);
  Band at(double tokens) const;
  const fit::FittedLaw& fit() const { return *fit_; }
  double params() const { return params_; }

 private:
  std::shared_ptr<const fit::FittedLaw> fit_;
  std::vector<double> log_residuals_;  // of fit_, once
  double params_, level_;
};

// Type-7 quantile (as fit::quantile) of `v` at q, by selection instead of a full sort; reorders v.
double select_quantile(std::vector<double>& v, double q);

}  // namespace scalinglab::monitor
