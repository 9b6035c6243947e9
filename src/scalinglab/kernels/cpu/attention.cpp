#include "scalinglab/kernels/cpu/attention.h"

#include <cmath>
#include <cstddef>
#include <vector>

#include "scalinglab/kernels/cpu/vec_math.h"

namespace scalinglab::kernels::cpu {

namespace {
constexpr int kLanes = 16;  // one AVX-512 register of floats
int round_up(int n, int m) { return (n + m - 1) / m * m; }
}  // namespace

// Both passes work on one (batch, head) pair per task: it touches only its own head's slice of
// every buffer (so no races, and a fixed summation order), and it can first copy that head's K
// and V into per-thread scratch laid out for the loops below: transposed [hs, T] where a result
// is needed per key (scores, datt), row-padded [T, hs] where it is needed per channel (out, dq).
// The per-key results are then hs vectorised multiply-adds over keys instead of T short dot
// products that each end in a horizontal reduction. Measured on the benchmark step (1 thread):
// 202 ms with per-key dot products, 170 ms with this layout.

void attention_forward(float* out, float* att, const float* inp, int B, int T, int C, int NH) {
  const int hs = C / NH;
  const std::size_t C3 = 3 * static_cast<std::size_t>(C);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  // Scores are computed kLanes keys at a time, and the output kLanes channels at a time, with
  // the accumulators in one vector register: accumulating in memory (o[i] += a·v[i] for every
  // key) made each store wait for the previous one and was the hottest loop of the step.
  // kt and vv are zero-padded to multiples of kLanes so no block needs a tail loop.
  const int Tpad = round_up(T, kLanes), hpad = round_up(hs, kLanes);
#pragma omp parallel
  {
    std::vector<float> kt(static_cast<std::size_t>(hs) * Tpad, 0.0f), vv(static_cast<std::size_t>(T) * hpad, 0.0f);
    alignas(64) float acc[kLanes];
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < B; ++b) {
      for (int h = 0; h < NH; ++h) {
        const float* base = inp + static_cast<std::size_t>(b) * T * C3 + static_cast<std::size_t>(h) * hs;
        for (int t2 = 0; t2 < T; ++t2)
          for (int i = 0; i < hs; ++i) {
            kt[static_cast<std::size_t>(i) * Tpad + t2] = base[t2 * C3 + C + i];
            vv[static_cast<std::size_t>(t2) * hpad + i] = base[t2 * C3 + 2 * C + i];
          }
        for (int t = 0; t < T; ++t) {
          const float* q = base + t * C3;
          float* a = att + ((static_cast<std::size_t>(b) * NH + h) * T + t) * T;
          const int n = t + 1;  // causal: keys 0..t
          for (int t0 = 0; t0 < n; t0 += kLanes) {
            for (int j = 0; j < kLanes; ++j) acc[j] = 0.0f;
            for (int i = 0; i < hs; ++i) {
              const float qi = q[i] * scale;
              const float* k = kt.data() + static_cast<std::size_t>(i) * Tpad + t0;
              for (int j = 0; j < kLanes; ++j) acc[j] += qi * k[j];
            }
            const int m = n - t0 < kLanes ? n - t0 : kLanes;
            for (int j = 0; j < m; ++j) a[t0 + j] = acc[j];
          }
          float maxv = -INFINITY;
#pragma omp simd reduction(max : maxv)
          for (int t2 = 0; t2 < n; ++t2) maxv = a[t2] > maxv ? a[t2] : maxv;
          // Subtracting the row max keeps exp() in range; it cancels in the normalisation.
          float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
          for (int t2 = 0; t2 < n; ++t2) {
            a[t2] = vexp(a[t2] - maxv);
            sum += a[t2];
          }
          const float inv = 1.0f / sum;
          for (int t2 = 0; t2 < n; ++t2) a[t2] *= inv;
          for (int t2 = n; t2 < T; ++t2) a[t2] = 0.0f;  // the causal mask, explicit for backward
          float* o = out + (static_cast<std::size_t>(b) * T + t) * C + static_cast<std::size_t>(h) * hs;
          for (int i0 = 0; i0 < hs; i0 += kLanes) {
            for (int j = 0; j < kLanes; ++j) acc[j] = 0.0f;
            for (int t2 = 0; t2 < n; ++t2) {
              const float w = a[t2];
              const float* v = vv.data() + static_cast<std::size_t>(t2) * hpad + i0;
              for (int j = 0; j < kLanes; ++j) acc[j] += w * v[j];
            }
            const int m = hs - i0 < kLanes ? hs - i0 : kLanes;
            for (int j = 0; j < m; ++j) o[i0 + j] = acc[j];
          }
        }
      }
    }
  }
}

