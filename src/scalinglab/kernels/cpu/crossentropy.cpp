#include "scalinglab/kernels/cpu/crossentropy.h"

#include "scalinglab/kernels/cpu/parallel.h"

#include <cmath>
#include <cstddef>

#include "scalinglab/kernels/cpu/vec_math.h"

namespace scalinglab::kernels::cpu {

void softmax_crossentropy_forward(float* probs, float* losses, const float* logits, const std::int32_t* targets,
                                  int N, int V) {
#pragma omp parallel for schedule(static) if (parallel_worth(static_cast<long>(N) * V))
  for (int n = 0; n < N; ++n) {
    const float* z = logits + static_cast<std::size_t>(n) * V;
    float* p = probs + static_cast<std::size_t>(n) * V;
    float maxv = -INFINITY;
#pragma omp simd reduction(max : maxv)
    for (int i = 0; i < V; ++i) maxv = z[i] > maxv ? z[i] : maxv;
    const float zt = targets ? z[targets[n]] : 0.0f;  // read before p may overwrite z
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int i = 0; i < V; ++i) {
      p[i] = vexp(z[i] - maxv);
      sum += p[i];
    }
    const float inv = 1.0f / sum;
    for (int i = 0; i < V; ++i) p[i] *= inv;
    if (targets) losses[n] = std::log(sum) + maxv - zt;
  }
}

void softmax_crossentropy_backward(float* dlogits, const float* probs, const std::int32_t* targets, float dloss, int N,
                                   int V, bool accumulate) {
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; ++n) {
    const float* p = probs + static_cast<std::size_t>(n) * V;
    float* d = dlogits + static_cast<std::size_t>(n) * V;
    if (accumulate) {
      for (int i = 0; i < V; ++i) d[i] += dloss * p[i];
    } else {
      for (int i = 0; i < V; ++i) d[i] = dloss * p[i];
    }
    d[targets[n]] -= dloss;
  }
}

}  // namespace scalinglab::kernels::cpu
