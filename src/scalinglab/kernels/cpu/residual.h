#pragma once
// Residual connection out = a + b, and its gradient fan-out (da += dout, db += dout).

namespace scalinglab::kernels::cpu {

void residual_forward(float* out, const float* a, const float* b, long N);
void residual_backward(float* da, float* db, const float* dout, long N);

}  // namespace scalinglab::kernels::cpu
