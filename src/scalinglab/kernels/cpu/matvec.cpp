#include "scalinglab/kernels/cpu/matvec.h"

#include <immintrin.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace scalinglab::kernels::cpu {

namespace {

// Branch-free so the bf16 loop still vectorises; NaN is handled by the caller-visible wrapper
// only (weights and activations of a working model are finite, and a NaN input makes a NaN
// output either way through the other operand's product).
inline float round_bf16_finite(float x) {
  std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return std::bit_cast<float>(u & 0xFFFF0000u);
}

// Four outputs per pass over inp: inp is read once per four weight rows, and the four
// independent sums keep the FMA units busy (a single dot product is one dependent chain per
// vector lane).
template <bool kBf16>
void matvec_impl(float* out, const float* x, const float* weight, const float* bias, int C, int OC) {
  int o = 0;
  for (; o + 4 <= OC; o += 4) {
    const float* w0 = weight + static_cast<std::size_t>(o) * C;
    const float* w1 = w0 + C;
    const float* w2 = w1 + C;
    const float* w3 = w2 + C;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
    for (int c = 0; c < C; ++c) {
      const float xc = x[c];
      if constexpr (kBf16) {
        s0 += xc * round_bf16_finite(w0[c]);
        s1 += xc * round_bf16_finite(w1[c]);
        s2 += xc * round_bf16_finite(w2[c]);
        s3 += xc * round_bf16_finite(w3[c]);
      } else {
        s0 += xc * w0[c];
        s1 += xc * w1[c];
        s2 += xc * w2[c];
        s3 += xc * w3[c];
      }
    }
    out[o] = (bias ? bias[o] : 0.0f) + s0;
    out[o + 1] = (bias ? bias[o + 1] : 0.0f) + s1;
    out[o + 2] = (bias ? bias[o + 2] : 0.0f) + s2;
    out[o + 3] = (bias ? bias[o + 3] : 0.0f) + s3;
  }
  for (; o < OC; ++o) {
    const float* w = weight + static_cast<std::size_t>(o) * C;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int c = 0; c < C; ++c) {
      if constexpr (kBf16) s += x[c] * round_bf16_finite(w[c]);
      else s += x[c] * w[c];
    }
    out[o] = (bias ? bias[o] : 0.0f) + s;
  }
}

#define SL_AVX512_MV __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

// bf16 rounding of 16 lanes, the same integer arithmetic as round_bf16_finite.
SL_AVX512_MV inline __m512 round_bf16_x16(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), lsb);
  return _mm512_castsi512_ps(_mm512_and_si512(r, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
}

// The same four-rows-per-pass scheme with one zmm accumulator per row (16 lanes of partial sums
// over c, then a fixed reduction tree). 2-3.5× the auto-vectorised loop on the dev box (which
// GCC 12 compiles for 256-bit vectors under -march=native): C=128, OC=384 4.0 µs vs 8.9 µs.
template <bool kBf16>
SL_AVX512_MV inline __m512 load_w(const float* p) {
  const __m512 w = _mm512_loadu_ps(p);
  if constexpr (kBf16) return round_bf16_x16(w);
  else return w;
}
template <bool kBf16>
SL_AVX512_MV inline __m512 load_w_tail(__mmask16 tail, const float* p) {
  const __m512 w = _mm512_maskz_loadu_ps(tail, p);
  if constexpr (kBf16) return round_bf16_x16(w);
  else return w;
}

template <bool kBf16>
SL_AVX512_MV void matvec_avx512(float* out, const float* x, const float* weight, const float* bias, int C, int OC) {
  const int full = C / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (C - full)) - 1);
  int o = 0;
  for (; o + 4 <= OC; o += 4) {
    const float* w0 = weight + static_cast<std::size_t>(o) * C;
    const float* w1 = w0 + C;
    const float* w2 = w1 + C;
    const float* w3 = w2 + C;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int c = 0;
    for (; c < full; c += 16) {
      const __m512 xv = _mm512_loadu_ps(x + c);
      a0 = _mm512_fmadd_ps(xv, load_w<kBf16>(w0 + c), a0);
      a1 = _mm512_fmadd_ps(xv, load_w<kBf16>(w1 + c), a1);
      a2 = _mm512_fmadd_ps(xv, load_w<kBf16>(w2 + c), a2);
      a3 = _mm512_fmadd_ps(xv, load_w<kBf16>(w3 + c), a3);
    }
    if (c < C) {
      const __m512 xv = _mm512_maskz_loadu_ps(tail, x + c);
      a0 = _mm512_fmadd_ps(xv, load_w_tail<kBf16>(tail, w0 + c), a0);
      a1 = _mm512_fmadd_ps(xv, load_w_tail<kBf16>(tail, w1 + c), a1);
      a2 = _mm512_fmadd_ps(xv, load_w_tail<kBf16>(tail, w2 + c), a2);
      a3 = _mm512_fmadd_ps(xv, load_w_tail<kBf16>(tail, w3 + c), a3);
    }
    out[o] = (bias ? bias[o] : 0.0f) + _mm512_reduce_add_ps(a0);
    out[o + 1] = (bias ? bias[o + 1] : 0.0f) + _mm512_reduce_add_ps(a1);
    out[o + 2] = (bias ? bias[o + 2] : 0.0f) + _mm512_reduce_add_ps(a2);
    out[o + 3] = (bias ? bias[o + 3] : 0.0f) + _mm512_reduce_add_ps(a3);
  }
  for (; o < OC; ++o) {
    const float* w = weight + static_cast<std::size_t>(o) * C;
    __m512 a = _mm512_setzero_ps();
    int c = 0;
    for (; c < full; c += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(x + c), load_w<kBf16>(w + c), a);
    if (c < C) a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, x + c), load_w_tail<kBf16>(tail, w + c), a);
    out[o] = (bias ? bias[o] : 0.0f) + _mm512_reduce_add_ps(a);
  }
}

template <bool kBf16>
void matvec_dispatch(float* out, const float* x, const float* weight, const float* bias, int C, int OC) {
  if (cpu_has_avx512()) matvec_avx512<kBf16>(out, x, weight, bias, C, OC);
  else matvec_impl<kBf16>(out, x, weight, bias, C, OC);
}

}  // namespace

float round_to_bf16(float x) {
  if (x != x) return x;
  return round_bf16_finite(x);
}

void matvec_forward(float* out, const float* inp, const float* weight, const float* bias, int C, int OC,
                    Precision p) {
  if (p == Precision::fp32) {
    matvec_dispatch<false>(out, inp, weight, bias, C, OC);
    return;
  }
  thread_local std::vector<float> xr;  // inp rounded once, not once per output
  if (xr.size() < static_cast<std::size_t>(C)) xr.resize(static_cast<std::size_t>(C));
  for (int c = 0; c < C; ++c) xr[c] = round_to_bf16(inp[c]);
  matvec_dispatch<true>(out, xr.data(), weight, bias, C, OC);
}

}  // namespace scalinglab::kernels::cpu
