#include "scalinglab/emergence/logistic.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "scalinglab/fit/estimate.h"
#include "scalinglab/model/rng.h"
#include "scalinglab/monitor/student_t.h"

namespace scalinglab::emergence {

double Logistic::operator()(double t) const {
  if (!(k > 0) || !std::isfinite(x0)) return floor;
  return floor + (ceiling - floor) / (1 + std::exp(-k * (t - x0)));
}

double LogisticFit::rise_width() const { return p.k > 0 ? 2 * std::log(9.0) / p.k : INFINITY; }

const char* to_string(BootstrapKind k) { return k == BootstrapKind::kCases ? "cases" : "residuals"; }

BootstrapKind bootstrap_kind_from(const std::string& text, const std::string& field) {
  if (text == "residuals") return BootstrapKind::kResiduals;
  if (text == "cases") return BootstrapKind::kCases;
  throw std::invalid_argument(field + ": expected 'residuals' or 'cases', got '" + text + "'");
}

namespace {

constexpr int kMinPoints = 4;
// Bootstrap refits: a coarse grid (a replicate's optimum is usually in the full-data basin, which
// the warm start covers) and a looser simplex tolerance (1e-5 decades is far below any interval
// width) — most of the analysis time is here.
constexpr int kBootGridX0 = 9, kBootGridK = 7;
constexpr double kBootTolerance = 1e-5;

struct Box {
  double x0_lo, x0_hi, u_lo, u_hi;  // u = ln k
  double lo, hi;                    // floor/ceiling
};

// The variable-projection profile: for (x0, u) the best bounded (floor, ceiling) and the SSE.
class Profile {
 public:
  Profile(std::span<const double> t, std::span<const double> y, const Box& box)
      : t_(t), y_(y), box_(box), s_(t.size()) {}

  double sse(double x0, double u, double* floor = nullptr, double* ceiling = nullptr) const {
    const double k = std::exp(u);
    const size_t n = t_.size();
    double saa = 0, sab = 0, sbb = 0, say = 0, sby = 0, sy = 0;
    for (size_t i = 0; i < n; ++i) {
      const double s = 1 / (1 + std::exp(-k * (t_[i] - x0)));
      s_[i] = s;
      const double a = 1 - s;
      saa += a * a, sab += a * s, sbb += s * s, say += a * y_[i], sby += s * y_[i], sy += y_[i];
    }
    auto clamp = [&](double v) { return std::min(box_.hi, std::max(box_.lo, v)); };
    auto cost = [&](double f, double c) {
      double r2 = 0;
      for (size_t i = 0; i < n; ++i) {
        const double r = y_[i] - f - (c - f) * s_[i];
        r2 += r * r;
      }
      return r2;
    };
    double best_f = NAN, best_c = NAN, best = INFINITY;
    auto consider = [&](double f, double c) {
      const double v = cost(f, c);
      if (v < best) best = v, best_f = f, best_c = c;
    };
    const double det = saa * sbb - sab * sab;
    bool interior = false;
    if (det > 1e-12 * saa * sbb && saa > 0 && sbb > 0) {
      const double f = (say * sbb - sby * sab) / det, c = (sby * saa - say * sab) / det;
      if (f >= box_.lo && f <= box_.hi && c >= box_.lo && c <= box_.hi) consider(f, c), interior = true;
    } else {
      // Collinear columns (every s equal): only the mean is determined.
      const double m = clamp(sy / static_cast<double>(n));
      consider(m, m);
      interior = true;
    }
    if (!interior) {
      // A convex quadratic whose unconstrained minimum is outside the box: the optimum is on an
      // edge, where the other coordinate's 1-D minimiser is clipped.
      for (double f : {box_.lo, box_.hi}) consider(f, sbb > 0 ? clamp((sby - f * sab) / sbb) : f);
      for (double c : {box_.lo, box_.hi}) consider(saa > 0 ? clamp((say - c * sab) / saa) : c, c);
    }
    if (floor) *floor = best_f;
    if (ceiling) *ceiling = best_c;
    return best;
  }

