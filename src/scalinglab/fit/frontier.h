#pragma once
// Compute-optimal allocation for L = E + A/N^α + B/D^β under C = 6ND (Hoffmann et al. 2022, eq. 4):
//   N_opt(C) = G·(C/6)^a,  D_opt(C) = G^−1·(C/6)^b,  G = (αA/(βB))^(1/(α+β)),  a = β/(α+β), b = α/(α+β).
#include <vector>

#include "scalinglab/fit/law.h"
#include "scalinglab/fit/synthetic.h"

namespace scalinglab::fit {

// E, A, B, α, β of the registry's "chinchilla" law at θ (its to_public order).
ChinchillaParams chinchilla_params(const Law& law, const std::vector<double>& theta);

double chinchilla_G(const ChinchillaParams& p);
double chinchilla_a(const ChinchillaParams& p);  // N_opt ∝ C^a
double chinchilla_b(const ChinchillaParams& p);  // D_opt ∝ C^b
double chinchilla_n_opt(const ChinchillaParams& p, double compute);
double chinchilla_d_opt(const ChinchillaParams& p, double compute);
double chinchilla_loss_opt(const ChinchillaParams& p, double compute);  // L at (N_opt, D_opt)
// The least compute whose optimal loss reaches `target`: L*(C) − E = (A·G^−α + B·G^β)·(C/6)^(−αβ/(α+β))
// solved for C. NaN at or below the irreducible loss E.
double chinchilla_compute_for_loss(const ChinchillaParams& p, double target);

}  // namespace scalinglab::fit
