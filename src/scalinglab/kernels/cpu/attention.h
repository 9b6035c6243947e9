#pragma once
// Causal multi-head self-attention core (after the QKV projection, before the output
// projection), softmax fused into the score loop:
//   inp  [B,T,3C]  q | k | v, each split into NH heads of size hs = C/NH
//   out  [B,T,C]   heads concatenated
//   att  [B,NH,T,T] softmax probabilities saved for backward (entries above the diagonal are 0)
// Scores are scaled by 1/sqrt(hs) (Vaswani et al. 2017).

namespace scalinglab::kernels::cpu {

void attention_forward(float* out, float* att, const float* inp, int B, int T, int C, int NH);
// dinp [B,T,3C] += gradient wrt q, k, v (= with accumulate false: dinp is then only written).
// Uses only the saved att, not the raw scores.
void attention_backward(float* dinp, const float* dout, const float* inp, const float* att, int B, int T, int C, int NH,
                        bool accumulate = true);

}  // namespace scalinglab::kernels::cpu
