#include "scalinglab/kernels/cpu/attention_decode.h"

#include <cmath>
#include <cstddef>

#include "scalinglab/kernels/cpu/vec_math.h"

namespace scalinglab::kernels::cpu {

namespace {
constexpr int kLanes = 16;  // one AVX-512 register of floats
}

void attention_decode_forward(float* out, float* att, const float* q, const float* kt, long ldk, const float* v,
                              long ldv, int T, int C, int NH) {
  const int hs = C / NH;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  for (int h = 0; h < NH; ++h) {
    const float* qh = q + static_cast<std::size_t>(h) * hs;
#pragma omp simd
    for (int j = 0; j < T; ++j) att[j] = 0.0f;
    for (int i = 0; i < hs; ++i) {
      const float qi = qh[i] * scale;
      const float* krow = kt + static_cast<std::size_t>(h * hs + i) * ldk;
#pragma omp simd
      for (int j = 0; j < T; ++j) att[j] += qi * krow[j];
    }
    float maxv = -INFINITY;
#pragma omp simd reduction(max : maxv)
    for (int j = 0; j < T; ++j) maxv = att[j] > maxv ? att[j] : maxv;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < T; ++j) {
      att[j] = vexp(att[j] - maxv);
      sum += att[j];
    }
    const float inv = 1.0f / sum;
#pragma omp simd
    for (int j = 0; j < T; ++j) att[j] *= inv;
    // out_h = Σ_j att[j]·v[j], kLanes channels at a time with the sums in one register
    // (accumulating in memory makes every key's store wait for the previous one).
    float* oh = out + static_cast<std::size_t>(h) * hs;
    const float* vh = v + static_cast<std::size_t>(h) * hs;
    int i0 = 0;
    for (; i0 + kLanes <= hs; i0 += kLanes) {
      float acc[kLanes] = {};
      for (int j = 0; j < T; ++j) {
        const float w = att[j];
        const float* vr = vh + static_cast<std::size_t>(j) * ldv + i0;
#pragma omp simd
        for (int l = 0; l < kLanes; ++l) acc[l] += w * vr[l];
      }
      for (int l = 0; l < kLanes; ++l) oh[i0 + l] = acc[l];
    }
    if (i0 < hs) {
      const int m = hs - i0;
      float acc[kLanes] = {};
      for (int j = 0; j < T; ++j) {
        const float w = att[j];
        const float* vr = vh + static_cast<std::size_t>(j) * ldv + i0;
        for (int l = 0; l < m; ++l) acc[l] += w * vr[l];
      }
      for (int l = 0; l < m; ++l) oh[i0 + l] = acc[l];
    }
  }
}

}  // namespace scalinglab::kernels::cpu
