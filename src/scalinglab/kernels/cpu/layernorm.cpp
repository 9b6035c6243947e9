#include "scalinglab/kernels/cpu/layernorm.h"

#include "scalinglab/kernels/cpu/parallel.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace scalinglab::kernels::cpu {

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight, const float* bias,
                       int N, int C) {
#pragma omp parallel for schedule(static) if (parallel_worth(static_cast<long>(N) * C))
  for (int n = 0; n < N; ++n) {
    const float* x = inp + static_cast<std::size_t>(n) * C;
    float* o = out + static_cast<std::size_t>(n) * C;
    // Two passes (mean, then centred second moment) rather than E[x²]-E[x]²: the residual stream
    // can have a large mean relative to its spread, where the one-pass form cancels badly.
    float m = 0.0f;
#pragma omp simd reduction(+ : m)
    for (int c = 0; c < C; ++c) m += x[c];
    m /= static_cast<float>(C);
    float v = 0.0f;
#pragma omp simd reduction(+ : v)
    for (int c = 0; c < C; ++c) v += (x[c] - m) * (x[c] - m);
    v /= static_cast<float>(C);
    const float s = 1.0f / std::sqrt(v + kLayerNormEps);
    for (int c = 0; c < C; ++c) o[c] = (x[c] - m) * s * weight[c] + bias[c];
    mean[n] = m;
    rstd[n] = s;
  }
}

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                        const float* weight, const float* mean, const float* rstd, int N, int C,
                        bool accumulate_dinp) {
  // One pass over the rows: each fixed block of kRows rows computes its input gradients and its
  // partial parameter gradients (rows summed in order), then the partials are added block after
  // block. The blocks do not depend on the thread count, so neither does any sum. (The former
  // second pass, threads owning channel slices and re-reading every row, cost as much as the
  // input gradient for C = 64-128.)
  constexpr int kRows = 32;
  const int nblocks = (N + kRows - 1) / kRows;
  thread_local std::vector<float> partial;
  if (partial.size() < static_cast<std::size_t>(nblocks) * 2 * C) partial.resize(static_cast<std::size_t>(nblocks) * 2 * C);
  float* part = partial.data();
#pragma omp parallel
  {
#pragma omp for schedule(static)
    for (int blk = 0; blk < nblocks; ++blk) {
      float* pw = part + static_cast<std::size_t>(blk) * 2 * C;
      float* pb = pw + C;
      for (int c = 0; c < C; ++c) pw[c] = 0.0f, pb[c] = 0.0f;
      const int n1 = std::min(N, (blk + 1) * kRows);
      for (int n = blk * kRows; n < n1; ++n) {
        const float* x = inp + static_cast<std::size_t>(n) * C;
        const float* d = dout + static_cast<std::size_t>(n) * C;
        float* dx = dinp + static_cast<std::size_t>(n) * C;
        const float m = mean[n], s = rstd[n];
        // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dout * w: the two means are
        // the projections removed by the centring and by the scaling.
        float g_mean = 0.0f, gx_mean = 0.0f;
#pragma omp simd reduction(+ : g_mean, gx_mean)
        for (int c = 0; c < C; ++c) {
          const float g = d[c] * weight[c];
          g_mean += g;
          gx_mean += g * (x[c] - m) * s;
        }
        g_mean /= static_cast<float>(C);
        gx_mean /= static_cast<float>(C);
        if (accumulate_dinp) {
#pragma omp simd
          for (int c = 0; c < C; ++c) dx[c] += s * (d[c] * weight[c] - g_mean - (x[c] - m) * s * gx_mean);
        } else {
#pragma omp simd
          for (int c = 0; c < C; ++c) dx[c] = s * (d[c] * weight[c] - g_mean - (x[c] - m) * s * gx_mean);
        }
#pragma omp simd
        for (int c = 0; c < C; ++c) {
          pw[c] += d[c] * (x[c] - m) * s;
          pb[c] += d[c];
        }
      }
    }
    // Implicit barrier above; now channel slices, blocks in order.
    constexpr int kSlice = 16;
#pragma omp for schedule(static)
    for (int c0 = 0; c0 < C; c0 += kSlice) {
      const int c1 = std::min(C, c0 + kSlice);
      float sw[kSlice] = {}, sb[kSlice] = {};
      for (int blk = 0; blk < nblocks; ++blk) {
        const float* pw = part + static_cast<std::size_t>(blk) * 2 * C;
        for (int c = c0; c < c1; ++c) sw[c - c0] += pw[c], sb[c - c0] += pw[C + c];
      }
      for (int c = c0; c < c1; ++c) dweight[c] += sw[c - c0], dbias[c] += sb[c - c0];
    }
  }
}

}  // namespace scalinglab::kernels::cpu
