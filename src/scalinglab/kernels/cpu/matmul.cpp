#include "scalinglab/kernels/cpu/matmul.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <vector>

// Declared here rather than taken from cblas.h: /usr/include's cblas.h may be the netlib one
// (Debian alternatives), while we always link OpenBLAS itself (pkg-config openblas).
extern "C" void openblas_set_num_threads(int num_threads);

namespace scalinglab::kernels::cpu {

namespace {

// Threading: OpenBLAS runs single-threaded and the OpenMP threads each call it on a fixed-size
// block of the output. Letting OpenBLAS use its own pthread pool next to OpenMP's spinning
// workers made the B=16 benchmark step 3x slower on 2 cores (1604 ms vs 594 ms with
// OMP_WAIT_POLICY=passive), and fixed blocks make every output element come from the same sgemm
// call whatever the thread count, so results do not depend on it.
// Side effect: OpenBLAS is single-threaded for the whole process once a matmul has run.
void use_single_threaded_blas() {
  static const bool done = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)done;
}

constexpr int kRowBlock = 128;  // rows of out / dinp per sgemm call
constexpr int kOutBlock = 32;   // rows of dweight (output features) per sgemm call

int blocks(int n, int block) { return (n + block - 1) / block; }

bool force_openblas() {
  static const bool forced = [] {
    const char* e = std::getenv("SCALINGLAB_MATMUL");
    return e && std::strcmp(e, "openblas") == 0;
  }();
  return forced;
}

// Own kernels for bf16 always (OpenBLAS 0.3.21's sbgemm is not used), and for fp32 whenever the
// CPU has AVX-512 unless overridden.
bool use_own(Precision p) {
  if (p == Precision::bf16) {
    require_precision(p);
    return true;
  }
  return !force_openblas() && gemm_available(Precision::fp32);
}

}  // namespace

const char* matmul_backend() { return !force_openblas() && gemm_available(Precision::fp32) ? "avx512" : "openblas"; }

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int N, int C, int OC,
                    Precision p) {
  if (use_own(p)) {
    // out[n,o] = Σ_c inp[n,c]·W[o,c]: A = inp (row-major), B(c,o) = W[o,c].
    gemm(N, OC, C, {inp, C, 1}, {weight, 1, C}, out, OC, bias, false, p);
    return;
  }
  use_single_threaded_blas();
#pragma omp parallel for schedule(static)
  for (int rb = 0; rb < blocks(N, kRowBlock); ++rb) {
    const int n0 = rb * kRowBlock, rows = n0 + kRowBlock <= N ? kRowBlock : N - n0;
    float* o = out + static_cast<std::size_t>(n0) * OC;
    float beta = 0.0f;
    if (bias) {
      // Seed out with the bias and let sgemm accumulate onto it (beta = 1): one pass fewer.
      for (int r = 0; r < rows; ++r)
        for (int j = 0; j < OC; ++j) o[static_cast<std::size_t>(r) * OC + j] = bias[j];
      beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, OC, C, 1.0f, inp + static_cast<std::size_t>(n0) * C, C,
                weight, C, beta, o, OC);
  }
}

namespace {

// dbias[j] += Σ_n dout[n, j], by the team of the enclosing parallel region (ends with a
// barrier). Fixed blocks of kBiasRows rows each sum their rows in order into part
// [blocks × OC], then the block partials are added in block order: independent of the thread
// count, and parallel whatever OC is (column slices alone left OC = 64 to one thread).
constexpr int kBiasRows = 64;
void bias_grad_team(float* dbias, const float* dout, int N, int OC, float* part) {
  constexpr int kSlice = 16;
  const int nblocks = blocks(N, kBiasRows);
#pragma omp for schedule(static)
  for (int blk = 0; blk < nblocks; ++blk) {
    float* pb = part + static_cast<std::size_t>(blk) * OC;
    for (int j = 0; j < OC; ++j) pb[j] = 0.0f;
    const int n1 = std::min(N, (blk + 1) * kBiasRows);
    for (int n = blk * kBiasRows; n < n1; ++n) {
      const float* d = dout + static_cast<std::size_t>(n) * OC;
#pragma omp simd
      for (int j = 0; j < OC; ++j) pb[j] += d[j];
    }
  }
#pragma omp for schedule(static)
  for (int j0 = 0; j0 < OC; j0 += kSlice) {
    const int j1 = std::min(OC, j0 + kSlice);
    float s[kSlice] = {};
    for (int blk = 0; blk < nblocks; ++blk)
      for (int j = j0; j < j1; ++j) s[j - j0] += part[static_cast<std::size_t>(blk) * OC + j];
    for (int j = j0; j < j1; ++j) dbias[j] += s[j - j0];
  }
}

}  // namespace

