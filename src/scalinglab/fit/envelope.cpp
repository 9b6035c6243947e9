#include "scalinglab/fit/envelope.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include "scalinglab/fit/fitter.h"
#include "scalinglab/io/input_error.h"
#include "scalinglab/fit/identifiability.h"

namespace scalinglab::fit {
namespace {

nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void validate(const std::vector<TrainingCurve>& curves) {
  for (size_t i = 0; i < curves.size(); ++i) {
    const auto& cv = curves[i];
    const std::string who = "envelope: run '" + cv.id + "' (#" + std::to_string(i) + ")";
    if (!(std::isfinite(cv.n) && cv.n > 0)) throw std::invalid_argument(who + " has no positive N");
    if (cv.points.size() < 2) throw std::invalid_argument(who + " has fewer than 2 points");
    for (size_t j = 0; j < cv.points.size(); ++j) {
      const auto& p = cv.points[j];
      if (!(std::isfinite(p.c) && p.c > 0 && std::isfinite(p.loss) && p.loss > 0))
        throw std::invalid_argument(who + " point " + std::to_string(j) + " needs positive finite C and loss");
      if (j > 0 && !(p.c > cv.points[j - 1].c))
        throw std::invalid_argument(who + " compute values are not strictly increasing at point " + std::to_string(j));
    }
  }
}

// Range of compute covered by at least one of the chosen curves, clipped to the user's bounds.
std::pair<double, double> covered_range(const std::vector<TrainingCurve>& curves, const std::vector<size_t>& use,
                                        const EnvelopeOptions& opt) {
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (size_t i : use) {
    lo = std::min(lo, curves[i].points.front().c);
    hi = std::max(hi, curves[i].points.back().c);
  }
  if (opt.c_min) lo = std::max(lo, *opt.c_min);
  if (opt.c_max) hi = std::min(hi, *opt.c_max);
  return {lo, hi};
}

}  // namespace

std::vector<TrainingCurve> load_curves(const io::Table& t, const std::string& run_column, const std::string& n_column,
                                       const std::string& x_column, const std::string& loss_column, CurveAxis axis) {
  const size_t rc = t.require(run_column, "the run id column");
  const size_t nc = t.require(n_column, "the parameter count column");
  const size_t xc = t.require(x_column, axis == CurveAxis::kTokens ? "the tokens-seen column" : "the compute column");
  const size_t lc = t.require(loss_column, "the loss column");
  const std::vector<double> n = t.numeric(nc), x = t.numeric(xc), loss = t.numeric(lc);
  const char* x_what = axis == CurveAxis::kTokens ? "token count" : "compute";

  std::vector<TrainingCurve> curves;
  std::map<std::string, size_t> index;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const long line = t.lines[r];
    const std::string& id = t.rows[r][rc];
    if (id.empty()) throw io::InputError(t.source, line, t.columns[rc], "empty run id");
    if (!(std::isfinite(n[r]) && n[r] > 0))
      throw io::InputError(t.source, line, t.columns[nc], "expected a positive finite parameter count N, got " + t.rows[r][nc]);
    if (!(std::isfinite(x[r]) && x[r] > 0))
      throw io::InputError(t.source, line, t.columns[xc],
                           std::string("expected a positive finite ") + x_what + ", got " + t.rows[r][xc]);
    if (!(std::isfinite(loss[r]) && loss[r] > 0))
      throw io::InputError(t.source, line, t.columns[lc], "expected a positive finite loss, got " + t.rows[r][lc]);
    auto [it, fresh] = index.emplace(id, curves.size());
    if (fresh) curves.push_back(TrainingCurve{id, n[r], {}, line});
    TrainingCurve& cv = curves[it->second];
    if (std::abs(n[r] - cv.n) > 1e-9 * cv.n)
      throw io::InputError(t.source, line, t.columns[nc],
                           "N = " + t.rows[r][nc] + " differs from N = " + fmt(cv.n) + " of run '" + id +
                               "' at line " + std::to_string(cv.line) + "; a run has one model size");
    CurvePoint p;
    p.line = line;
    p.loss = loss[r];
    // C ≈ 6·N·tokens (Kaplan et al. 2020 §2.1; Hoffmann et al. 2022 §3).
    if (axis == CurveAxis::kTokens) {
      p.tokens = x[r];
      p.c = 6.0 * cv.n * x[r];
    } else {
      p.c = x[r];
      p.tokens = x[r] / (6.0 * cv.n);
    }
    cv.points.push_back(p);
  }
  for (auto& cv : curves) {
    std::stable_sort(cv.points.begin(), cv.points.end(), [](const CurvePoint& a, const CurvePoint& b) { return a.c < b.c; });
    for (size_t j = 1; j < cv.points.size(); ++j)
      if (!(cv.points[j].c > cv.points[j - 1].c)) {
        const auto& later = cv.points[j].line > cv.points[j - 1].line ? cv.points[j] : cv.points[j - 1];
        const auto& earlier = cv.points[j].line > cv.points[j - 1].line ? cv.points[j - 1] : cv.points[j];
        throw io::InputError(t.source, later.line, t.columns[xc],
                             std::string("run '") + cv.id + "' repeats the " + x_what + " of line " +
                                 std::to_string(earlier.line));
      }
    if (cv.points.size() < 2)
      throw io::InputError(t.source, cv.line, t.columns[rc],
                           "run '" + cv.id + "' has only 1 point; a training curve needs at least 2");
  }
  if (curves.empty()) throw io::InputError(t.source, 0, "", "no training curve rows");
  return curves;
}

