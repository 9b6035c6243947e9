#pragma once
// Output softmax fused with the cross-entropy loss. Fused because the gradient of
// CE∘softmax wrt the logits is simply probs - onehot(target): computing them together avoids a
// separate softmax Jacobian pass over the [N,V] logits (the largest activation of a small model).
// The logits themselves come from matmul_forward with the tied wte as weight and no bias.
#include <cstdint>

namespace scalinglab::kernels::cpu {

// probs [N,V] = softmax(logits) (probs may alias logits); losses [N] = -log p[target] computed
// as logsumexp(logits) - logits[target], which stays accurate when p[target] underflows.
// targets may be null: then only probs are computed and losses is not touched.
void softmax_crossentropy_forward(float* probs, float* losses, const float* logits, const std::int32_t* targets,
                                  int N, int V);
// dlogits [N,V] += dloss·(probs - onehot(target)) (= with accumulate false); dloss is the same
// for every row (1/N for a mean loss).
void softmax_crossentropy_backward(float* dlogits, const float* probs, const std::int32_t* targets, float dloss, int N,
                                   int V, bool accumulate = true);

}  // namespace scalinglab::kernels::cpu
