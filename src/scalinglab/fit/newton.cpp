#include "scalinglab/fit/newton.h"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <limits>

namespace scalinglab::fit {

std::optional<LseHuber> LseHuber::make(const HuberObjective& objective) {
  const LseForm* form = objective.law().lse_form();
  // Chinchilla's shape only (two terms and E), the one the fast path is tested on against the
  // full L-BFGS grid; the single-term laws keep L-BFGS (their grids are small, and where E is
  // unidentified the point L-BFGS stops at is part of their reported behaviour).
  if (!form || form->terms.size() != 2 || form->e < 0) return std::nullopt;
  LseHuber k;
  k.objective_ = &objective;
  k.dim_ = static_cast<int>(objective.law().dim());
  k.delta_ = objective.delta();
  k.scale_ = objective.scale();
  const Problem& p = objective.problem();
  const std::vector<double>* w = objective.weights();
  long n = 0;
  for (size_t i = 0; i < p.size(); ++i) n += (!w || (*w)[i] != 0) ? 1 : 0;
  for (const auto& t : form->terms) {
    k.coef_[k.terms_] = t.coef;
    k.exponent_[k.terms_] = t.exponent;
    k.logx_[k.terms_].resize(n);
    ++k.terms_;
  }
  if (form->e >= 0) k.coef_[k.terms_++] = form->e;
  k.y_.resize(n);
  k.w_.resize(n);
  long j = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double wi = w ? (*w)[i] : 1.0;
    if (wi == 0) continue;
    for (size_t t = 0; t < form->terms.size(); ++t) k.logx_[t][j] = p.x[i].get(form->terms[t].variable);
    k.y_[j] = p.log_loss[i];
    k.w_[j] = wi;
    ++j;
  }
  return k;
}

double LseHuber::eval(const Vec& theta, Vec& g, Mat* H, Mat* K, Workspace& ws) const {
  const long n = y_.size();
  if (!theta.allFinite()) return std::numeric_limits<double>::infinity();
  for (int t = 0; t < terms_; ++t) {
    if (exponent_[t] >= 0)
      ws.z[t] = theta[coef_[t]] - theta[exponent_[t]] * logx_[t];
    else
      ws.z[t].setConstant(n, theta[coef_[t]]);
  }
  ws.zmax = ws.z[0];
  for (int t = 1; t < terms_; ++t) ws.zmax = ws.zmax.max(ws.z[t]);
  ws.sum.setZero(n);
  for (int t = 0; t < terms_; ++t) {
    ws.u[t] = (ws.z[t] - ws.zmax).exp();
    ws.sum += ws.u[t];
  }
  ws.r = ws.zmax + ws.sum.log() - y_;
  for (int t = 0; t < terms_; ++t) ws.u[t] /= ws.sum;  // softmax weights ∂LSE/∂z_t
  const double d = delta_;
  // Huber: ½r² inside |r| ≤ δ, δ(|r| − δ/2) outside; ρ' = clip(r, ±δ); ρ'' = 1 inside, 0 outside.
  ws.q = ws.r.abs();
  const double f = scale_ * (w_ * (ws.q <= d).select(0.5 * ws.r.square(), d * (ws.q - 0.5 * d))).sum();
  if (!std::isfinite(f)) return std::numeric_limits<double>::infinity();
  ws.rho2 = (ws.q <= d).select(w_, 0.0);
  ws.inside = (ws.q <= d).count();
  ws.kink = (ws.q <= d).select(0.0, w_ * d / ws.q);
  ws.rho1 = w_ * ws.r.max(-d).min(d);
  g.setZero(dim_);
  for (int t = 0; t < terms_; ++t) {
    ws.q = ws.rho1 * ws.u[t];
    g[coef_[t]] += scale_ * ws.q.sum();
    if (exponent_[t] >= 0) g[exponent_[t]] -= scale_ * (ws.q * logx_[t]).sum();
  }
  if (!H) return f;
  // ∇²Σρ = Σ Jᵀ Q J with Q = ρ'·diag(w) + (ρ'' − ρ')·w wᵀ (z's are linear in θ, so no other term).
  H->setZero(dim_, dim_);
  K->setZero(dim_, dim_);
  ws.rho2 -= ws.rho1;
  for (int p = 0; p < terms_; ++p)
    for (int q = p; q < terms_; ++q) {
      ws.qk = ws.u[p] * ws.u[q];
      ws.q = ws.rho2 * ws.qk;
      if (p == q) ws.q += ws.rho1 * ws.u[p];
      ws.qk *= ws.kink;
      const int cp = coef_[p], cq = coef_[q], xp = exponent_[p], xq = exponent_[q];
      // Entries of this (p, q) block; for p < q the mirrored block (q, p) gets the transpose.
      auto add = [&](Mat& m, int i, int j, double v) {
        m(i, j) += v;
        if (p != q) m(j, i) += v;
      };
      for (int which = 0; which < 2; ++which) {
        Mat& m = which == 0 ? *H : *K;
        const Eigen::ArrayXd& c = which == 0 ? ws.q : ws.qk;
        add(m, cp, cq, c.sum());
        if (xq >= 0) add(m, cp, xq, -(c * logx_[q]).sum());
        if (xp >= 0) add(m, xp, cq, -(c * logx_[p]).sum());
        if (xp >= 0 && xq >= 0) add(m, xp, xq, (c * logx_[p] * logx_[q]).sum());
      }
    }
  *H *= scale_;
  *K *= scale_;
  return f;
}