void attention_backward(float* dinp, const float* dout, const float* inp, const float* att, int B, int T, int C, int NH) {
  const int hs = C / NH;
  const std::size_t C3 = 3 * static_cast<std::size_t>(C);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  const int Tpad = round_up(T, kLanes), hpad = round_up(hs, kLanes);
#pragma omp parallel
  {
    // vt: V transposed (for datt over keys); kk: K with padded rows (for dq in registers).
    std::vector<float> vt(static_cast<std::size_t>(hs) * Tpad, 0.0f), kk(static_cast<std::size_t>(T) * hpad, 0.0f);
    std::vector<float> datt(static_cast<std::size_t>(Tpad)), g(static_cast<std::size_t>(T));
    alignas(64) float acc[kLanes];
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < B; ++b) {
      for (int h = 0; h < NH; ++h) {
        const std::size_t head = static_cast<std::size_t>(b) * T * C3 + static_cast<std::size_t>(h) * hs;
        const float* base = inp + head;
        float* dbase = dinp + head;
        for (int t2 = 0; t2 < T; ++t2)
          for (int i = 0; i < hs; ++i) {
            vt[static_cast<std::size_t>(i) * Tpad + t2] = base[t2 * C3 + 2 * C + i];
            kk[static_cast<std::size_t>(t2) * hpad + i] = base[t2 * C3 + C + i];
          }
        for (int t = 0; t < T; ++t) {
          const int n = t + 1;
          const float* a = att + ((static_cast<std::size_t>(b) * NH + h) * T + t) * T;
          const float* d = dout + (static_cast<std::size_t>(b) * T + t) * C + static_cast<std::size_t>(h) * hs;
          const float* q = base + t * C3;
          float* dq = dbase + t * C3;
          // out = Σ a·v  →  datt = dout·v (vectorised over t2), dv += a·dout
          for (int t0 = 0; t0 < n; t0 += kLanes) {
            for (int j = 0; j < kLanes; ++j) acc[j] = 0.0f;
            for (int i = 0; i < hs; ++i) {
              const float di = d[i];
              const float* v = vt.data() + static_cast<std::size_t>(i) * Tpad + t0;
              for (int j = 0; j < kLanes; ++j) acc[j] += di * v[j];
            }
            for (int j = 0; j < kLanes; ++j) datt[t0 + j] = acc[j];
          }
          for (int t2 = 0; t2 < n; ++t2) {
            float* dv = dbase + t2 * C3 + 2 * C;
            const float w = a[t2];
            for (int i = 0; i < hs; ++i) dv[i] += w * d[i];
          }
          // Softmax Jacobian: dscore = a ⊙ (datt - Σ a·datt).
          float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
          for (int t2 = 0; t2 < n; ++t2) dot += a[t2] * datt[t2];
          for (int t2 = 0; t2 < n; ++t2) {
            g[t2] = a[t2] * (datt[t2] - dot) * scale;
            float* dk = dbase + t2 * C3 + C;
            for (int i = 0; i < hs; ++i) dk[i] += g[t2] * q[i];
          }
          for (int i0 = 0; i0 < hs; i0 += kLanes) {  // dq += Σ g·k, accumulated in a register
            for (int j = 0; j < kLanes; ++j) acc[j] = 0.0f;
            for (int t2 = 0; t2 < n; ++t2) {
              const float* k = kk.data() + static_cast<std::size_t>(t2) * hpad + i0;
              for (int j = 0; j < kLanes; ++j) acc[j] += g[t2] * k[j];
            }
            const int m = hs - i0 < kLanes ? hs - i0 : kLanes;
            for (int j = 0; j < m; ++j) dq[i0 + j] += acc[j];
          }
        }
      }
    }
  }
}

}  // namespace scalinglab::kernels::cpu