TrainingCurve smooth_curve(const TrainingCurve& curve, int window) {
  if (window < 1) throw std::invalid_argument("envelope: smoothing window must be >= 1");
  TrainingCurve out = curve;
  const long half = window / 2;
  const long m = static_cast<long>(curve.points.size());
  for (long i = 0; i < m; ++i) {
    // Shrinking the window symmetrically at the ends keeps it centred, so a locally linear
    // curve is left unchanged and the end points are not pulled towards the interior.
    const long h = std::min({half, i, m - 1 - i});
    double s = 0;
    for (long j = i - h; j <= i + h; ++j) s += curve.points[static_cast<size_t>(j)].loss;
    out.points[static_cast<size_t>(i)].loss = s / static_cast<double>(2 * h + 1);
  }
  return out;
}

std::vector<FrontierPoint> loss_envelope(const std::vector<TrainingCurve>& curves, const std::vector<size_t>& use,
                                         double c_lo, double c_hi, int num_compute, bool require_bracket) {
  if (num_compute < 2) throw std::invalid_argument("envelope: need at least 2 compute values");
  if (!(c_lo > 0 && c_hi > c_lo)) return {};
  const double llo = std::log(c_lo), lhi = std::log(c_hi);
  const size_t m = static_cast<size_t>(num_compute);
  std::vector<double> grid(m);
  for (size_t g = 0; g < m; ++g) grid[g] = llo + (lhi - llo) * static_cast<double>(g) / static_cast<double>(m - 1);
  grid.back() = lhi;  // exactly, so the run that ends at c_hi covers it

  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> best(m, kInf), n_lo(m, kInf), n_hi(m, 0);
  std::vector<size_t> winner(m, 0);
  const std::set<size_t> distinct(use.begin(), use.end());  // a duplicated run cannot change a minimum
  std::vector<double> lc;
  for (size_t i : distinct) {
    const auto& pts = curves[i].points;
    lc.resize(pts.size());
    for (size_t j = 0; j < pts.size(); ++j) lc[j] = std::log(pts[j].c);
    // Sweep the grid and the curve together; loss is interpolated linearly in ln C, only between
    // the run's first and last point (no extrapolation).
    size_t j = 0;
    auto g = static_cast<size_t>(std::lower_bound(grid.begin(), grid.end(), lc.front()) - grid.begin());
    for (; g < m && grid[g] <= lc.back(); ++g) {
      while (j + 2 < pts.size() && lc[j + 1] < grid[g]) ++j;
      const double t = (grid[g] - lc[j]) / (lc[j + 1] - lc[j]);
      const double l = pts[j].loss + std::clamp(t, 0.0, 1.0) * (pts[j + 1].loss - pts[j].loss);
      n_lo[g] = std::min(n_lo[g], curves[i].n);
      n_hi[g] = std::max(n_hi[g], curves[i].n);
      if (l < best[g] || (l == best[g] && i < winner[g])) {
        best[g] = l;
        winner[g] = i;
      }
    }
  }
  std::vector<FrontierPoint> out;
  for (size_t g = 0; g < m; ++g) {
    if (best[g] == kInf) continue;  // a gap that no run covers
    FrontierPoint p;
    p.c = std::exp(grid[g]);
    p.n_opt = curves[winner[g]].n;
    p.d_opt = p.c / (6.0 * p.n_opt);
    p.loss = best[g];
    p.curve = winner[g];
    p.used = !require_bracket || (p.n_opt > n_lo[g] && p.n_opt < n_hi[g]);
    out.push_back(p);
  }
  return out;
}

