#pragma once
// Rotary position embedding (Su et al. 2021, "RoFormer", eq. 34), applied in place to the q and k
// parts of a [B,T,3C] QKV buffer, head by head. Within a head of size hs, the pair
// (x[2i], x[2i+1]) at position t is rotated by the angle t·θ_i with θ_i = 10000^(-2i/hs)
// (the interleaved-pair form of the paper, not GPT-NeoX's rotate-half).
// A rotation is orthogonal, so the backward pass is the same rotation by -t·θ_i applied to dq, dk;
// v is left untouched in both directions.

namespace scalinglab::kernels::cpu {

inline constexpr double kRopeBase = 10000.0;

// Row t of each sequence is rotated as position t0 + t: t0 > 0 rotates the q, k of positions fed
// one at a time after t0 others (incremental decoding, model/decoder.h), with the same angles.
void rope_forward(float* qkv, int B, int T, int C, int NH, int t0 = 0);
void rope_backward(float* dqkv, int B, int T, int C, int NH);

}  // namespace scalinglab::kernels::cpu
