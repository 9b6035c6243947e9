#pragma once
// GELU, tanh approximation as in GPT-2 and torch's gelu(approximate="tanh"):
//   gelu(x) = 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))

namespace scalinglab::kernels::cpu {

void gelu_forward(float* out, const float* inp, long N);
// dinp += gelu'(inp)·dout, or dinp = gelu'(inp)·dout with accumulate false (then dinp may be
// dout itself: the model computes the gradient in place).
void gelu_backward(float* dinp, const float* inp, const float* dout, long N, bool accumulate = true);

}  // namespace scalinglab::kernels::cpu