EnvelopeResult fit_envelope(const std::vector<TrainingCurve>& input, const EnvelopeOptions& opt) {
  validate(input);
  if (input.empty()) throw std::invalid_argument("envelope: no training curves");
  if (opt.bootstrap < 0) throw std::invalid_argument("envelope: the number of bootstrap resamples must be >= 0");
  if (opt.num_compute < 2) throw std::invalid_argument("envelope: need at least 2 compute values");
  std::vector<TrainingCurve> curves;
  curves.reserve(input.size());
  for (const auto& cv : input) curves.push_back(smooth_curve(cv, opt.smoothing_window));

  std::vector<size_t> all(curves.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  EnvelopeResult res;
  res.runs = curves.size();
  for (const auto& cv : curves) res.run_ids.push_back(cv.id);
  res.num_compute = opt.num_compute;
  res.smoothing_window = opt.smoothing_window;
  std::tie(res.c_lo, res.c_hi) = covered_range(curves, all, opt);
  if (!(res.c_hi > res.c_lo))
    throw std::invalid_argument("envelope: the compute range [" + fmt(res.c_lo) + ", " + fmt(res.c_hi) + "] is empty");
  res.frontier = loss_envelope(curves, all, res.c_lo, res.c_hi, opt.num_compute, opt.require_bracket);

  std::vector<double> c, n, d;
  std::set<size_t> winners;
  for (const auto& p : res.frontier) {
    if (!p.used) continue;
    c.push_back(p.c);
    n.push_back(p.n_opt);
    d.push_back(p.d_opt);
    winners.insert(p.curve);
  }
  res.points_used = c.size();
  res.runs_on_frontier = winners.size();
  if (c.size() < 2)
    throw std::invalid_argument(
        "envelope: fewer than 2 usable frontier points (" + std::to_string(c.size()) + " of " +
        std::to_string(res.frontier.size()) +
        "); the model sizes never bracket the lowest-loss run at a compute value" +
        (opt.require_bracket ? " (require_bracket is on)" : ""));
  res.scaling = fit_optimal_scaling(c, n, d, opt.predict_at);
  {
    DataRange range;  // the largest compute any curve reached, as approach 3 measures it
    for (const auto& cv : curves)
      for (const auto& p : cv.points) {
        range.c.min = std::isfinite(range.c.min) ? std::min(range.c.min, p.c) : p.c;
        range.c.max = std::isfinite(range.c.max) ? std::max(range.c.max, p.c) : p.c;
      }
    for (double cp : opt.predict_at)
      if (auto w = extrapolation_warning(cp, range, "the approach-1 optimum")) res.warnings.push_back(*w);
  }
  if (opt.bootstrap == 0) return res;

  // Bootstrap over runs: the run is the unit of independent noise (its points share a seed and a
  // trajectory), so whole runs are resampled with replacement and the envelope is rebuilt.
  std::vector<ScalingDraw> draws(static_cast<size_t>(opt.bootstrap));
  const int threads = opt.threads > 0 ? opt.threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads) if (threads != 1)
  for (int k = 0; k < opt.bootstrap; ++k) {
    std::mt19937_64 rng(resample_seed(opt.seed, static_cast<uint64_t>(k)));
    std::uniform_int_distribution<size_t> u(0, curves.size() - 1);
    std::vector<size_t> pick(curves.size());
    for (auto& p : pick) p = u(rng);
    const auto [lo, hi] = covered_range(curves, pick, opt);
    std::vector<double> bc, bn, bd;
    for (const auto& p : loss_envelope(curves, pick, lo, hi, opt.num_compute, opt.require_bracket)) {
      if (!p.used) continue;
      bc.push_back(p.c);
      bn.push_back(p.n_opt);
      bd.push_back(p.d_opt);
    }
    draws[static_cast<size_t>(k)] = draw_from_points(bc, bn, bd);
  }
  add_bootstrap(res.scaling, draws, opt.seed);
  identify_scaling(res.scaling, res.runs_on_frontier, "runs on the frontier", approach_remedy(1));  // identifiability.h
  return res;
}

nlohmann::json to_json(const EnvelopeResult& r) {
  nlohmann::json j;
  j["approach"] = 1;
  j["method"] = "envelope";
  write_scaling_json(j, r.scaling);
  auto frontier = nlohmann::json::array();
  for (const auto& p : r.frontier)
    frontier.push_back({{"C", p.c}, {"N_opt", p.n_opt}, {"D_opt", p.d_opt}, {"L", num(p.loss)}, {"run", p.curve},
                        {"run_id", p.curve < r.run_ids.size() ? nlohmann::json(r.run_ids[p.curve]) : nlohmann::json(nullptr)},
                        {"used", p.used}});
  j["frontier"] = frontier;
  j["points_used"] = r.points_used;
  j["runs"] = r.runs;
  j["runs_on_frontier"] = r.runs_on_frontier;
  j["C_range"] = nlohmann::json::array({r.c_lo, r.c_hi});
  j["num_compute"] = r.num_compute;
  j["smoothing_window"] = r.smoothing_window;
  j["warnings"] = r.warnings;
  return j;
}

}  // namespace scalinglab::fit
