#pragma once
// Shape of a GPT-2 style decoder-only transformer (pre-LayerNorm, tied input/output embedding),
// plus the two bookkeeping conventions that scaling-law papers use for its size and cost.
// Kaplan et al. and Chinchilla disagree on what "N" and "C" mean; both are provided so a fit
// can state which one it used instead of silently mixing them.
#include <cstdint>
#include <string>

namespace scalinglab::model {

struct GptConfig {
  int vocab = 0;    // V: token ids are in [0, vocab)
  int ctx = 0;      // T_max: longest sequence; sizes the learned position table
  int d_model = 0;  // C
  int n_layer = 0;  // L
  int n_head = 0;   // H; head size is d_model / n_head
  bool rope = false;  // rotary position embedding on q,k instead of a learned wpe table

  // Throws std::invalid_argument naming the offending field(s) and the rule broken.
  void validate() const;
  int head_size() const { return d_model / n_head; }
  std::string to_string() const;  // "V=256 T=128 d=128 L=4 H=4 rope=0"
  bool operator==(const GptConfig&) const = default;

  // Parameters of one transformer block including biases and LayerNorms: 12·d² + 13·d.
  std::int64_t params_per_layer() const;
  // Everything that is trained, counting the tied wte once (it is also the output head) and
  // wpe only when it exists (not with RoPE).
  std::int64_t params_total() const;
  // Kaplan et al. 2020 "N": all parameters except token and position embeddings, i.e. the
  // blocks plus the final LayerNorm, computed exactly from our layout (Kaplan's Table 1 gives the
  // approximation 12·n_layer·d_model², which drops biases and LayerNorms).
  std::int64_t params_non_embedding() const;

  // Kaplan et al. 2020, Table 1 / eq. 2.1-2.2: C_forward ≈ 2N + 2·n_layer·n_ctx·d_attn per token,
  // and a backward pass costs twice the forward, so training ≈ 3·C_forward = 6N + 6·L·T·d.
  // N is params_non_embedding(); d_attn = d_model; n_ctx = ctx.
  double train_flops_per_token_kaplan() const;
  // Hoffmann et al. 2022 ("Chinchilla"), Appendix F: counts every matmul including embeddings
  // and the final logits, attention over the full ctx×ctx square (no causal halving), and 3
  // FLOPs per softmax entry. Returns per-token forward FLOPs; training is 3× that (backward = 2×).
  double forward_flops_per_token_chinchilla() const;
  double train_flops_per_token_chinchilla() const { return 3.0 * forward_flops_per_token_chinchilla(); }
};

}  // namespace scalinglab::model
