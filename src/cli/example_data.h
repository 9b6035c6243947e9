#pragma once
// The bundled example: runs drawn from Besiroglu et al. 2024's refit of Chinchilla
// (E = 1.8172, A = 482.01, B = 2085.43, α = 0.3478, β = 0.3658) on an IsoFLOP design of nine
// budgets from 1e17 to 1e21 FLOPs, with 1.5% log-normal noise. data/examples/chinchilla_synthetic.csv
// is this exact table (a test keeps the two identical).
#include <string>

#include "scalinglab/fit/synthetic.h"

namespace scalinglab::cli {

inline fit::ChinchillaParams example_truth() { return {1.8172, 482.01, 2085.43, 0.3478, 0.3658}; }

inline fit::SyntheticDesign example_design() {
  fit::SyntheticDesign d;
  d.kind = fit::SyntheticDesign::Kind::kIsoFlop;
  d.c_min = 1e17;
  d.c_max = 1e21;
  d.budgets = 9;
  d.per_budget = 9;
  d.n_span = 6;
  d.noise = 0.015;
  d.seed = 2024;
  return d;
}

std::string synthetic_csv(const fit::ChinchillaParams& truth, const fit::SyntheticDesign& design);

}  // namespace scalinglab::cli
