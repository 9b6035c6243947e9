#pragma once
// Residual connection out = a + b. Its backward needs no kernel: the model passes the residual
// stream's gradient through unchanged and adds each branch's input gradient into it (Gpt::backward).

namespace scalinglab::kernels::cpu {

void residual_forward(float* out, const float* a, const float* b, long N);

}  // namespace scalinglab::kernels::cpu