void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp, const float* weight,
                     int N, int C, int OC, Precision p, bool accumulate_dinp) {
  thread_local std::vector<float> bias_part;
  if (dbias && bias_part.size() < static_cast<std::size_t>(blocks(N, kBiasRows)) * OC)
    bias_part.resize(static_cast<std::size_t>(blocks(N, kBiasRows)) * OC);
  float* part = bias_part.data();
  if (use_own(p)) {
    // dinp[n,c] (+)= Σ_o dout[n,o]·W[o,c]; dweight[o,c] += Σ_n dout[n,o]·inp[n,c]. One parallel
    // region for the three products (see gemm_team); they write disjoint buffers, so a thread
    // goes on to the next as soon as its share of the previous one is done.
#pragma omp parallel if (!omp_in_parallel())
    {
      if (dinp) gemm_team(N, C, OC, {dout, OC, 1}, {weight, C, 1}, dinp, C, nullptr, accumulate_dinp, p);
      if (dweight) gemm_team(OC, C, N, {dout, 1, OC}, {inp, C, 1}, dweight, C, nullptr, true, p);
      if (dbias) bias_grad_team(dbias, dout, N, OC, part);
    }
    return;
  }
  use_single_threaded_blas();
  if (dinp) {
#pragma omp parallel for schedule(static)
    for (int rb = 0; rb < blocks(N, kRowBlock); ++rb) {
      const int n0 = rb * kRowBlock, rows = n0 + kRowBlock <= N ? kRowBlock : N - n0;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, C, OC, 1.0f, dout + static_cast<std::size_t>(n0) * OC,
                  OC, weight, C, accumulate_dinp ? 1.0f : 0.0f, dinp + static_cast<std::size_t>(n0) * C, C);
    }
  }
  if (dweight) {
    // dweight sums over all N rows; splitting over output features instead keeps each sum in
    // one call (no cross-thread reduction).
#pragma omp parallel for schedule(static)
    for (int ob = 0; ob < blocks(OC, kOutBlock); ++ob) {
      const int o0 = ob * kOutBlock, outs = o0 + kOutBlock <= OC ? kOutBlock : OC - o0;
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, outs, C, N, 1.0f, dout + o0, OC, inp, C, 1.0f,
                  dweight + static_cast<std::size_t>(o0) * C, C);
    }
  }
  if (dbias) {
#pragma omp parallel if (!omp_in_parallel())
    bias_grad_team(dbias, dout, N, OC, part);
  }
}

void matmul_forward_naive(float* out, const float* inp, const float* weight, const float* bias, int N, int C, int OC) {
  // 4 rows × 1 output column per step: each weight row is loaded once for four inputs. The
  // reduction over C uses `omp simd` so the compiler may reassociate it into vector lanes.
  constexpr int kRows = 4;
  const int row_blocks = (N + kRows - 1) / kRows;
#pragma omp parallel for schedule(static)
  for (int rb = 0; rb < row_blocks; ++rb) {
    const int n0 = rb * kRows;
    const int rows = n0 + kRows <= N ? kRows : N - n0;
    for (int j = 0; j < OC; ++j) {
      const float* w = weight + static_cast<std::size_t>(j) * C;
      float acc[kRows] = {0.0f, 0.0f, 0.0f, 0.0f};
      for (int r = 0; r < rows; ++r) {
        const float* x = inp + static_cast<std::size_t>(n0 + r) * C;
        float a = 0.0f;
#pragma omp simd reduction(+ : a)
        for (int c = 0; c < C; ++c) a += x[c] * w[c];
        acc[r] = a;
      }
      for (int r = 0; r < rows; ++r) out[static_cast<std::size_t>(n0 + r) * OC + j] = acc[r] + (bias ? bias[j] : 0.0f);
    }
  }
}

}  // namespace scalinglab::kernels::cpu
