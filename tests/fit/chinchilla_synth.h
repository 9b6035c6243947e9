#pragma once
// Synthetic data from the Chinchilla parametric loss L(N, D) = E + A/N^α + B/D^β with the
// values fitted by Hoffmann et al. 2022 (arXiv:2203.15556, §3.3 and eq. 10), shared by the
// approach 1 and 2 tests. With C = 6ND the loss-optimal allocation is (their eq. 4)
//   N_opt(C) = G·(C/6)^a,  D_opt(C) = G⁻¹·(C/6)^b,  G = (αA/(βB))^{1/(α+β)},
//   a = β/(α+β),  b = α/(α+β).
#include <cmath>

namespace chinchilla {

constexpr double kE = 1.69, kA = 406.4, kB = 410.7, kAlpha = 0.34, kBeta = 0.28;
constexpr double kA_exp = kBeta / (kAlpha + kBeta);  // ≈ 0.4516
constexpr double kB_exp = kAlpha / (kAlpha + kBeta);  // ≈ 0.5484

inline double loss(double n, double d) { return kE + kA / std::pow(n, kAlpha) + kB / std::pow(d, kBeta); }
inline double g() { return std::pow(kAlpha * kA / (kBeta * kB), 1.0 / (kAlpha + kBeta)); }
inline double n_opt(double c) { return g() * std::pow(c / 6.0, kA_exp); }
inline double d_opt(double c) { return std::pow(c / 6.0, kB_exp) / g(); }

}  // namespace chinchilla
