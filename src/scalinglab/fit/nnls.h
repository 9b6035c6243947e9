#pragma once
// Non-negative least squares min ||W(Φc − y)||² s.t. c ≥ 0 for the handful of coefficients of a
// scaling law (E, A, B). With k ≤ 6 columns every active set can be tried (2^k small solves),
// which is exact and simpler than Lawson–Hanson's iterations.
#include <Eigen/Core>

namespace scalinglab::fit {

struct NnlsResult {
  Eigen::VectorXd coefficients;
  double rss = 0;  // weighted residual sum of squares
};

// phi: n×k design matrix, y: n targets, w: n weights (multiplying the residuals, may be empty).
NnlsResult nnls(const Eigen::MatrixXd& phi, const Eigen::VectorXd& y, const Eigen::VectorXd& w);

}  // namespace scalinglab::fit
