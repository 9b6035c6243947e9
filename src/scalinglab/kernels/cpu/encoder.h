#pragma once
// Input embedding: out[b,t,:] = wte[tokens[b,t],:] + wpe[t,:]  (wpe may be null with RoPE).
#include <cstdint>

namespace scalinglab::kernels::cpu {

void encoder_forward(float* out, const std::int32_t* tokens, const float* wte, const float* wpe, int B, int T, int C);
// dwpe may be null (RoPE). Repeated tokens make dwte a scatter-add; see the .cpp for how it stays
// deterministic without atomics.
void encoder_backward(float* dwte, float* dwpe, const float* dout, const std::int32_t* tokens, int B, int T, int C);

}  // namespace scalinglab::kernels::cpu
