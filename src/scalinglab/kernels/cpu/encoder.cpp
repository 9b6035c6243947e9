#include "scalinglab/kernels/cpu/encoder.h"

#include "scalinglab/kernels/cpu/parallel.h"

#include <cstddef>

namespace scalinglab::kernels::cpu {

void encoder_forward(float* out, const std::int32_t* tokens, const float* wte, const float* wpe, int B, int T, int C) {
#pragma omp parallel for collapse(2) schedule(static) if (parallel_worth(static_cast<long>(B) * T * C))
  for (int b = 0; b < B; ++b) {
    for (int t = 0; t < T; ++t) {
      const std::size_t bt = static_cast<std::size_t>(b) * T + t;
      float* o = out + bt * C;
      const float* e = wte + static_cast<std::size_t>(tokens[bt]) * C;
      if (wpe) {
        const float* p = wpe + static_cast<std::size_t>(t) * C;
        for (int c = 0; c < C; ++c) o[c] = e[c] + p[c];
      } else {
        for (int c = 0; c < C; ++c) o[c] = e[c];
      }
    }
  }
}

void encoder_backward(float* dwte, float* dwpe, const float* dout, const std::int32_t* tokens, int B, int T, int C) {
  // Threads own disjoint channel slices and each walks all (b,t) in order, so two positions with
  // the same token never race and the summation order does not depend on the thread count.
  constexpr int kSlice = 16;
  const int slices = (C + kSlice - 1) / kSlice;
#pragma omp parallel for schedule(static)
  for (int s = 0; s < slices; ++s) {
    const int c0 = s * kSlice, c1 = c0 + kSlice < C ? c0 + kSlice : C;
    for (int b = 0; b < B; ++b) {
      for (int t = 0; t < T; ++t) {
        const std::size_t bt = static_cast<std::size_t>(b) * T + t;
        const float* d = dout + bt * C;
        float* ge = dwte + static_cast<std::size_t>(tokens[bt]) * C;
        for (int c = c0; c < c1; ++c) ge[c] += d[c];
        if (dwpe) {
          float* gp = dwpe + static_cast<std::size_t>(t) * C;
          for (int c = c0; c < c1; ++c) gp[c] += d[c];
        }
      }
    }
  }
}

}  // namespace scalinglab::kernels::cpu
