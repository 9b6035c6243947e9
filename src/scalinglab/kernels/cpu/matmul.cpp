#include "scalinglab/kernels/cpu/matmul.h"

#include <cblas.h>

#include <cstddef>

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

}  // namespace

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int N, int C, int OC) {
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

void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp, const float* weight,
                     int N, int C, int OC) {
  use_single_threaded_blas();
  if (dinp) {
#pragma omp parallel for schedule(static)
    for (int rb = 0; rb < blocks(N, kRowBlock); ++rb) {
      const int n0 = rb * kRowBlock, rows = n0 + kRowBlock <= N ? kRowBlock : N - n0;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, C, OC, 1.0f, dout + static_cast<std::size_t>(n0) * OC,
                  OC, weight, C, 1.0f, dinp + static_cast<std::size_t>(n0) * C, C);
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
    // Column sums; threads own column slices and add rows in order (deterministic, vectorised).
    constexpr int kSlice = 64;
#pragma omp parallel for schedule(static)
    for (int s = 0; s < blocks(OC, kSlice); ++s) {
      const int j0 = s * kSlice, j1 = j0 + kSlice < OC ? j0 + kSlice : OC;
      for (int n = 0; n < N; ++n) {
        const float* d = dout + static_cast<std::size_t>(n) * OC;
        for (int j = j0; j < j1; ++j) dbias[j] += d[j];
      }
    }
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
