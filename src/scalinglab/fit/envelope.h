#pragma once
// Chinchilla Approach 1, the minimum over training curves (Hoffmann et al. 2022,
// arXiv:2203.15556, §3.1): for a family of model sizes each trained over a range of token
// counts, the lower envelope of loss vs compute C = 6·N·tokens gives, at each C, the model size
// that reached the lowest loss, N_opt(C), and D_opt = C/(6·N_opt). Hoffmann et al. sample 1500
// log-spaced compute values, then fit N_opt ∝ C^a and D_opt ∝ C^b.
//
// Reading intermediate points of one run as if they were the final points of shorter runs is
// only right when the learning-rate schedule of the run matched that shorter length; Hoffmann
// et al. ran every size with several cosine cycle lengths for this reason (§3.1, and §2's finding
// that an overlong cosine cycle hurts). Curves given here are taken at face value.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scalinglab/fit/power_law_regression.h"
#include "scalinglab/io/table.h"

namespace scalinglab::fit {

struct CurvePoint {
  double tokens = 0;  // tokens seen so far
  double c = 0;       // compute so far, 6·N·tokens when only tokens are given
  double loss = 0;
  long line = 0;      // source line, 0 when not from a file
};

struct TrainingCurve {
  std::string id;
  double n = 0;                    // parameters
  std::vector<CurvePoint> points;  // strictly increasing c
  long line = 0;                   // first source line of the run
};

enum class CurveAxis { kTokens, kCompute };  // what the progress column of the table holds

// Reads training curves from a long table (one row per logged point): `run_column` identifies
// the run (any text), `n_column` its parameter count (constant within a run), `x_column` tokens
// seen or compute used so far (per `axis`), `loss_column` the loss there. Rows of a run need not
// be adjacent or sorted. Throws io::InputError naming file:line and column for a non-numeric or
// non-positive cell, an empty run id, an N that changes within a run, a repeated x within a run,
// and a run with fewer than 2 points. Runs come back in order of first appearance.
std::vector<TrainingCurve> load_curves(const io::Table& table, const std::string& run_column,
                                       const std::string& n_column, const std::string& x_column,
                                       const std::string& loss_column, CurveAxis axis = CurveAxis::kTokens);

struct EnvelopeOptions {
  int num_compute = 1500;        // log-spaced compute values (Hoffmann et al. use 1500)
  // Centred moving average of the loss over this many consecutive points of each curve before
  // interpolating (the window shrinks symmetrically at the ends); 1 = no smoothing.
  int smoothing_window = 1;
  std::optional<double> c_min, c_max;  // restrict the compute range (default: all the curves cover)
  // Keep only compute values where the winning run is bracketed by a smaller and a larger run
  // that also cover that C. Loss at fixed C is unimodal in N for a Chinchilla-form loss, so the
  // continuous optimum then lies between the two neighbours; at an unbracketed point it may lie
  // outside the family and N_opt is pinned to the smallest/largest size, flattening the slope.
  bool require_bracket = true;
  int bootstrap = 1000;          // resamples of whole runs; 0 disables
  uint64_t seed = 0;
  std::vector<double> predict_at;
  int threads = 0;               // OpenMP threads for the bootstrap; 0 = OpenMP's default
};

struct FrontierPoint {
  double c = 0;
  double n_opt = 0;     // N of the winning run
  double d_opt = 0;     // C/(6·N_opt)
  double loss = 0;      // its (smoothed, interpolated) loss at C
  size_t curve = 0;     // index of the winning run in the input
  bool used = false;    // false when dropped by require_bracket
};

struct EnvelopeResult {
  std::vector<FrontierPoint> frontier;  // one per compute value covered by at least one run
  double c_lo = 0, c_hi = 0;            // the compute range sampled
  int num_compute = 0;
  int smoothing_window = 1;
  size_t runs = 0;                      // input runs
  std::vector<std::string> run_ids;     // id of each input run (FrontierPoint::curve indexes it)
  size_t runs_on_frontier = 0;          // distinct runs winning at a used point
  size_t points_used = 0;               // frontier points the power laws were fitted to
  OptimalScaling scaling;
  std::vector<std::string> warnings;    // predictions > 2 orders of magnitude of compute past the data
};

// Lower envelope of the given curves (indices into `curves`, duplicates allowed) at
// `num_compute` log-spaced values in [c_lo, c_hi]; curves must already be smoothed.
std::vector<FrontierPoint> loss_envelope(const std::vector<TrainingCurve>& curves, const std::vector<size_t>& use,
                                         double c_lo, double c_hi, int num_compute, bool require_bracket);

// Returns a copy of the curve with its loss smoothed by a centred moving average.
TrainingCurve smooth_curve(const TrainingCurve& curve, int window);

// The whole of Approach 1. Throws std::invalid_argument for invalid curves or options, or when
// fewer than 2 usable frontier points remain.
EnvelopeResult fit_envelope(const std::vector<TrainingCurve>& curves, const EnvelopeOptions& options = {});

// {approach: 1, method: "envelope", a, b, k_N, k_D, frontier: [...], points_used, ...}
nlohmann::json to_json(const EnvelopeResult& r);

}  // namespace scalinglab::fit
