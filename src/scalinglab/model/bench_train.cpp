#include "scalinglab/model/bench_train.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>

#include "scalinglab/model/gpt.h"
#include "scalinglab/model/rng.h"
#include "scalinglab/model/train_hooks.h"
#include "scalinglab/train/adamw.h"

// As in kernels/cpu/matmul.cpp: declared here because /usr/include/cblas.h may be netlib's.
extern "C" void openblas_set_num_threads(int num_threads);

namespace scalinglab::model {
namespace {

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

SgemmPeak measure_sgemm_peak(int n, int threads, int reps) {
  if (n <= 0 || threads <= 0 || reps <= 0) throw std::invalid_argument("measure_sgemm_peak: n, threads, reps must be > 0");
  openblas_set_num_threads(1);  // the model's arrangement (see matmul.cpp)
  const std::size_t nn = static_cast<std::size_t>(n) * n;
  // Separate A, B, C per thread: shared inputs would let the threads share cache lines that
  // the model's concurrent calls (different weights and row blocks) do not share.
  std::vector<std::vector<float>> a(threads), b(threads), c(threads);
  SplitMix64 g(42);
  for (int t = 0; t < threads; ++t) {
    a[t].resize(nn), b[t].resize(nn), c[t].assign(nn, 0.0f);
    for (std::size_t i = 0; i < nn; ++i) a[t][i] = static_cast<float>(g.uniform() - 0.5), b[t][i] = static_cast<float>(g.uniform() - 0.5);
  }
  SgemmPeak p;
  p.n = n, p.threads = threads, p.reps = reps;
  p.best_s = 1e300;
  // One extra untimed repetition first: page faults of C and OpenBLAS's buffer allocation.
  for (int r = 0; r <= reps; ++r) {
    const auto t0 = Clock::now();
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a[t].data(), n, b[t].data(), n, 0.0f,
                  c[t].data(), n);
    }
    const double s = ms_between(t0, Clock::now()) / 1e3;
    if (r > 0) p.best_s = std::min(p.best_s, s);
  }
  p.gflops = threads * 2.0 * n * static_cast<double>(n) * n / p.best_s / 1e9;
  return p;
}

TrainBenchResult bench_train(const TrainBenchConfig& cfg) {
  cfg.model.validate();
  if (cfg.batch <= 0 || cfg.steps <= 0 || cfg.warmup < 0)
    throw std::invalid_argument("bench_train: batch and steps must be > 0, warmup >= 0");
  const int threads = cfg.threads > 0 ? cfg.threads : omp_get_max_threads();
  omp_set_num_threads(threads);  // every kernel's `omp parallel` then uses this many

  const int B = cfg.batch, T = cfg.model.ctx;
  Gpt model(cfg.model, cfg.seed);
  train::AdamW opt(param_table(model), model.params().size());  // default betas, wd 0.1 on matrices
  SplitMix64 g(cfg.seed * 7919 + 1);
  std::vector<std::int32_t> tok(static_cast<std::size_t>(B) * T), tgt(tok.size());

  TrainBenchResult r;
  r.threads = threads;
  r.tokens_per_step = static_cast<long long>(B) * T;
  r.params = cfg.model.params_total();
  r.flops_per_token = cfg.model.train_flops_per_token_chinchilla();
  std::vector<double> fwd, bwd, upd;
  for (int s = 0; s < cfg.warmup + cfg.steps; ++s) {
    // Fresh random batches, drawn outside the timed region (data loading is not the engine).
    for (auto& x : tok) x = static_cast<std::int32_t>(g.next_u64() % static_cast<std::uint64_t>(cfg.model.vocab));
    for (auto& x : tgt) x = static_cast<std::int32_t>(g.next_u64() % static_cast<std::uint64_t>(cfg.model.vocab));
    const auto t0 = Clock::now();
    model.zero_grad();
    r.last_loss = model.forward(tok.data(), tgt.data(), B, T);
    const auto t1 = Clock::now();
    model.backward();
    const auto t2 = Clock::now();
    opt.step(model.params().data(), model.grads().data(), cfg.lr);
    const auto t3 = Clock::now();
    if (s < cfg.warmup) continue;
    r.step_ms.push_back(ms_between(t0, t3));
    fwd.push_back(ms_between(t0, t1));
    bwd.push_back(ms_between(t1, t2));
    upd.push_back(ms_between(t2, t3));
  }
  r.min_ms = *std::min_element(r.step_ms.begin(), r.step_ms.end());
  r.median_ms = median(r.step_ms);
  r.forward_ms = median(fwd), r.backward_ms = median(bwd), r.optimizer_ms = median(upd);
  r.tokens_per_s = r.tokens_per_step / (r.median_ms / 1e3);
  r.tokens_per_s_best = r.tokens_per_step / (r.min_ms / 1e3);
  r.gflops = r.tokens_per_s * r.flops_per_token / 1e9;
  r.gflops_best = r.tokens_per_s_best * r.flops_per_token / 1e9;
  if (cfg.peak_reps > 0) r.peak = measure_sgemm_peak(cfg.peak_n, threads, cfg.peak_reps);  // 0: skip
  if (r.peak.gflops > 0) {
    r.peak_fraction = r.gflops / r.peak.gflops;
    r.peak_fraction_best = r.gflops_best / r.peak.gflops;
  }
  return r;
}

}  // namespace scalinglab::model
