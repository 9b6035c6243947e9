#include "scalinglab/kernels/cpu/gemm.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace scalinglab::kernels::cpu {

const char* precision_name(Precision p) { return p == Precision::bf16 ? "bf16" : "fp32"; }

Precision parse_precision(const std::string& s) {
  if (s == "fp32") return Precision::fp32;
  if (s == "bf16") return Precision::bf16;
  throw std::invalid_argument("precision '" + s + "': expected fp32 or bf16");
}

bool cpu_has_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return ok;
}

bool cpu_has_avx512_bf16() {
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
  static const bool ok = cpu_has_avx512() && __builtin_cpu_supports("avx512bf16");
#else
  static const bool ok = false;
#endif
  return ok;
}

bool gemm_available(Precision p) { return p == Precision::bf16 ? cpu_has_avx512_bf16() : cpu_has_avx512(); }

void require_precision(Precision p) {
  if (p == Precision::bf16 && !cpu_has_avx512_bf16())
    throw std::runtime_error("precision bf16 needs a CPU with AVX512-BF16 (e.g. AMD Zen 4+, Intel Cooper Lake / "
                             "Sapphire Rapids+); this CPU does not report avx512bf16 - use --precision fp32");
}

namespace {

constexpr int kMr = 12;   // rows of C per micro-tile (broadcast from packed A)
constexpr int kNr = 32;   // columns of C per micro-tile (two 16-float vectors from packed B)
constexpr int kMc = 96;   // rows of A packed at once (8 micro-panels, ~96 KB fp32: L2)
constexpr int kKc = 256;  // depth per chunk: a 32×256 fp32 B micro-panel is 32 KB (L1)

int cdiv(int a, int b) { return (a + b - 1) / b; }

// Buffers grow as needed and live as long as the thread (OpenMP keeps its pool).
template <class T>
T* scratch(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

// ---- packing ------------------------------------------------------------------------------
// fp32: B panel jp holds B(k, jp·kNr + j) at [jp][k][j] for the whole K (zero beyond N);
//       A micro-panel ip holds A(i0 + ip·kMr + i, k0 + k) at [ip][k][i] (zero beyond M).
// bf16: the same with k in pairs: [.][k/2][j][k%2], so one 32-bit broadcast of A carries the two
//       values VDPBF16PS multiplies with the two adjacent bf16 of each B lane. K is padded to
//       even with zeros.

void pack_b_f32(float* dst, MatView B, int K, int N, int jp) {
  const int j0 = jp * kNr, nr = std::min(kNr, N - j0);
  float* d = dst + static_cast<std::size_t>(jp) * K * kNr;
  if (B.cs == 1) {
    for (int k = 0; k < K; ++k) {
      const float* s = B.p + k * B.rs + j0;
      float* o = d + static_cast<std::size_t>(k) * kNr;
      for (int j = 0; j < nr; ++j) o[j] = s[j];
      for (int j = nr; j < kNr; ++j) o[j] = 0.0f;
    }
  } else {
    for (int j = 0; j < kNr; ++j) {
      if (j < nr) {
        const float* s = B.p + (j0 + j) * B.cs;
        for (int k = 0; k < K; ++k) d[static_cast<std::size_t>(k) * kNr + j] = s[k * B.rs];
      } else {
        for (int k = 0; k < K; ++k) d[static_cast<std::size_t>(k) * kNr + j] = 0.0f;
      }
    }
  }
}

void pack_a_f32(float* dst, MatView A, int M, int i0, int mc, int k0, int kc) {
  for (int ip = 0; ip < cdiv(mc, kMr); ++ip) {
    float* d = dst + static_cast<std::size_t>(ip) * kc * kMr;
    const int r0 = i0 + ip * kMr, mr = std::min(kMr, M - r0);
    if (A.cs == 1) {
      for (int i = 0; i < kMr; ++i) {
        if (i < mr) {
          const float* s = A.p + (r0 + i) * A.rs + k0;
          for (int k = 0; k < kc; ++k) d[k * kMr + i] = s[k];
        } else {
          for (int k = 0; k < kc; ++k) d[k * kMr + i] = 0.0f;
        }
      }
    } else {
      for (int k = 0; k < kc; ++k) {
        const float* s = A.p + (k0 + k) * A.cs + r0 * A.rs;
        float* o = d + k * kMr;
        for (int i = 0; i < mr; ++i) o[i] = s[i * A.rs];
        for (int i = mr; i < kMr; ++i) o[i] = 0.0f;
      }
    }
  }
}

// bf16 packing converts with VCVTNE2PS2BF16 (round to nearest even) 32 values at a time and
// interleaves the two k rows of a pair with one 16-bit permute; done in scalar code it cost
// more than the bf16 multiply itself on the dW shapes.
#define SL_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

// Two rows of 16 floats → 16 (lo[j], hi[j]) bf16 pairs, i.e. one 32-bit lane per pair.
SL_BF16_TARGET inline __m512i pair_rows(__m512 lo, __m512 hi) {
  const __m512i v = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);  // [bf(lo0..15), bf(hi0..15)]
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21,
                                       5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(idx, v);
}
inline __mmask16 mask16(int n) { return n >= 16 ? 0xffff : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1); }

