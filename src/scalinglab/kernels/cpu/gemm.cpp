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
constexpr int kNc = 16;   // B panels packed per K chunk (16 × 32 KB = 512 KB: L2)

int cdiv(int a, int b) { return (a + b - 1) / b; }

// Buffers grow as needed and live as long as the thread (OpenMP keeps its pool).
template <class T>
T* scratch(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

// ---- packing ------------------------------------------------------------------------------
// fp32: a B panel holds B(k0 + k, jp·kNr + j) at [k][j] for one K chunk (zero beyond N);
//       A micro-panel ip holds A(i0 + ip·kMr + i, k0 + k) at [ip][k][i] (zero beyond M).
// bf16: the same with k in pairs: [.][k/2][j][k%2], so one 32-bit broadcast of A carries the two
//       values VDPBF16PS multiplies with the two adjacent bf16 of each B lane. K is padded to
//       even with zeros. (The bf16 B packer's strided branch assumes B.rs == 1, i.e. B = Wᵀ.)

inline __mmask16 mask16(int n) { return n >= 16 ? 0xffff : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1); }

#define SL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

// Panels [jp0, jp1) of one K chunk, panel after panel. A row-major B (the activations in dW) is
// walked row by row across all the panels: one contiguous read per row instead of 32-float
// pieces of every row once per panel, which streams better when B comes from DRAM (dW reads
// activations saved by the forward pass long before).
SL_AVX512 void pack_b_f32(float* d, MatView B, int N, int jp0, int jp1, int k0, int kc) {
  const std::size_t panel = static_cast<std::size_t>(kc) * kNr;
  if (B.cs == 1) {
    for (int k = 0; k < kc; ++k) {
      const float* s = B.p + (k0 + k) * B.rs;
      for (int jp = jp0; jp < jp1; ++jp) {
        const int j0 = jp * kNr;
        float* o = d + (jp - jp0) * panel + static_cast<std::size_t>(k) * kNr;
        _mm512_storeu_ps(o, _mm512_maskz_loadu_ps(mask16(N - j0), s + j0));
        _mm512_storeu_ps(o + 16, _mm512_maskz_loadu_ps(mask16(N - j0 - 16), s + j0 + 16));
      }
    }
    return;
  }
  for (int jp = jp0; jp < jp1; ++jp) {
    const int j0 = jp * kNr, nr = std::min(kNr, N - j0);
    float* dp = d + (jp - jp0) * panel;
    for (int j = 0; j < kNr; ++j) {
      if (j < nr) {
        const float* src = B.p + (j0 + j) * B.cs + k0 * B.rs;
        for (int k = 0; k < kc; ++k) dp[static_cast<std::size_t>(k) * kNr + j] = src[k * B.rs];
      } else {
        for (int k = 0; k < kc; ++k) dp[static_cast<std::size_t>(k) * kNr + j] = 0.0f;
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
SL_BF16_TARGET void pack_b_bf16(std::uint16_t* d, MatView B, int K, int N, int jp, int k0, int kc /* even */) {
  const int j0 = jp * kNr, nr = std::min(kNr, N - j0);
  if (B.cs == 1) {
    const __mmask16 m0 = mask16(nr), m1 = mask16(nr - 16);
    for (int k = 0; k < kc; k += 2) {
      const int kk = k0 + k;
      const float* s0 = B.p + kk * B.rs + j0;
      const float* s1 = s0 + B.rs;
      const bool has1 = kk + 1 < K;
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
    const int kend = std::min(kc, K - k0);  // valid k in this chunk
    for (int j = 0; j < kNr; ++j) {
      if (j >= nr) {
        for (int kp = 0; kp < kc / 2; ++kp) d32[static_cast<std::size_t>(kp) * kNr + j] = 0;
        continue;
      }
      const float* s = B.p + (j0 + j) * B.cs + k0;
      for (int k = 0; k < kc; k += 32) {
        const __m512 lo = _mm512_maskz_loadu_ps(mask16(kend - k), s + k);
        const __m512 hi = _mm512_maskz_loadu_ps(mask16(kend - k - 16), s + k + 16);
        _mm512_store_si512(tmp, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));  // pairs in k order
        const int np = std::min(16, (kc - k) / 2);
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

// A is read where it lies: kRows ? a[i·lda + k] (row-major A, e.g. the activations of the forward
// and dX products) : a[k·lda + i] (A with unit row stride: a packed micro-panel with lda = kMr,
// or doutᵀ in dW with lda = OC). The full 12-row panels of an fp32 A are not packed at all:
// packing (a transposing copy for row-major A) cost 15-20% of the GEMM time on the model
// shapes, where K is only 128-512 and each packed panel was used by just 4-16 B panels.
template <bool kRows>
SL_AVX512 void ukr_f32(int kc, const float* __restrict a, long lda, const float* __restrict bp, float* c, long ldc,
                       int mr, int nr, bool load_c, const float* bias) {
  __m512 acc0[kMr], acc1[kMr];
#pragma GCC unroll 12
  for (int i = 0; i < kMr; ++i) acc0[i] = _mm512_setzero_ps(), acc1[i] = _mm512_setzero_ps();
  if (kRows) {
    // Three row pointers + multiples of lda keep the 12 addresses in base + index·scale form.
    const float* a0 = a;
    const float* a1 = a + 3 * lda;
    const float* a2 = a + 6 * lda;
    const float* a3 = a + 9 * lda;
    for (int k = 0; k < kc; ++k) {
      const __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
      const float* rows[4] = {a0 + k, a1 + k, a2 + k, a3 + k};
#pragma GCC unroll 12
      for (int i = 0; i < kMr; ++i) {
        const __m512 x = _mm512_set1_ps(rows[i / 3][(i % 3) * lda]);
        acc0[i] = _mm512_fmadd_ps(x, b0, acc0[i]);
        acc1[i] = _mm512_fmadd_ps(x, b1, acc1[i]);
      }
      bp += kNr;
    }
  } else {
    for (int k = 0; k < kc; ++k) {
      const __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
#pragma GCC unroll 12
      for (int i = 0; i < kMr; ++i) {
        const __m512 x = _mm512_set1_ps(a[i]);
        acc0[i] = _mm512_fmadd_ps(x, b0, acc0[i]);
        acc1[i] = _mm512_fmadd_ps(x, b1, acc1[i]);
      }
      a += lda;
      bp += kNr;
    }
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

// ---- work split ------------------------------------------------------------------------------
// C is cut into a tm × tn grid of rectangles, one per thread, along micro-tile boundaries. The
// old split (row blocks of kMc, then column ranges, dealt out in order) gave a 128-row dW
// (M = output features, K = B·T) a 96-row block to one thread and a 32-row block to the other:
// with 2 threads the dW GEMMs of the d=128 model ran at 117-164 GFLOP/s, slower than on one
// thread. The grid is picked by a cost model in cycles per k step of the busiest thread: one
// micro-tile is 24 FMAs (~12 cycles on two FMA pipes); per 12-row A micro-panel, packing it
// (bf16: converting copy, ~6) or re-reading it from cache when every thread with the same rows
// reads it in place (fp32, ~2); per B panel, packing it (~8: in dW, B is an activation saved by
// the forward pass and comes from DRAM, so threads that split the columns read less of it;
// measured: d=64 model backward matmuls 4.7 → 4.4 ms against a cost of 0). Only who computes
// what changes with the grid, never the arithmetic of an element.
struct Grid {
  int tm = 1, tn = 1;
};

Grid thread_grid(int mpanels, int npanels, int threads, double a_panel_cost) {
  constexpr double kTile = 12.0;
  constexpr double kPackB = 8.0;
  auto cost = [&](int tm, int tn) {
    return static_cast<double>(cdiv(mpanels, tm)) * (cdiv(npanels, tn) * kTile + a_panel_cost) +
           cdiv(npanels, tn) * kPackB;
  };
  Grid best;
  double best_cost = cost(1, 1);
  for (int tm = 1; tm <= std::min(threads, mpanels); ++tm) {
    for (int tn = 1; tm * tn <= threads && tn <= npanels; ++tn) {
      const double c = cost(tm, tn);
      if (c < best_cost) best_cost = c, best = {tm, tn};  // ties keep fewer threads
    }
  }
  return best;
}

// Start of part i of n near-equal contiguous parts of [0, total).
int split(int total, int n, int i) { return static_cast<int>(static_cast<long>(total) * i / n); }

thread_local std::vector<float> tl_a32, tl_b32;
thread_local std::vector<std::uint16_t> tl_a16, tl_b16;

// C = init when K = 0 or C is empty; returns whether that was the case.
bool gemm_trivial(int M, int N, int K, float* C, long ldc, const float* bias, bool accumulate) {
  if (M <= 0 || N <= 0) return true;
  if (K <= 0) {  // empty sum: C = init
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) C[i * ldc + j] = (accumulate ? C[i * ldc + j] : 0.0f) + (bias ? bias[j] : 0.0f);
    return true;
  }
  return false;
}

Grid gemm_grid(int M, int N, MatView A, Precision p, int threads) {
  const bool a_direct = p == Precision::fp32 && (A.cs == 1 || A.rs == 1);  // see ukr_f32
  return thread_grid(cdiv(M, kMr), cdiv(N, kNr), threads, a_direct ? 2.0 : 6.0);
}

// Thread t's share of a GEMM split by `grid`. Loop order (Goto's): column block → K chunk (pack this thread's B panels of the
// chunk) → row block (pack A where needed) → micro-tiles. Each thread packs its own B panels
// (threads in the same grid column pack the same panels; cheap next to the tiles), so there is
// no barrier, and a chunk is used while it is still in L1/L2. B used to be packed whole up
// front (K×N, shared): for dW that is all of the B·T×C activation, written out and read back
// from L3, which cost 20-45% of the dW time on the model shapes with 2 threads.
void gemm_part(int M, int N, int K, MatView A, MatView B, float* C, long ldc, const float* bias, bool accumulate,
               Precision p, const Grid& grid, int t) {
  const bool bf = p == Precision::bf16;
  const int Kp = bf ? (K + 1) & ~1 : K;  // packed depth
  const int kc_max = bf ? 2 * kKc : kKc;  // same bytes per chunk in both precisions
  const int mpanels = cdiv(M, kMr), npanels = cdiv(N, kNr);
  const bool a_direct = !bf && (A.cs == 1 || A.rs == 1);  // see ukr_f32
  if (t >= grid.tm * grid.tn) return;  // the grid may use fewer threads than the team
  const int tr = t / grid.tn, tc = t % grid.tn;
  // This thread's rectangle of C: row panels [ip0, ip1) × column panels [jq0, jq1).
  const int ip0 = split(mpanels, grid.tm, tr), ip1 = split(mpanels, grid.tm, tr + 1);
  const int jq0 = split(npanels, grid.tn, tc), jq1 = split(npanels, grid.tn, tc + 1);
  const std::size_t asize = static_cast<std::size_t>(cdiv(kMc, kMr)) * kMr * kc_max;
  const std::size_t bsize = static_cast<std::size_t>(std::min(kNc, jq1 - jq0)) * kc_max * kNr;
  float* a32 = bf ? nullptr : scratch(tl_a32, asize);
  std::uint16_t* a16 = bf ? scratch(tl_a16, asize) : nullptr;
  float* b32 = bf ? nullptr : scratch(tl_b32, bsize);
  std::uint16_t* b16 = bf ? scratch(tl_b16, bsize) : nullptr;
  for (int jb = jq0; jb < jq1; jb += kNc) {  // column blocks of up to kNc panels
    const int jb1 = std::min(jq1, jb + kNc);
    for (int k0 = 0; k0 < Kp; k0 += kc_max) {
      const int kc = std::min(kc_max, Kp - k0);
      const bool load_c = accumulate || k0 > 0;
      const float* bias_now = k0 == 0 ? bias : nullptr;
      if (bf) {
        for (int jp = jb; jp < jb1; ++jp)
          pack_b_bf16(b16 + static_cast<std::size_t>(jp - jb) * kc * kNr, B, K, N, jp, k0, kc);
      } else {
        pack_b_f32(b32, B, N, jb, jb1, k0, kc);
      }
      for (int ib = ip0; ib < ip1; ib += kMc / kMr) {  // row blocks of up to kMc rows
        const int i0 = ib * kMr, mc = std::min({kMc, M - i0, (ip1 - ib) * kMr});
        // fp32 packs only a partial last panel (a direct read would run past A's end).
        const int full = a_direct ? mc / kMr : 0;
        if (bf) pack_a_bf16(a16, A, M, i0, mc, k0, kc, K);
        else if (full * kMr < mc) pack_a_f32(a32, A, M, i0 + full * kMr, mc - full * kMr, k0, kc);
        for (int jp = jb; jp < jb1; ++jp) {
          const int j0 = jp * kNr, nr = std::min(kNr, N - j0);
          const float* bias_j = bias_now ? bias_now + j0 : nullptr;
          const std::size_t boff = static_cast<std::size_t>(jp - jb) * kc * kNr;
          for (int ip = 0; ip < cdiv(mc, kMr); ++ip) {
            const int r0 = i0 + ip * kMr, mr = std::min(kMr, M - r0);
            float* c = C + r0 * ldc + j0;
            if (bf) {
              ukr_bf16(kc, a16 + static_cast<std::size_t>(ip) * kc * kMr, b16 + boff, c, ldc, mr, nr, load_c,
                       bias_j);
            } else if (ip >= full) {
              ukr_f32<false>(kc, a32 + static_cast<std::size_t>(ip - full) * kc * kMr, kMr, b32 + boff, c, ldc, mr,
                             nr, load_c, bias_j);
            } else if (A.cs == 1) {
              ukr_f32<true>(kc, A.p + r0 * A.rs + k0, A.rs, b32 + boff, c, ldc, mr, nr, load_c, bias_j);
            } else {
              ukr_f32<false>(kc, A.p + r0 + static_cast<long>(k0) * A.cs, A.cs, b32 + boff, c, ldc, mr, nr,
                             load_c, bias_j);
            }
          }
        }
      }
    }
  }
}

}  // namespace

void gemm(int M, int N, int K, MatView A, MatView B, float* C, long ldc, const float* bias, bool accumulate,
          Precision p) {
  if (M <= 0 || N <= 0) return;
  if (!gemm_available(p)) throw std::logic_error(std::string("gemm: precision ") + precision_name(p) + " unavailable");
  if (gemm_trivial(M, N, K, C, ldc, bias, accumulate)) return;
  const Grid grid = gemm_grid(M, N, A, p, omp_in_parallel() ? 1 : omp_get_max_threads());
#pragma omp parallel num_threads(grid.tm * grid.tn) if (grid.tm * grid.tn > 1)
  gemm_part(M, N, K, A, B, C, ldc, bias, accumulate, p, grid, omp_get_thread_num());
}

void gemm_team(int M, int N, int K, MatView A, MatView B, float* C, long ldc, const float* bias, bool accumulate,
               Precision p) {
  const int t = omp_get_thread_num(), team = omp_get_num_threads();
  if (M <= 0 || N <= 0 || K <= 0) {
    if (t == 0) gemm_trivial(M, N, K, C, ldc, bias, accumulate);
    return;
  }
  gemm_part(M, N, K, A, B, C, ldc, bias, accumulate, p, gemm_grid(M, N, A, p, team), t);
}

}  // namespace scalinglab::kernels::cpu
