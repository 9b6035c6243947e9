#pragma once
// Incremental decoding of a Gpt with a KV cache: the keys and values of every layer for the
// tokens fed so far are kept, so feeding one more token costs one position's forward pass
// (O(L·d² + L·t·d) at position t) instead of the whole sequence's (O(L·t·d² + L·t²·d)).
//
//   Decoder d(model);
//   std::span<const float> z = d.prefill(prompt);   // logits of the prompt's last position
//   z = d.step(next_token);                         // logits of the position just fed
//
// Same math as Gpt::forward (pre-LN GPT-2 blocks, learned wpe or RoPE at the token's absolute
// position, tied output head), on the same kernels where they apply:
// - prefill() runs the prompt as one [1,T] batch through exactly Gpt::forward's kernel sequence
//   (matmul_forward, attention_forward, ...), so its logits are Gpt::forward's pre-softmax logits
//   of that position (bit for bit on the own-GEMM backend, where a row's arithmetic does not
//   depend on how many rows are multiplied; to float rounding under OpenBLAS).
// - step() uses the one-row kernels: matvec_forward for the linear layers and
//   attention_decode_forward over the cache, whose summation orders differ from the GEMM's, so
//   its logits agree with Gpt::forward to float rounding (tests/model/test_generate.cpp states
//   and checks the tolerance), not bit for bit. step() opens no OpenMP region: it runs on the
//   calling thread, so decoders are parallelised by the caller (one per thread).
// Precision follows the model's setting at each call (Gpt::precision): bf16 rounds the inputs of
// every linear layer to bfloat16 with fp32 accumulation, as Gpt::forward does; LayerNorm,
// attention and the cache stay fp32. (bf16 prefill needs AVX512-BF16, like Gpt::forward; bf16
// step() does not.)
//
// Sharing and lifetime: a Decoder reads the model's parameters and precision and never writes
// them; the model must outlive it and its parameters must not change while a decoded sequence is
// in use (the cache would be stale). Any number of decoders may run on one model concurrently;
// one decoder is not safe for concurrent use.
//
// Forking: copying a Decoder copies its state (the cache rows of the positions fed so far and
// the last logits), so one prompt is prefilled once and sampled many times:
//   Decoder base(model); base.prefill(prompt);
//   Decoder work = base;                  // allocates once
//   for (each sample) { work = base; ...work.step(...)... }   // copies only the prompt's rows
// Copy-assignment reuses the target's buffers when the model shape matches (no allocation).
// A moved-from Decoder may only be assigned to or destroyed.
#include <cstdint>
#include <span>
#include <vector>

#include "scalinglab/model/gpt.h"

namespace scalinglab::model {

class Decoder {
 public:
  // Allocates the cache for the whole context: 2·n_layer·ctx·d_model floats.
  explicit Decoder(const Gpt& model);
  Decoder(const Decoder& other);
  Decoder& operator=(const Decoder& other);
  Decoder(Decoder&&) noexcept = default;
  Decoder& operator=(Decoder&&) noexcept = default;

  const Gpt& model() const { return *model_; }
  const GptConfig& config() const { return model_->config(); }
  int position() const { return pos_; }                        // tokens fed so far
  int remaining() const { return config().ctx - pos_; }        // tokens step() can still take

  // Forgets every fed token (position 0); the cache memory is kept.
  void reset() { pos_ = 0; }

  // Resets, then feeds `prompt` (1 <= size <= ctx, ids in [0, vocab)) as positions 0..T-1 and
  // returns the logits [vocab] of the last one. Throws std::invalid_argument ("prompt: ...") on
  // an empty or too long prompt or a bad id, leaving the decoder reset.
  std::span<const float> prefill(std::span<const std::int32_t> prompt);

  // Feeds one token at position() and returns its logits [vocab]. Throws std::invalid_argument
  // ("token: ...") on an id outside [0, vocab) and std::length_error when the context is full
  // (position() == ctx); the state is unchanged then.
  std::span<const float> step(std::int32_t token);

  // The logits returned by the last prefill()/step() (valid until the next one); empty at
  // position 0.
  std::span<const float> logits() const;

  Decoder fork() const { return *this; }
  std::size_t cache_floats() const { return kt_.size() + v_.size(); }

 private:
  float* kt(int l) { return kt_.data() + static_cast<std::size_t>(l) * layer_floats(); }
  float* v(int l) { return v_.data() + static_cast<std::size_t>(l) * layer_floats(); }
  std::size_t layer_floats() const;
  void copy_state(const Decoder& other);

  const Gpt* model_;
  int pos_ = 0;
  // Per layer: keys transposed [d_model, ctx] (channel c of position j at c·ctx + j, the layout
  // attention_decode_forward reads) and values [ctx, d_model].
  std::vector<float> kt_, v_;
  std::vector<float> logits_;
  // One position's scratch (not part of the state; not copied).
  std::vector<float> x_, ln_, qkv_, atty_, proj_, fch_, fch_gelu_, att_;
};

}  // namespace scalinglab::model
