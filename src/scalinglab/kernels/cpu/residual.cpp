#include "scalinglab/kernels/cpu/residual.h"

#include "scalinglab/kernels/cpu/parallel.h"

namespace scalinglab::kernels::cpu {

void residual_forward(float* out, const float* a, const float* b, long N) {
#pragma omp parallel for simd schedule(static) if (parallel: parallel_worth(N))
  for (long i = 0; i < N; ++i) out[i] = a[i] + b[i];
}

}  // namespace scalinglab::kernels::cpu
