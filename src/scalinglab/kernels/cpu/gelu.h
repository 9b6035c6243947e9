#pragma once
// GELU, tanh approximation as in GPT-2 and torch's gelu(approximate="tanh"):
//   gelu(x) = 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))

namespace scalinglab::kernels::cpu {

void gelu_forward(float* out, const float* inp, long N);
void gelu_backward(float* dinp, const float* inp, const float* dout, long N);  // dinp += gelu'(inp)·dout

}  // namespace scalinglab::kernels::cpu
