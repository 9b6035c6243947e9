#include "scalinglab/kernels/cpu/matmul.h"

#include <cblas.h>

#include <cstddef>

namespace scalinglab::kernels::cpu {

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int N, int C, int OC) {
  float beta = 0.0f;
  if (bias) {
    // Seed out with the bias and let sgemm accumulate onto it (beta = 1): one pass fewer over out.
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; ++n) {
      float* o = out + static_cast<std::size_t>(n) * OC;
      for (int j = 0; j < OC; ++j) o[j] = bias[j];
    }
    beta = 1.0f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, weight, C, beta, out, OC);
}

void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp, const float* weight,
                     int N, int C, int OC) {
  if (dinp) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, weight, C, 1.0f, dinp, C);
  if (dweight) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dweight, C);
  if (dbias) {
    // Column sums; threads own column slices and add rows in order (deterministic, vectorised).
    constexpr int kSlice = 64;
    const int slices = (OC + kSlice - 1) / kSlice;
#pragma omp parallel for schedule(static)
    for (int s = 0; s < slices; ++s) {
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