  const Box& box() const { return box_; }

 private:
  std::span<const double> t_, y_;
  Box box_;
  mutable std::vector<double> s_;
};

struct Point2 {
  double x0, u, f;
};

// Nelder–Mead in (x0, u), every vertex clipped into the box. Standard coefficients
// (reflection 1, expansion 2, contraction 1/2, shrink 1/2).
Point2 nelder_mead(const Profile& prof, double x0, double u, double dx, double du, double tol) {
  const Box& b = prof.box();
  auto clip = [&](Point2 p) {
    p.x0 = std::min(b.x0_hi, std::max(b.x0_lo, p.x0));
    p.u = std::min(b.u_hi, std::max(b.u_lo, p.u));
    p.f = prof.sse(p.x0, p.u);
    return p;
  };
  std::array<Point2, 3> s = {clip({x0, u, 0}), clip({x0 + dx, u, 0}), clip({x0, u + du, 0})};
  // A start on the box edge can give a degenerate simplex; step inwards instead.
  if (s[1].x0 == s[0].x0) s[1] = clip({x0 - dx, u, 0});
  if (s[2].u == s[0].u) s[2] = clip({x0, u - du, 0});
  for (int it = 0; it < 400; ++it) {
    std::sort(s.begin(), s.end(), [](const Point2& a, const Point2& c) { return a.f < c.f; });
    const double spread = std::max({std::fabs(s[1].x0 - s[0].x0), std::fabs(s[2].x0 - s[0].x0),
                                    std::fabs(s[1].u - s[0].u), std::fabs(s[2].u - s[0].u)});
    if (spread < tol || s[2].f - s[0].f <= 1e-15 * s[0].f + 1e-300) break;
    const double cx = 0.5 * (s[0].x0 + s[1].x0), cu = 0.5 * (s[0].u + s[1].u);
    auto along = [&](double a) { return clip({cx + a * (s[2].x0 - cx), cu + a * (s[2].u - cu), 0}); };
    Point2 r = along(-1);
    if (r.f < s[0].f) {
      Point2 e = along(-2);
      s[2] = e.f < r.f ? e : r;
    } else if (r.f < s[1].f) {
      s[2] = r;
    } else {
      Point2 c = r.f < s[2].f ? along(-0.5) : along(0.5);
      if (c.f < std::min(r.f, s[2].f)) {
        s[2] = c;
      } else {
        for (int i = 1; i < 3; ++i) s[i] = clip({0.5 * (s[0].x0 + s[i].x0), 0.5 * (s[0].u + s[i].u), 0});
      }
    }
  }
  std::sort(s.begin(), s.end(), [](const Point2& a, const Point2& c) { return a.f < c.f; });
  return s[0];
}

// Grid search over the box, then Nelder–Mead from the `starts` best cells that are not grid
// neighbours of a better chosen one, and from `extra` (a warm start); the best result.
Point2 search(const Profile& prof, int gx, int gu, int starts, const Point2* extra, double tol) {
  const Box& b = prof.box();
  const double dx = (b.x0_hi - b.x0_lo) / (gx - 1), du = (b.u_hi - b.u_lo) / (gu - 1);
  std::vector<Point2> cells;
  cells.reserve(static_cast<size_t>(gx * gu));
  for (int i = 0; i < gx; ++i)
    for (int j = 0; j < gu; ++j) {
      const double x0 = b.x0_lo + i * dx, u = b.u_lo + j * du;
      cells.push_back({x0, u, prof.sse(x0, u)});
    }
  // The best cell, then the best not a grid neighbour of one already chosen, … (a scan per start:
  // the same choice as walking the cells sorted by SSE, first index winning ties).
  std::vector<size_t> chosen;
  while (static_cast<int>(chosen.size()) < starts) {
    size_t pick = cells.size();
    for (size_t idx = 0; idx < cells.size(); ++idx) {
      if (pick < cells.size() && !(cells[idx].f < cells[pick].f)) continue;
      const int i = static_cast<int>(idx) / gu, j = static_cast<int>(idx) % gu;
      bool near = false;
      for (size_t c : chosen) {
        const int ci = static_cast<int>(c) / gu, cj = static_cast<int>(c) % gu;
        if (std::abs(ci - i) <= 1 && std::abs(cj - j) <= 1) near = true;
      }
      if (!near) pick = idx;
    }
    if (pick == cells.size()) break;
    chosen.push_back(pick);
  }
  Point2 best{NAN, NAN, INFINITY};
  for (size_t c : chosen) {
    Point2 p = nelder_mead(prof, cells[c].x0, cells[c].u, 0.5 * dx, 0.5 * du, tol);
    if (p.f < best.f) best = p;
  }
  if (extra && std::isfinite(extra->x0)) {
    Point2 p = nelder_mead(prof, extra->x0, extra->u, 0.25 * dx, 0.25 * du, tol);
    if (p.f < best.f) best = p;
  }
  return best;
}

// Leverages h_ii of the linearised fit, J (JᵀJ)⁺ Jᵀ, over the parameters not at a bound of the
// box (a parameter held at a bound does not adapt to the data). J in (floor, ceiling, x0, k).
struct Leverage {
  std::vector<double> h;
  int rank = 0;  // parameters the data determine (free and linearly independent)
};
Leverage leverages(std::span<const double> t, const Logistic& p, const Box& box) {
  const size_t n = t.size();
  const double tol = 1e-9 * std::max(1.0, box.hi - box.lo);
  std::vector<int> cols;
  if (p.floor > box.lo + tol && p.floor < box.hi - tol) cols.push_back(0);
  if (p.ceiling > box.lo + tol && p.ceiling < box.hi - tol) cols.push_back(1);
  const double u = std::log(p.k);
  const bool k_free = u > box.u_lo + 1e-6 && u < box.u_hi - 1e-6;
  if (p.x0 > box.x0_lo && p.x0 < box.x0_hi) cols.push_back(2);
  if (k_free) cols.push_back(3);
  Leverage out;
  out.h.assign(n, 0.0);
  std::vector<std::vector<double>> q;  // orthonormal basis of J's column space
  for (int c : cols) {
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i) {
      const double sg = 1 / (1 + std::exp(-p.k * (t[i] - p.x0))), d = (p.ceiling - p.floor) * sg * (1 - sg);
      const double all[4] = {1 - sg, sg, -p.k * d, (t[i] - p.x0) * d};
      v[i] = all[c];
    }
    double norm0 = 0;
    for (double x : v) norm0 += x * x;
    // Modified Gram–Schmidt, twice for stability; a column (nearly) in the span of the previous
    // ones adds nothing (rank-revealing).
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& b : q) {
        double dot = 0;
        for (size_t i = 0; i < n; ++i) dot += b[i] * v[i];
        for (size_t i = 0; i < n; ++i) v[i] -= dot * b[i];
      }
    double norm = 0;
    for (double x : v) norm += x * x;
    if (!(norm > 1e-20 * norm0) || !(norm > 0)) continue;
    for (double& x : v) x /= std::sqrt(norm);
    q.push_back(std::move(v));
  }
  for (const auto& b : q)
    for (size_t i = 0; i < n; ++i) out.h[i] += b[i] * b[i];
  out.rank = static_cast<int>(q.size());
  return out;
}

