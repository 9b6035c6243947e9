#pragma once
// Timing of whole training steps of the GPT (forward + backward + AdamW on the flat buffers, as
// a real run does) and of the sgemm peak the same process can reach, so a throughput figure can
// be stated as a fraction of what the machine's BLAS delivers in the same run (same load, same
// OPENBLAS_CORETYPE, same threads). Used by `scalinglab bench train` and bench/train_vs_torch.py.
#include <string>
#include <utility>
#include <vector>

#include "scalinglab/kernels/cpu/gemm.h"

#include "scalinglab/model/gpt_config.h"

namespace scalinglab::model {

// Peak fp32 matmul throughput measured the way the model's kernels use BLAS: OpenBLAS
// single-threaded, called concurrently from `threads` OpenMP threads, each on its own n×n×n
// problem; and the same with our own fp32 GEMM (kernels/cpu/gemm.h) in each thread. The peak is
// the faster of the two, so a model running on the faster kernel is never measured against
// the slower one (kernels/cpu/matmul.cpp splits every matmul into such per-thread sgemm calls). This is
// the fairest ceiling for the model: an OpenBLAS-threaded single sgemm would measure a threading
// arrangement the model never uses (and on this shared 2-core box loses to it).
struct SgemmPeak {
  int n = 0;        // square problem size
  int threads = 0;  // concurrent single-threaded sgemm calls
  int reps = 0;
  double best_s = 0;   // wall time of the fastest repetition (all threads done), faster kernel
  double gflops = 0;   // threads · 2n³ / best_s / 1e9: the better of the two below
  double gflops_openblas = 0;  // cblas_sgemm (kernel chosen by OPENBLAS_CORETYPE)
  double gflops_own = 0;       // kernels::cpu::gemm fp32 (0 where the CPU has no AVX-512)
};
SgemmPeak measure_sgemm_peak(int n, int threads, int reps);

// The same measurement, one repetition at a time, so it can be interleaved with other work.
class SgemmPeakProbe {
 public:
  SgemmPeakProbe(int n, int threads);  // allocates and runs one untimed repetition
  double run_once();                   // one timed repetition; returns its seconds
  SgemmPeak result() const;            // best over the timed repetitions so far
 private:
  int n_, threads_, reps_ = 0;
  double best_s_ = 1e300, best_own_s_ = 1e300;
  std::vector<std::vector<float>> a_, b_, c_;
};

struct TrainBenchConfig {
  GptConfig model;
  int batch = 8;
  int threads = 0;  // OpenMP threads; 0: omp_get_max_threads() (all cores unless OMP_NUM_THREADS)
  int warmup = 2;
  int steps = 10;
  double lr = 1e-3;
  unsigned long long seed = 1;
  int peak_n = 1024;
  int peak_reps = 10;  // at least this many peak repetitions (one runs after every timed step)
  kernels::cpu::Precision precision = kernels::cpu::Precision::fp32;  // matmul precision (Gpt::set_precision)
  bool profile = false;  // per-kernel times (Gpt::set_profiling) over the timed steps
};

struct TrainBenchResult {
  int threads = 0;
  long long tokens_per_step = 0;  // batch · ctx
  long long params = 0;           // params_total()
  double flops_per_token = 0;     // GptConfig::train_flops_per_token_chinchilla() (App. F, 3× forward)
  std::vector<double> step_ms;    // each timed step: forward + backward + AdamW
  double min_ms = 0, median_ms = 0;
  double forward_ms = 0, backward_ms = 0, optimizer_ms = 0;  // medians of the phases
  double tokens_per_s = 0;        // from median_ms
  double tokens_per_s_best = 0;   // from min_ms
  double gflops = 0;              // model FLOP/s from median_ms
  double gflops_best = 0;         // from min_ms
  double last_loss = 0;
  SgemmPeak peak;
  double peak_fraction = 0;       // gflops / peak.gflops
  double peak_fraction_best = 0;  // gflops_best / peak.gflops
  std::string matmul_backend;     // kernels::cpu::matmul_backend() ("avx512" or "openblas"; bf16 is always own)
  // With cfg.profile: mean ms per step for each kernel kind (Gpt::prof_name), in kind order,
  // plus "optimizer.adamw". Clock reads add a little to the step times of a profiled run.
  std::vector<std::pair<std::string, double>> profile_ms;
  std::vector<double> profile_cpu_ms;  // process CPU ms per step, same order (AdamW: wall)
};

// Builds the Gpt (GPT-2 init), runs `warmup` untimed steps then `steps` timed ones on fresh
// random token batches of [batch, ctx], sampling the sgemm peak (same thread count) after each.
TrainBenchResult bench_train(const TrainBenchConfig& cfg);

}  // namespace scalinglab::model
