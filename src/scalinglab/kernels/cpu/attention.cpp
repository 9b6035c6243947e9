#include "scalinglab/kernels/cpu/attention.h"

#include <cmath>
#include <cstddef>
#include <vector>

#include "scalinglab/kernels/cpu/vec_math.h"

namespace scalinglab::kernels::cpu {

void attention_forward(float* out, float* att, const float* inp, int B, int T, int C, int NH) {
  const int hs = C / NH;
  const int C3 = 3 * C;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
#pragma omp parallel for collapse(3) schedule(static)
  for (int b = 0; b < B; ++b) {
    for (int t = 0; t < T; ++t) {
      for (int h = 0; h < NH; ++h) {
        const float* q = inp + (static_cast<std::size_t>(b) * T + t) * C3 + h * hs;
        float* a = att + ((static_cast<std::size_t>(b) * NH + h) * T + t) * T;
        float maxv = -INFINITY;
        for (int t2 = 0; t2 <= t; ++t2) {
          const float* k = inp + (static_cast<std::size_t>(b) * T + t2) * C3 + C + h * hs;
          float s = 0.0f;
#pragma omp simd reduction(+ : s)
          for (int i = 0; i < hs; ++i) s += q[i] * k[i];
          s *= scale;
          a[t2] = s;
          if (s > maxv) maxv = s;
        }
        // Subtracting the row max keeps exp() in range; it cancels in the normalisation.
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int t2 = 0; t2 <= t; ++t2) {
          a[t2] = vexp(a[t2] - maxv);
          sum += a[t2];
        }
        const float inv = 1.0f / sum;
        for (int t2 = 0; t2 <= t; ++t2) a[t2] *= inv;
        for (int t2 = t + 1; t2 < T; ++t2) a[t2] = 0.0f;  // the causal mask, explicit for backward
        float* o = out + (static_cast<std::size_t>(b) * T + t) * C + h * hs;
        for (int i = 0; i < hs; ++i) o[i] = 0.0f;
        for (int t2 = 0; t2 <= t; ++t2) {
          const float* v = inp + (static_cast<std::size_t>(b) * T + t2) * C3 + 2 * C + h * hs;
          const float w = a[t2];
          for (int i = 0; i < hs; ++i) o[i] += w * v[i];
        }
      }
    }
  }
}

void attention_backward(float* dinp, const float* dout, const float* inp, const float* att, int B, int T, int C, int NH) {
  const int hs = C / NH;
  const int C3 = 3 * C;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  // One (b,h) pair per task: it writes only its own head's slice of dq, dk, dv, so keys shared
  // between query positions are accumulated by one thread in a fixed order.
#pragma omp parallel
  {
    std::vector<float> datt(static_cast<std::size_t>(T));
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < B; ++b) {
      for (int h = 0; h < NH; ++h) {
        for (int t = 0; t < T; ++t) {
          const float* a = att + ((static_cast<std::size_t>(b) * NH + h) * T + t) * T;
          const float* d = dout + (static_cast<std::size_t>(b) * T + t) * C + h * hs;
          const float* q = inp + (static_cast<std::size_t>(b) * T + t) * C3 + h * hs;
          float* dq = dinp + (static_cast<std::size_t>(b) * T + t) * C3 + h * hs;
          // out = Σ a·v  →  datt = dout·v, dv += a·dout
          for (int t2 = 0; t2 <= t; ++t2) {
            const float* v = inp + (static_cast<std::size_t>(b) * T + t2) * C3 + 2 * C + h * hs;
            float* dv = dinp + (static_cast<std::size_t>(b) * T + t2) * C3 + 2 * C + h * hs;
            float s = 0.0f;
#pragma omp simd reduction(+ : s)
            for (int i = 0; i < hs; ++i) s += d[i] * v[i];
            datt[t2] = s;
            const float w = a[t2];
            for (int i = 0; i < hs; ++i) dv[i] += w * d[i];
          }
          // Softmax Jacobian: dscore = a ⊙ (datt - Σ a·datt).
          float dot = 0.0f;
          for (int t2 = 0; t2 <= t; ++t2) dot += a[t2] * datt[t2];
          for (int t2 = 0; t2 <= t; ++t2) {
            const float g = a[t2] * (datt[t2] - dot) * scale;
            const float* k = inp + (static_cast<std::size_t>(b) * T + t2) * C3 + C + h * hs;
            float* dk = dinp + (static_cast<std::size_t>(b) * T + t2) * C3 + C + h * hs;
            for (int i = 0; i < hs; ++i) {
              dq[i] += g * k[i];
              dk[i] += g * q[i];
            }
          }
        }
      }
    }
  }
}

}  // namespace scalinglab::kernels::cpu
