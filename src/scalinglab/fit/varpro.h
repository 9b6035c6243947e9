#pragma once
// Variable projection for separable laws (Golub & Pereyra 1973; applied to Chinchilla's form as
// "VPNLS" by the Open-Athena scaling-law analysis): for fixed exponents (α, β) the loss is linear
// in (E, A, B) ≥ 0, solved exactly by NNLS; only the exponents are searched (a 2-D problem that is
// far better conditioned than the 5-D one). Residuals are relative, (L̂ − L)/L, so that the fit is
// comparable to a least-squares fit of log loss.
//
// That search minimises relative least squares, not the Huber objective every fit reports (on
// Chinchilla's published points it stopped at Huber 0.001085 where L-BFGS reaches 0.001018, with
// different α, β). So its optimum is only the start of a local solve of the stated objective with
// all parameters free (trust-region Newton for chinchilla, else L-BFGS): `--method varpro` is
// "variable projection to find the basin, then the Huber optimum in it".
#include <vector>

#include "scalinglab/fit/lbfgs.h"
#include "scalinglab/fit/law.h"
#include "scalinglab/fit/problem.h"

namespace scalinglab::fit {

struct VarProOptions {
  double exponent_min = 0.01, exponent_max = 2.5;
  int grid = 40;  // grid points per exponent for the global search before local refinement
  std::vector<double> start_exponents;  // optional extra local start (e.g. a previous optimum)
  bool polish = true;  // finish with the local Huber solve (false: the relative-LS optimum itself)
};

// Returns the optimum in the law's θ; `objective` holds the Huber objective of that θ (so both
// methods report the same quantity); status, gradient norm and iterations are the polish's
// (without polish: status tells how the exponent search ended).
Optimum fit_varpro(const Law& law, const Problem& problem, const std::vector<double>* weights, double huber_delta,
                   const VarProOptions& options = {});

// Weighted relative RSS at the NNLS optimum for the given exponents; fills coefficients.
double varpro_rss(const Law& law, const Problem& problem, const std::vector<double>* weights,
                  const double* exponents, std::vector<double>* coefficients);

}  // namespace scalinglab::fit
