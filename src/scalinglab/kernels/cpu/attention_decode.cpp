#include "scalinglab/kernels/cpu/attention_decode.h"

#include <immintrin.h>

#include <cmath>
#include <cstddef>

#include "scalinglab/kernels/cpu/gemm.h"
#include "scalinglab/kernels/cpu/vec_math.h"

namespace scalinglab::kernels::cpu {

namespace {
constexpr int kLanes = 16;  // one AVX-512 register of floats

#define SL_AVX512_AD __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

// The same loops with explicit registers: scores 16 keys per zmm summed over the head's
// channels, the output 16 channels per zmm summed over keys (masked tails, no padding needed).
SL_AVX512_AD void attention_decode_avx512(float* out, float* att, const float* q, const float* kt, long ldk,
                                          const float* v, long ldv, int T, int C, int NH) {
  const int hs = C / NH;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  for (int h = 0; h < NH; ++h) {
    const float* qh = q + static_cast<std::size_t>(h) * hs;
    const float* kh = kt + static_cast<std::size_t>(h) * hs * ldk;
    for (int j0 = 0; j0 < T; j0 += 4 * kLanes) {
      // Four key blocks at once: four independent FMA chains.
      const int n = T - j0;
      const __mmask16 m0 = n >= 16 ? 0xffff : static_cast<__mmask16>((1u << n) - 1);
      const __mmask16 m1 = n >= 32 ? 0xffff : n > 16 ? static_cast<__mmask16>((1u << (n - 16)) - 1) : 0;
      const __mmask16 m2 = n >= 48 ? 0xffff : n > 32 ? static_cast<__mmask16>((1u << (n - 32)) - 1) : 0;
      const __mmask16 m3 = n >= 64 ? 0xffff : n > 48 ? static_cast<__mmask16>((1u << (n - 48)) - 1) : 0;
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int i = 0; i < hs; ++i) {
        const __m512 qi = _mm512_set1_ps(qh[i] * scale);
        const float* kr = kh + static_cast<std::size_t>(i) * ldk + j0;
        a0 = _mm512_fmadd_ps(qi, _mm512_maskz_loadu_ps(m0, kr), a0);
        if (m1) a1 = _mm512_fmadd_ps(qi, _mm512_maskz_loadu_ps(m1, kr + 16), a1);
        if (m2) a2 = _mm512_fmadd_ps(qi, _mm512_maskz_loadu_ps(m2, kr + 32), a2);
        if (m3) a3 = _mm512_fmadd_ps(qi, _mm512_maskz_loadu_ps(m3, kr + 48), a3);
      }
      _mm512_mask_storeu_ps(att + j0, m0, a0);
      if (m1) _mm512_mask_storeu_ps(att + j0 + 16, m1, a1);
      if (m2) _mm512_mask_storeu_ps(att + j0 + 32, m2, a2);
      if (m3) _mm512_mask_storeu_ps(att + j0 + 48, m3, a3);
    }
    softmax_inplace(att, T);
    float* oh = out + static_cast<std::size_t>(h) * hs;
    const float* vh = v + static_cast<std::size_t>(h) * hs;
    for (int i0 = 0; i0 < hs; i0 += kLanes) {
      const int n = hs - i0;
      const __mmask16 m = n >= 16 ? 0xffff : static_cast<__mmask16>((1u << n) - 1);
      // Two chains over alternate keys, added at the end.
      __m512 e = _mm512_setzero_ps(), o = e;
      int j = 0;
      for (; j + 2 <= T; j += 2) {
        e = _mm512_fmadd_ps(_mm512_set1_ps(att[j]), _mm512_maskz_loadu_ps(m, vh + j * ldv + i0), e);
        o = _mm512_fmadd_ps(_mm512_set1_ps(att[j + 1]), _mm512_maskz_loadu_ps(m, vh + (j + 1) * ldv + i0), o);
      }
      if (j < T) e = _mm512_fmadd_ps(_mm512_set1_ps(att[j]), _mm512_maskz_loadu_ps(m, vh + j * ldv + i0), e);
      _mm512_mask_storeu_ps(oh + i0, m, _mm512_add_ps(e, o));
    }
  }
}

void attention_decode_portable(float* out, float* att, const float* q, const float* kt, long ldk, const float* v,
                               long ldv, int T, int C, int NH) {
  const int hs = C / NH;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  for (int h = 0; h < NH; ++h) {
    const float* qh = q + static_cast<std::size_t>(h) * hs;
    // Scores kLanes keys at a time, summed over the head's channels in one register.
    const float* kh = kt + static_cast<std::size_t>(h) * hs * ldk;
    int j0 = 0;
    for (; j0 + kLanes <= T; j0 += kLanes) {
      float acc[kLanes] = {};
      for (int i = 0; i < hs; ++i) {
        const float qi = qh[i] * scale;
        const float* kr = kh + static_cast<std::size_t>(i) * ldk + j0;
#pragma omp simd
        for (int l = 0; l < kLanes; ++l) acc[l] += qi * kr[l];
      }
      for (int l = 0; l < kLanes; ++l) att[j0 + l] = acc[l];
    }
    if (j0 < T) {
      const int m = T - j0;
      float acc[kLanes] = {};
      for (int i = 0; i < hs; ++i) {
        const float qi = qh[i] * scale;
        const float* kr = kh + static_cast<std::size_t>(i) * ldk + j0;
        for (int l = 0; l < m; ++l) acc[l] += qi * kr[l];
      }
      for (int l = 0; l < m; ++l) att[j0 + l] = acc[l];
    }
    softmax_inplace(att, T);
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

}  // namespace

void attention_decode_forward(float* out, float* att, const float* q, const float* kt, long ldk, const float* v,
                              long ldv, int T, int C, int NH) {
  if (cpu_has_avx512()) attention_decode_avx512(out, att, q, kt, ldk, v, ldv, T, C, NH);
  else attention_decode_portable(out, att, q, kt, ldk, v, ldv, T, C, NH);
}

}  // namespace scalinglab::kernels::cpu
