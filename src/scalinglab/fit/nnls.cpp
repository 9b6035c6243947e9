#include "scalinglab/fit/nnls.h"

#include <Eigen/Dense>
#include <limits>
#include <stdexcept>

namespace scalinglab::fit {

NnlsResult nnls(const Eigen::MatrixXd& phi, const Eigen::VectorXd& y, const Eigen::VectorXd& w) {
  const int k = static_cast<int>(phi.cols());
  if (k > 6) throw std::invalid_argument("nnls: at most 6 coefficients");
  Eigen::MatrixXd a = phi;
  Eigen::VectorXd b = y;
  if (w.size() > 0) {
    a = w.asDiagonal() * phi;
    b = w.cwiseProduct(y);
  }
  NnlsResult best;
  best.coefficients = Eigen::VectorXd::Zero(k);
  best.rss = b.squaredNorm();  // the empty set: all coefficients zero
  for (unsigned mask = 1; mask < (1u << k); ++mask) {
    std::vector<int> cols;
    for (int j = 0; j < k; ++j)
      if (mask & (1u << j)) cols.push_back(j);
    Eigen::MatrixXd sub(a.rows(), static_cast<long>(cols.size()));
    for (size_t j = 0; j < cols.size(); ++j) sub.col(static_cast<long>(j)) = a.col(cols[j]);
    Eigen::VectorXd c = sub.colPivHouseholderQr().solve(b);
    if (!c.allFinite() || (c.array() < 0).any()) continue;
    double rss = (sub * c - b).squaredNorm();
    if (rss < best.rss) {
      best.rss = rss;
      best.coefficients.setZero();
      for (size_t j = 0; j < cols.size(); ++j) best.coefficients[cols[j]] = c[static_cast<long>(j)];
    }
  }
  return best;
}

}  // namespace scalinglab::fit
