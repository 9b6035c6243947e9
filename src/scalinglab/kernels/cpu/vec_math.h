#pragma once
// exp() that the compiler can vectorise. glibc's expf/tanhf are scalar calls unless the whole
// build uses -ffast-math (libmvec is only declared then); in a profile of the B=16 benchmark
// step, tanhf and its expm1f took 24% of the time. This is Cephes' expf (S. Moshier): range
// reduction x = n·ln2 + r with ln2 split in two for exactness, a degree-6 polynomial for e^r,
// and 2^n assembled in the exponent bits. Max relative error ~2 ulp (tested against std::exp).
#include <bit>
#include <cmath>
#include <cstdint>

namespace scalinglab::kernels::cpu {

inline float vexp(float x) {
  // Below -87.3 the result would be subnormal; clamp (exp(-87.3) ≈ 1.2e-38, not 0) — every
  // caller adds or normalises these values, where that difference is invisible.
  x = x < 88.3762626647949f ? x : 88.3762626647949f;
  x = x > -87.3365478515625f ? x : -87.3365478515625f;
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * z + r + 1.0f;
  const std::int32_t bits = (static_cast<std::int32_t>(n) + 127) << 23;
  return p * std::bit_cast<float>(bits);
}

// Softmax of x[0..n) in place: subtract the row max (it keeps exp() in range and cancels in the
// normalisation), vexp, one division. The one copy used by attention's forward and its one-query
// decode step, so both normalise a row in the same order.
inline void softmax_inplace(float* x, int n) {
  float maxv = -INFINITY;
#pragma omp simd reduction(max : maxv)
  for (int j = 0; j < n; ++j) maxv = x[j] > maxv ? x[j] : maxv;
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int j = 0; j < n; ++j) {
    x[j] = vexp(x[j] - maxv);
    sum += x[j];
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int j = 0; j < n; ++j) x[j] *= inv;
}

}  // namespace scalinglab::kernels::cpu
