#include "scalinglab/kernels/cpu/matvec.h"

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

}  // namespace

float round_to_bf16(float x) {
  if (x != x) return x;
  return round_bf16_finite(x);
}

void matvec_forward(float* out, const float* inp, const float* weight, const float* bias, int C, int OC,
                    Precision p) {
  if (p == Precision::fp32) {
    matvec_impl<false>(out, inp, weight, bias, C, OC);
    return;
  }
  thread_local std::vector<float> xr;  // inp rounded once, not once per output
  if (xr.size() < static_cast<std::size_t>(C)) xr.resize(static_cast<std::size_t>(C));
  for (int c = 0; c < C; ++c) xr[c] = round_to_bf16(inp[c]);
  matvec_impl<true>(out, xr.data(), weight, bias, C, OC);
}

}  // namespace scalinglab::kernels::cpu