SL_BF16_TARGET void pack_b_bf16(std::uint16_t* dst, MatView B, int K, int N, int jp) {
  const int j0 = jp * kNr, nr = std::min(kNr, N - j0), Kp = (K + 1) & ~1;
  std::uint16_t* d = dst + static_cast<std::size_t>(jp) * Kp * kNr;
  if (B.cs == 1) {
    const __mmask16 m0 = mask16(nr), m1 = mask16(nr - 16);
    for (int k = 0; k < Kp; k += 2) {
      const float* s0 = B.p + k * B.rs + j0;
      const float* s1 = s0 + B.rs;
      const bool has1 = k + 1 < K;
      std::uint16_t* o = d + static_cast<std::size_t>(k) * kNr;
      const __m512 lo0 = _mm512_maskz_loadu_ps(m0, s0), lo1 = _mm512_maskz_loadu_ps(m1, s0 + 16);
      const __m512 hi0 = has1 ? _mm512_maskz_loadu_ps(m0, s1) : _mm512_setzero_ps();
      const __m512 hi1 = has1 ? _mm512_maskz_loadu_ps(m1, s1 + 16) : _mm512_setzero_ps();
      _mm512_storeu_si512(o, pair_rows(lo0, hi0));
      _mm512_storeu_si512(o + 32, pair_rows(lo1, hi1));
    }
  } else {  // B(k, j) contiguous in k (B = Wᵀ): convert 32 k at a time, write each pair's column
    std::uint32_t* d32 = reinterpret_cast<std::uint32_t*>(d);
    alignas(64) std::uint32_t tmp[16];
    for (int j = 0; j < kNr; ++j) {
      if (j >= nr) {
        for (int kp = 0; kp < Kp / 2; ++kp) d32[static_cast<std::size_t>(kp) * kNr + j] = 0;
        continue;
      }
      const float* s = B.p + (j0 + j) * B.cs;
      for (int k = 0; k < Kp; k += 32) {
        const __m512 lo = _mm512_maskz_loadu_ps(mask16(K - k), s + k);
        const __m512 hi = _mm512_maskz_loadu_ps(mask16(K - k - 16), s + k + 16);
        _mm512_store_si512(tmp, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));  // pairs in k order
        const int np = std::min(16, (Kp - k) / 2);
        for (int q = 0; q < np; ++q) d32[static_cast<std::size_t>(k / 2 + q) * kNr + j] = tmp[q];
      }
    }
  }
}

