#include "scalinglab/kernels/cpu/layernorm.h"

#include <cmath>
#include <cstddef>

namespace scalinglab::kernels::cpu {

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight, const float* bias,
                       int N, int C) {
#pragma omp parallel for schedule(static)
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
  // Input gradient: rows are independent.
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; ++n) {
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
      for (int c = 0; c < C; ++c) dx[c] += s * (d[c] * weight[c] - g_mean - (x[c] - m) * s * gx_mean);
    } else {
      for (int c = 0; c < C; ++c) dx[c] = s * (d[c] * weight[c] - g_mean - (x[c] - m) * s * gx_mean);
    }
  }
  // Parameter gradients sum over rows; threads own channel slices and walk rows in order, which
  // keeps the result deterministic and independent of the thread count (no reduction tree).
  constexpr int kSlice = 16;
  const int slices = (C + kSlice - 1) / kSlice;
#pragma omp parallel for schedule(static)
  for (int sl = 0; sl < slices; ++sl) {
    const int c0 = sl * kSlice, c1 = c0 + kSlice < C ? c0 + kSlice : C;
    for (int n = 0; n < N; ++n) {
      const float* x = inp + static_cast<std::size_t>(n) * C;
      const float* d = dout + static_cast<std::size_t>(n) * C;
      const float m = mean[n], s = rstd[n];
      for (int c = c0; c < c1; ++c) {
        dweight[c] += d[c] * (x[c] - m) * s;
        dbias[c] += d[c];
      }
    }
  }
}

}  // namespace scalinglab::kernels::cpu
