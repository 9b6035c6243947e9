#include "scalinglab/model/bench_train.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>

#include "scalinglab/kernels/cpu/matmul.h"
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

SgemmPeakProbe::SgemmPeakProbe(int n, int threads) : n_(n), threads_(threads) {
  if (n <= 0 || threads <= 0) throw std::invalid_argument("SgemmPeakProbe: n and threads must be > 0");
  openblas_set_num_threads(1);  // the model's arrangement (see matmul.cpp)
  const std::size_t nn = static_cast<std::size_t>(n) * n;
  // Separate A, B, C per thread: shared inputs would let the threads share cache lines that
  // the model's concurrent calls (different weights and row blocks) do not share.
  a_.resize(threads), b_.resize(threads), c_.resize(threads);
  SplitMix64 g(42);
  for (int t = 0; t < threads; ++t) {
    a_[t].resize(nn), b_[t].resize(nn), c_[t].assign(nn, 0.0f);
    for (std::size_t i = 0; i < nn; ++i)
      a_[t][i] = static_cast<float>(g.uniform() - 0.5), b_[t][i] = static_cast<float>(g.uniform() - 0.5);
  }
  run_once();  // warm-up (page faults, buffers), not counted:
  reps_ = 0, best_s_ = 1e300, best_own_s_ = 1e300;
}

double SgemmPeakProbe::run_once() {
  const int n = n_;
  const auto t0 = Clock::now();
#pragma omp parallel num_threads(threads_)
  {
    const int t = omp_get_thread_num();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a_[t].data(), n, b_[t].data(), n, 0.0f,
                c_[t].data(), n);
  }
  const double s = ms_between(t0, Clock::now()) / 1e3;
  best_s_ = std::min(best_s_, s);
  if (kernels::cpu::gemm_available(kernels::cpu::Precision::fp32)) {
    const auto t1 = Clock::now();
#pragma omp parallel num_threads(threads_)
    {
      const int t = omp_get_thread_num();  // inside a parallel region gemm runs on this thread only
      kernels::cpu::gemm(n, n, n, {a_[t].data(), n, 1}, {b_[t].data(), n, 1}, c_[t].data(), n, nullptr, false,
                         kernels::cpu::Precision::fp32);
    }
    best_own_s_ = std::min(best_own_s_, ms_between(t1, Clock::now()) / 1e3);
  }
  ++reps_;
  return s;
}

SgemmPeak SgemmPeakProbe::result() const {
  SgemmPeak p;
  p.n = n_, p.threads = threads_, p.reps = reps_, p.best_s = best_s_;
  const double flop = threads_ * 2.0 * n_ * static_cast<double>(n_) * n_;
  p.gflops_openblas = reps_ ? flop / best_s_ / 1e9 : 0.0;
  p.gflops_own = reps_ && best_own_s_ < 1e300 ? flop / best_own_s_ / 1e9 : 0.0;
  p.gflops = std::max(p.gflops_openblas, p.gflops_own);
  p.best_s = p.gflops > 0 ? flop / p.gflops / 1e9 : 0.0;
  return p;
}

SgemmPeak measure_sgemm_peak(int n, int threads, int reps) {
  if (reps <= 0) throw std::invalid_argument("measure_sgemm_peak: reps must be > 0");
  SgemmPeakProbe probe(n, threads);
  for (int r = 0; r < reps; ++r) probe.run_once();
  return probe.result();
}

TrainBenchResult bench_train(const TrainBenchConfig& cfg) {
  cfg.model.validate();
  if (cfg.batch <= 0 || cfg.steps <= 0 || cfg.warmup < 0)
    throw std::invalid_argument("bench_train: batch and steps must be > 0, warmup >= 0");
  const int threads = cfg.threads > 0 ? cfg.threads : omp_get_max_threads();
  omp_set_num_threads(threads);  // every kernel's `omp parallel` then uses this many

  const int B = cfg.batch, T = cfg.model.ctx;
  Gpt model(cfg.model, cfg.seed);
  model.set_precision(cfg.precision);
  train::AdamW opt(param_table(model), model.params().size());  // default betas, wd 0.1 on matrices
  SplitMix64 g(cfg.seed * 7919 + 1);
  std::vector<std::int32_t> tok(static_cast<std::size_t>(B) * T), tgt(tok.size());

  TrainBenchResult r;
  r.threads = threads;
  r.tokens_per_step = static_cast<long long>(B) * T;
  r.params = cfg.model.params_total();
  r.flops_per_token = cfg.model.train_flops_per_token_chinchilla();
  std::vector<double> fwd, bwd, upd;
  // The peak is sampled between the timed steps (one probe after each, plus any extra reps at
  // the end) rather than in one block, so on a shared machine both numbers see the same load.
  SgemmPeakProbe probe(cfg.peak_n, threads);
  model.set_profiling(cfg.profile);
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
    if (s + 1 == cfg.warmup) model.reset_profile();  // profile the timed steps only
    if (s < cfg.warmup) continue;
    r.step_ms.push_back(ms_between(t0, t3));
    fwd.push_back(ms_between(t0, t1));
    bwd.push_back(ms_between(t1, t2));
    upd.push_back(ms_between(t2, t3));
    if (cfg.peak_reps > 0) probe.run_once();  // peak_reps = 0: time the steps only
  }
  while (probe.result().reps < cfg.peak_reps) probe.run_once();
  r.min_ms = *std::min_element(r.step_ms.begin(), r.step_ms.end());
  r.median_ms = median(r.step_ms);
  r.forward_ms = median(fwd), r.backward_ms = median(bwd), r.optimizer_ms = median(upd);
  r.tokens_per_s = r.tokens_per_step / (r.median_ms / 1e3);
  r.tokens_per_s_best = r.tokens_per_step / (r.min_ms / 1e3);
  r.gflops = r.tokens_per_s * r.flops_per_token / 1e9;
  r.gflops_best = r.tokens_per_s_best * r.flops_per_token / 1e9;
  r.peak = probe.result();
  r.matmul_backend = cfg.precision == kernels::cpu::Precision::bf16 ? "avx512-bf16" : kernels::cpu::matmul_backend();
  if (cfg.profile) {
    double upd_total = 0;
    for (double x : upd) upd_total += x;
    for (int k = 0; k < Gpt::kProfKinds; ++k) {
      r.profile_ms.emplace_back(Gpt::prof_name(k), 1e3 * model.profile_seconds()[k] / cfg.steps);
      r.profile_cpu_ms.push_back(1e3 * model.profile_cpu_seconds()[k] / cfg.steps);
    }
    r.profile_ms.emplace_back("optimizer.adamw", upd_total / cfg.steps);
    r.profile_cpu_ms.push_back(upd_total / cfg.steps);
  }
  if (r.peak.gflops > 0) {
    r.peak_fraction = r.gflops / r.peak.gflops;
    r.peak_fraction_best = r.gflops_best / r.peak.gflops;
  }
  return r;
}

}  // namespace scalinglab::model