namespace {

// Approximate solution of min gᵀp + ½pᵀHp subject to ‖p‖ ≤ radius (Moré & Sorensen 1983):
// the Newton step when H is positive definite and the step fits, else p(λ) = −(H + λI)⁻¹g with
// λ found by safeguarded Newton iteration on ‖p(λ)‖ = radius (to 10%).
using Vec = LseHuber::Vec;
using Mat = LseHuber::Mat;

Vec trust_step(const Mat& H, const Vec& g, double radius) {
  const long k = g.size();
  Eigen::LLT<Mat> llt(H);
  Vec p;
  if (llt.info() == Eigen::Success) {
    p = llt.solve(-g);
    if (p.allFinite() && p.norm() <= radius) return p;
  }
  const Mat I = Mat::Identity(k, k);
  double lo = std::max(0.0, -H.diagonal().minCoeff());
  double hi = g.norm() / radius + H.cwiseAbs().rowwise().sum().maxCoeff();  // ‖p(hi)‖ ≤ radius
  double lambda = lo > 0 ? std::max(lo * 1.0001, std::sqrt(lo * hi)) : 1e-6 * hi;
  Vec best;  // last step inside the region
  for (int it = 0; it < 40; ++it) {
    llt.compute(H + lambda * I);
    if (llt.info() != Eigen::Success) {
      lo = lambda;
      lambda = std::max(std::sqrt(lo * hi), lo + 0.01 * (hi - lo));
      continue;
    }
    p = llt.solve(-g);
    const double pn = p.norm();
    if (std::fabs(pn - radius) <= 0.1 * radius) return p;
    if (pn < radius) {
      hi = lambda;
      best = p;
    } else {
      lo = lambda;
    }
    const Vec q = llt.matrixL().solve(p);
    double next = lambda + (pn / q.norm()) * (pn / q.norm()) * (pn - radius) / radius;
    if (!(next > lo && next < hi)) next = lo > 0 ? std::sqrt(lo * hi) : 0.5 * (lo + hi);
    lambda = next;
  }
  if (best.size() == k) return best;
  return -g * (radius / std::max(g.norm(), 1e-300));  // steepest descent to the boundary
}

}  // namespace

Optimum minimize_newton(const LseHuber& f, const std::vector<double>& start, const SolverOptions& options,
                        LseHuber::Workspace& ws) {
  const int k = f.dim();
  Optimum out;
  out.newton = true;
  Vec x = Eigen::Map<const Eigen::VectorXd>(start.data(), k), g(k), gn(k), xn(k);
  Mat H(k, k), Hn(k, k), K(k, k), Kn(k, k);
  double fx = f.eval(x, g, &H, &K, ws);
  long inside = ws.inside;
  bool settled = false;  // the inside set did not change over the last accepted step: exact H
  if (!std::isfinite(fx)) {
    out.status = SolverStatus::kNonFinite;
    out.theta = start;
    out.objective = out.gradient_norm = std::numeric_limits<double>::infinity();
    return out;
  }
  double radius = 1.0;
  out.status = SolverStatus::kMaxIterations;
  int it = 0;
  for (; it < options.max_iterations; ++it) {
    const double gnorm = g.norm();
    if (gnorm <= options.gradient_tolerance) {
      out.status = SolverStatus::kGradient;
      break;
    }
    const Mat M = settled ? H : Mat(H + K);
    const Vec p = trust_step(M, g, radius);
    const double pnorm = p.norm();
    const double predicted = -(g.dot(p) + 0.5 * p.dot(M * p));
    xn = x + p;
    const double fn = f.eval(xn, gn, &Hn, &Kn, ws);
    // Below this the change of f is rounding: Σ over points of O(|f|) terms.
    const double noise = 1e-13 * std::max(1.0, std::fabs(fx));
    const double actual = fx - fn;
    bool accept = false;
    double ratio = 1;
    if (std::isfinite(fn)) {
      if (predicted > noise) {
        ratio = actual / predicted;
        accept = ratio >= 1e-4;
      } else {
        // The model's decrease is below rounding: a step that does not raise f beyond rounding
        // and lowers the gradient is progress (Newton's endgame).
        accept = actual >= -noise && gn.norm() < gnorm;
      }
    }
    if (accept) {
      // The count stands in for the set (cheap; a change of the set almost always changes it).
      // Fewer inside points than parameters: the exact Hessian lacks the curvature to trust.
      settled = ws.inside == inside && ws.inside >= k;
      inside = ws.inside;
      x.swap(xn);
      g.swap(gn);
      H.swap(Hn);
      K.swap(Kn);
      fx = fn;
      if (ratio > 0.75 && pnorm > 0.99 * radius) radius = std::min(2 * radius, 1e3);
      else if (ratio < 0.25) radius = 0.25 * pnorm;
    } else {
      radius = 0.25 * pnorm;
      settled = false;
    }
    if (radius <= 1e-14 * (1 + x.norm())) {
      out.status = SolverStatus::kStalled;
      ++it;
      break;
    }
  }
  out.iterations = it;
  out.theta.assign(x.data(), x.data() + k);
  out.objective = fx / f.objective().scale();  // unscaled; vectorised summation order
  out.gradient_norm = g.norm();
  return out;
}

}  // namespace scalinglab::fit