SL_BF16_TARGET void pack_a_bf16(std::uint16_t* dst, MatView A, int M, int i0, int mc, int k0, int kc /* even */,
                                int K) {
  for (int ip = 0; ip < cdiv(mc, kMr); ++ip) {
    std::uint16_t* d = dst + static_cast<std::size_t>(ip) * kc * kMr;
    const int r0 = i0 + ip * kMr, mr = std::min(kMr, M - r0);
    if (A.rs == 1) {  // A(i, k) contiguous in i (A = doutᵀ in dW)
      const __mmask16 m = mask16(mr);
      for (int k = 0; k < kc; k += 2) {
        const int kk = k0 + k;
        const float* s0 = A.p + kk * A.cs + r0;
        const __m512 lo = kk < K ? _mm512_maskz_loadu_ps(m, s0) : _mm512_setzero_ps();
        const __m512 hi = kk + 1 < K ? _mm512_maskz_loadu_ps(m, s0 + A.cs) : _mm512_setzero_ps();
        _mm512_mask_storeu_epi16(d + k * kMr, 0xffffffu, pair_rows(lo, hi));  // 12 pairs
      }
    } else {  // A(i, k) contiguous in k (row-major A)
      std::uint32_t* d32 = reinterpret_cast<std::uint32_t*>(d);
      alignas(64) std::uint32_t tmp[16];
      for (int i = 0; i < kMr; ++i) {
        if (i >= mr) {
          for (int kp = 0; kp < kc / 2; ++kp) d32[kp * kMr + i] = 0;
          continue;
        }
        const float* s = A.p + (r0 + i) * A.rs + k0 * A.cs;
        const int kend = std::min(kc, K - k0);  // valid k in this chunk
        for (int k = 0; k < kc; k += 32) {
          __m512 lo, hi;
          if (A.cs == 1) {
            lo = _mm512_maskz_loadu_ps(mask16(kend - k), s + k);
            hi = _mm512_maskz_loadu_ps(mask16(kend - k - 16), s + k + 16);
          } else {
            alignas(64) float f[32];
            for (int q = 0; q < 32; ++q) f[q] = k + q < kend ? s[(k + q) * A.cs] : 0.0f;
            lo = _mm512_load_ps(f), hi = _mm512_load_ps(f + 16);
          }
          _mm512_store_si512(tmp, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
          const int np = std::min(16, (kc - k) / 2);
          for (int q = 0; q < np; ++q) d32[(k / 2 + q) * kMr + i] = tmp[q];
        }
      }
    }
  }
}

// ---- micro-kernels ------------------------------------------------------------------------
// C tile (mr ≤ kMr rows, nr ≤ kNr columns) = init + Σ_k a(i,k)·b(k,j) over one K chunk, where
// init is (load_c ? C : 0) + (bias ? bias row : 0); the bias is passed with the first chunk only. 24 accumulators + 2 B vectors stay in
// registers; the A values are embedded broadcasts of the FMA's memory operand.

#define SL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

SL_AVX512 inline void store_tile(__m512* acc0, __m512* acc1, float* c, long ldc, int mr, int nr, bool load_c,
                                 const float* bias) {
  const __mmask16 m0 = nr >= 16 ? 0xffff : static_cast<__mmask16>((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? 0xffff : nr > 16 ? static_cast<__mmask16>((1u << (nr - 16)) - 1) : 0;
  const __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
  const __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
#pragma GCC unroll 12
  for (int i = 0; i < kMr; ++i) {
    if (i < mr) {
      float* ci = c + i * ldc;
      const __m512 c0 = load_c ? _mm512_add_ps(_mm512_maskz_loadu_ps(m0, ci), b0) : b0;
      const __m512 c1 = load_c ? _mm512_add_ps(_mm512_maskz_loadu_ps(m1, ci + 16), b1) : b1;
      _mm512_mask_storeu_ps(ci, m0, _mm512_add_ps(c0, acc0[i]));
      _mm512_mask_storeu_ps(ci + 16, m1, _mm512_add_ps(c1, acc1[i]));
    }
  }
}

SL_AVX512 void ukr_f32(int kc, const float* __restrict ap, const float* __restrict bp, float* c, long ldc, int mr,
                       int nr, bool load_c, const float* bias) {
  __m512 acc0[kMr], acc1[kMr];
#pragma GCC unroll 12
  for (int i = 0; i < kMr; ++i) acc0[i] = _mm512_setzero_ps(), acc1[i] = _mm512_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
#pragma GCC unroll 12
    for (int i = 0; i < kMr; ++i) {
      const __m512 a = _mm512_set1_ps(ap[i]);
      acc0[i] = _mm512_fmadd_ps(a, b0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(a, b1, acc1[i]);
    }
    ap += kMr;
    bp += kNr;
  }
  store_tile(acc0, acc1, c, ldc, mr, nr, load_c, bias);
}

SL_BF16_TARGET void ukr_bf16(int kc /* even */, const std::uint16_t* __restrict ap, const std::uint16_t* __restrict bp,
                            float* c, long ldc, int mr, int nr, bool load_c, const float* bias) {
  __m512 acc0[kMr], acc1[kMr];
#pragma GCC unroll 12
  for (int i = 0; i < kMr; ++i) acc0[i] = _mm512_setzero_ps(), acc1[i] = _mm512_setzero_ps();
  for (int k = 0; k < kc; k += 2) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp), b1 = (__m512bh)_mm512_loadu_si512(bp + 32);
#pragma GCC unroll 12
    for (int i = 0; i < kMr; ++i) {
      std::int32_t pair;
      std::memcpy(&pair, ap + 2 * i, sizeof pair);
      const __m512bh a = (__m512bh)_mm512_set1_epi32(pair);
      acc0[i] = _mm512_dpbf16_ps(acc0[i], a, b0);
      acc1[i] = _mm512_dpbf16_ps(acc1[i], a, b1);
    }
    ap += 2 * kMr;
    bp += 2 * kNr;
  }
  store_tile(acc0, acc1, c, ldc, mr, nr, load_c, bias);
}

thread_local std::vector<float> tl_a32, tl_b32;
thread_local std::vector<std::uint16_t> tl_a16, tl_b16;

}  // namespace