struct Core {
  bool flat = false;
  Logistic p;
  double sse = 0;
  double u = 0;
};

Core fit_core(std::span<const double> t, std::span<const double> y, const Box& box, int gx, int gu, int starts,
              const Point2* warm, double tol) {
  Core c;
  double ymin = y[0], ymax = y[0], mean = 0;
  for (double v : y) ymin = std::min(ymin, v), ymax = std::max(ymax, v), mean += v;
  mean /= static_cast<double>(y.size());
  if (!(ymax - ymin > 1e-12 * std::max(1.0, std::fabs(ymax)))) {
    c.flat = true;
    c.p = {mean, mean, NAN, 0};
    for (double v : y) c.sse += (v - mean) * (v - mean);
    return c;
  }
  Profile prof(t, y, box);
  Point2 best = search(prof, gx, gu, starts, warm, tol);
  double f = 0, ce = 0;
  c.sse = prof.sse(best.x0, best.u, &f, &ce);
  c.u = best.u;
  c.p = {f, ce, best.x0, std::exp(best.u)};
  if (!(std::fabs(ce - f) > 1e-9 * (ymax - ymin))) c.flat = true;  // no amplitude: x0 meaningless
  return c;
}

}  // namespace

LogisticFit fit_logistic(std::span<const double> t, std::span<const double> y, const LogisticOptions& o) {
  if (t.size() != y.size()) throw std::invalid_argument("fit_logistic: t and y differ in length");
  for (size_t i = 0; i < t.size(); ++i)
    if (!std::isfinite(t[i]) || !std::isfinite(y[i])) throw std::invalid_argument("fit_logistic: non-finite input");
  LogisticFit fit;
  fit.n = static_cast<int>(t.size());
  fit.bootstrap_requested = o.bootstrap;
  double mean = 0;
  for (double v : y) mean += v;
  mean = y.empty() ? NAN : mean / static_cast<double>(y.size());
  fit.p = {mean, mean, NAN, 0};

  std::vector<double> ts(t.begin(), t.end());
  std::sort(ts.begin(), ts.end());
  ts.erase(std::unique(ts.begin(), ts.end()), ts.end());
  if (fit.n < kMinPoints || ts.size() < 3) {
    fit.note = "fewer than 4 points or 3 distinct scales: no logistic fit";
    return fit;
  }
  double gap = INFINITY;
  for (size_t i = 0; i + 1 < ts.size(); ++i) gap = std::min(gap, ts[i + 1] - ts[i]);
  const double tmin = ts.front(), tmax = ts.back(), span = tmax - tmin;
  double ymin = y[0], ymax = y[0];
  for (double v : y) ymin = std::min(ymin, v), ymax = std::max(ymax, v);
  const double range = ymax - ymin;
  Box box;
  box.x0_lo = tmin - span, box.x0_hi = tmax + span;
  fit.k_min = 0.1 / span, fit.k_max = 40 / gap;
  box.u_lo = std::log(fit.k_min), box.u_hi = std::log(fit.k_max);
  box.lo = std::isfinite(o.lo) ? o.lo : ymin - 2 * range;
  box.hi = std::isfinite(o.hi) ? o.hi : ymax + 2 * range;
  box.lo = std::min(box.lo, ymin), box.hi = std::max(box.hi, ymax);  // data outside the range (noise) stay reachable

  Core c;
  if (o.warm_start && o.warm_start->k > 0 && std::isfinite(o.warm_start->x0)) {
    const Point2 warm{std::min(box.x0_hi, std::max(box.x0_lo, o.warm_start->x0)),
                      std::min(box.u_hi, std::max(box.u_lo, std::log(o.warm_start->k))), 0};
    c = fit_core(t, y, box, kBootGridX0, kBootGridK, 1, &warm, kBootTolerance);
  } else {
    c = fit_core(t, y, box, 41, 25, 3, nullptr, 1e-10);
  }
  fit.p = c.p;
  fit.sse = c.sse;
  fit.rmse = std::sqrt(c.sse / fit.n);
  if (c.flat) {
    fit.p = {mean, mean, NAN, 0};
    fit.note = "flat curve: no sigmoid to fit";
    return fit;
  }
  fit.fitted = true;
  fit.k_at_max = c.u >= box.u_hi - 1e-6;
  fit.k_at_min = c.u <= box.u_lo + 1e-6;
  fit.x0_inside = fit.p.x0 >= tmin && fit.p.x0 <= tmax;
  std::vector<std::string> notes;
  if (fit.k_at_max) notes.push_back("a step: x0 is only located between the two scales around the jump");
  if (fit.k_at_min) notes.push_back("slope at its lower bound: no sigmoid inside the observed range");
  if (!fit.x0_inside) notes.push_back("x0 outside the observed scales (extrapolated)");

  if (o.bootstrap > 0) {
    const size_t n = t.size();
    std::vector<double> yhat(n), resid(n);
    double rbar = 0;
    for (size_t i = 0; i < n; ++i) yhat[i] = fit.p(t[i]), resid[i] = y[i] - yhat[i], rbar += resid[i];
    rbar /= static_cast<double>(n);
    const bool residuals = o.bootstrap_kind == BootstrapKind::kResiduals;
    if (residuals && fit.n <= kMinPoints) {
      notes.push_back("4 points: the logistic interpolates them, no residual bootstrap interval");
    } else {
      // Residual degrees of freedom, for the t calibration of the interval below.
      int dof = fit.n - kMinPoints;
      if (residuals) {
        const Leverage lev = leverages(t, fit.p, box);
        const std::vector<double>& h = lev.h;
        dof = std::max(1, fit.n - lev.rank);
        double mbar = 0;
        for (size_t i = 0; i < n; ++i) resid[i] /= std::sqrt(std::max(0.05, 1 - h[i])), mbar += resid[i];
        mbar /= static_cast<double>(n);
        for (double& r : resid) r -= mbar;
      }
      Point2 warm{fit.p.x0, c.u, 0};
      std::vector<double> x0s, tb(n), yb(n);
      for (int b = 0; b < o.bootstrap; ++b) {
        model::SplitMix64 rng(fit::resample_seed(o.seed, static_cast<uint64_t>(b)));
        for (size_t i = 0; i < n; ++i) {
          const size_t j = static_cast<size_t>(rng.next_u64() % n);
          if (residuals) tb[i] = t[i], yb[i] = yhat[i] + resid[j];
          else tb[i] = t[j], yb[i] = y[j];
        }
        if (!residuals) {
          std::vector<double> d = tb;
          std::sort(d.begin(), d.end());
          if (std::unique(d.begin(), d.end()) - d.begin() < kMinPoints) continue;
        }
        Core r = fit_core(tb, yb, box, kBootGridX0, kBootGridK, 1, &warm, kBootTolerance);
        if (r.flat || !std::isfinite(r.p.x0)) continue;
        x0s.push_back(r.p.x0);
      }
      fit.bootstrap_used = static_cast<int>(x0s.size());
      if (x0s.size() >= 2) {
        const double lo = fit::quantile(x0s, (1 - o.coverage) / 2), hi = fit::quantile(x0s, (1 + o.coverage) / 2);
        // The residual bootstrap treats the residual spread as known; with n − p residual degrees
        // of freedom it is not, and the percentile interval undercovers (0.76 instead of 0.95 at
        // n = 6, measured). Widen each side about x̂0 by t_{n−p} / z, as a t interval would be.
        double c = 1;
        if (residuals) {
          const double q = (1 + o.coverage) / 2;
          c = monitor::student_t_quantile(q, dof) / monitor::student_t_quantile(q, INFINITY);
        }
        fit.x0_lo = fit.p.x0 - c * (fit.p.x0 - std::min(lo, fit.p.x0));
        fit.x0_hi = fit.p.x0 + c * (std::max(hi, fit.p.x0) - fit.p.x0);
      }
    }
  }
  for (size_t i = 0; i < notes.size(); ++i) fit.note += (i ? "; " : "") + notes[i];
  return fit;
}

}  // namespace scalinglab::emergence
