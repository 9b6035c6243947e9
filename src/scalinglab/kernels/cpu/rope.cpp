#include "scalinglab/kernels/cpu/rope.h"

#include <cmath>
#include <cstddef>
#include <vector>

#include "scalinglab/kernels/cpu/parallel.h"

namespace scalinglab::kernels::cpu {

namespace {

// Angles are evaluated in double and rounded once, so q·k does not pick up the drift of
// accumulating a float angle over long contexts.
void rotate(float* qkv, int B, int T, int C, int NH, int t0, float sign) {
  const int hs = C / NH, half = hs / 2;
  std::vector<float> cs(static_cast<std::size_t>(T) * half), sn(cs.size());
  for (int t = 0; t < T; ++t) {
    for (int i = 0; i < half; ++i) {
      const double angle = static_cast<double>(t0 + t) * std::pow(kRopeBase, -2.0 * i / hs);
      cs[static_cast<std::size_t>(t) * half + i] = static_cast<float>(std::cos(angle));
      sn[static_cast<std::size_t>(t) * half + i] = sign * static_cast<float>(std::sin(angle));
    }
  }
#pragma omp parallel for collapse(2) schedule(static) if (parallel_worth(2L * B * T * C))
  for (int b = 0; b < B; ++b) {
    for (int t = 0; t < T; ++t) {
      float* row = qkv + (static_cast<std::size_t>(b) * T + t) * 3 * C;
      const float* c = cs.data() + static_cast<std::size_t>(t) * half;
      const float* s = sn.data() + static_cast<std::size_t>(t) * half;
      for (int part = 0; part < 2; ++part) {  // q, then k
        for (int h = 0; h < NH; ++h) {
          float* x = row + part * C + h * hs;
          for (int i = 0; i < half; ++i) {
            const float x0 = x[2 * i], x1 = x[2 * i + 1];
            x[2 * i] = x0 * c[i] - x1 * s[i];
            x[2 * i + 1] = x0 * s[i] + x1 * c[i];
          }
        }
      }
    }
  }
}

}  // namespace

void rope_forward(float* qkv, int B, int T, int C, int NH, int t0) { rotate(qkv, B, T, C, NH, t0, 1.0f); }
void rope_backward(float* dqkv, int B, int T, int C, int NH) { rotate(dqkv, B, T, C, NH, 0, -1.0f); }

}  // namespace scalinglab::kernels::cpu
