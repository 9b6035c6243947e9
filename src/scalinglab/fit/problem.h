#pragma once
// The data of a fit in the form the optimiser wants: logs of the law's variables and of the
// loss, plus per-run weights (bootstrap resamples are integer multiplicities, no copies).
#include <vector>

#include "scalinglab/fit/dataset.h"
#include "scalinglab/fit/law.h"

namespace scalinglab::fit {

struct Problem {
  std::vector<LogPoint> x;
  std::vector<double> log_loss;
  size_t size() const { return x.size(); }
};

// Throws std::invalid_argument when the dataset lacks a variable the law needs.
Problem make_problem(const Law& law, const Dataset& data);
LogPoint log_point(const Run& run);

}  // namespace scalinglab::fit