void gemm(int M, int N, int K, MatView A, MatView B, float* C, long ldc, const float* bias, bool accumulate,
          Precision p) {
  if (M <= 0 || N <= 0) return;
  if (!gemm_available(p)) throw std::logic_error(std::string("gemm: precision ") + precision_name(p) + " unavailable");
  if (K <= 0) {  // empty sum: C = init
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) C[i * ldc + j] = (accumulate ? C[i * ldc + j] : 0.0f) + (bias ? bias[j] : 0.0f);
    return;
  }
  const bool bf = p == Precision::bf16;
  const int Kp = bf ? (K + 1) & ~1 : K;  // packed depth
  const int kc_max = bf ? 2 * kKc : kKc;  // same bytes per chunk in both precisions
  const int npanels = cdiv(N, kNr), mblocks = cdiv(M, kMc);
  // Work units are (row block, column range) pairs; split the columns too when there are too
  // few row blocks to keep every thread busy. This changes which thread computes what, never
  // the arithmetic of an element.
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const int nsplit = std::min(npanels, std::max(1, cdiv(4 * threads, mblocks)));
  const int panels_per_unit = cdiv(npanels, nsplit);
  const int units = mblocks * cdiv(npanels, panels_per_unit);
  const std::size_t bsize = static_cast<std::size_t>(npanels) * Kp * kNr;
  float* b32 = bf ? nullptr : scratch(tl_b32, bsize);
  std::uint16_t* b16 = bf ? scratch(tl_b16, bsize) : nullptr;

#pragma omp parallel num_threads(std::min(threads, units))
  {
#pragma omp for schedule(static)
    for (int jp = 0; jp < npanels; ++jp) {
      if (bf) pack_b_bf16(b16, B, K, N, jp);
      else pack_b_f32(b32, B, K, N, jp);
    }
    const std::size_t asize = static_cast<std::size_t>(cdiv(kMc, kMr)) * kMr * kc_max;
    float* a32 = bf ? nullptr : scratch(tl_a32, asize);
    std::uint16_t* a16 = bf ? scratch(tl_a16, asize) : nullptr;
#pragma omp for schedule(static)
    for (int u = 0; u < units; ++u) {
      const int mb = u / cdiv(npanels, panels_per_unit), nb = u % cdiv(npanels, panels_per_unit);
      const int i0 = mb * kMc, mc = std::min(kMc, M - i0);
      const int jp0 = nb * panels_per_unit, jp1 = std::min(npanels, jp0 + panels_per_unit);
      for (int k0 = 0; k0 < Kp; k0 += kc_max) {
        const int kc = std::min(kc_max, Kp - k0);
        const bool load_c = accumulate || k0 > 0;
        const float* bias_now = k0 == 0 ? bias : nullptr;
        if (bf) pack_a_bf16(a16, A, M, i0, mc, k0, kc, K);
        else pack_a_f32(a32, A, M, i0, mc, k0, kc);
        for (int jp = jp0; jp < jp1; ++jp) {
          const int j0 = jp * kNr, nr = std::min(kNr, N - j0);
          const float* bias_j = bias_now ? bias_now + j0 : nullptr;
          for (int ip = 0; ip < cdiv(mc, kMr); ++ip) {
            const int r0 = i0 + ip * kMr, mr = std::min(kMr, M - r0);
            float* c = C + r0 * ldc + j0;
            if (bf)
              ukr_bf16(kc, a16 + static_cast<std::size_t>(ip) * kc * kMr,
                       b16 + (static_cast<std::size_t>(jp) * Kp + k0) * kNr, c, ldc, mr, nr, load_c, bias_j);
            else
              ukr_f32(kc, a32 + static_cast<std::size_t>(ip) * kc * kMr,
                      b32 + (static_cast<std::size_t>(jp) * Kp + k0) * kNr, c, ldc, mr, nr, load_c, bias_j);
          }
        }
      }
    }
  }
}

}  // namespace scalinglab::kernels::cpu
