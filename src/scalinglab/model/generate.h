#pragma once
// Text generation from a trained Gpt: greedy and temperature sampling.
//
// generate() decodes incrementally with a KV cache (model/decoder.h: the keys and values of every
// layer for the tokens fed so far), so each new token costs one position's forward pass instead
// of the whole sequence's. generate_reference() recomputes the whole sequence with Gpt::forward at
// every step (O(T²) work) and is the reference the cached path is tested against: the first
// token's logits are the same (prefill), later ones agree to float rounding (decoder.h).
//
// Determinism: sampling draws one uniform per generated token from SplitMix64(seed) (model/rng.h)
// and inverts the CDF of softmax(logits / temperature) in double precision, so both paths give the
// same tokens for the same seed whenever their logits agree (see the test's stated tolerance).
#include <cstdint>
#include <span>
#include <vector>

#include "scalinglab/model/decoder.h"
#include "scalinglab/model/gpt.h"

namespace scalinglab::model {

struct SampleOptions {
  double temperature = 0;  // 0: greedy (argmax; the lowest token id on ties); > 0: sampling
  int max_new_tokens = 16; // generate at most this many tokens
  int stop_token = -1;     // stop after emitting this token (it is included in the output); -1: none
  std::uint64_t seed = 1;  // sampling stream (unused when greedy)
};

// Throws std::invalid_argument naming the field: empty prompt, a token outside [0, vocab),
// prompt.size() + max_new_tokens > ctx, temperature < 0 or not finite, max_new_tokens < 0.
void validate_generation(const GptConfig& cfg, std::span<const std::int32_t> prompt, const SampleOptions& opt);

// The generated tokens (not the prompt), at most max_new_tokens. The model is not modified:
// concurrent calls on one model are safe (each uses its own Decoder). Tokens are picked from the
// decoder's logits (pick_token is invariant to the log-softmax shift the reference applies).
// Cost: one prefill of the prompt, then one Decoder::step per generated token but the last.
std::vector<std::int32_t> generate(const Gpt& model, std::span<const std::int32_t> prompt, const SampleOptions& opt);

// The same, continuing a decoder that has been fed a prompt (position() >= 1): the first token is
// picked from d.logits(), and every emitted token but the last is fed back, so d advances by
// (tokens returned - 1). For many samples of one prompt, prefill once and pass a copy per sample
// (Decoder's fork idiom). The same tokens as generate(d.model(), prompt, opt) when d was
// prefilled with that prompt.
// Throws std::invalid_argument naming the field: position() == 0 ("prompt"), temperature,
// max_new_tokens < 0 or position() + max_new_tokens > ctx.
std::vector<std::int32_t> generate(Decoder& d, const SampleOptions& opt);

// The same by full recomputation (uses the model's activation buffers, hence non-const).
std::vector<std::int32_t> generate_reference(Gpt& model, std::span<const std::int32_t> prompt, const SampleOptions& opt);

// Picks the next token from one position's logits [vocab]: argmax when temperature == 0, else
// the inverse CDF of softmax(logits / temperature) at `u` in (0, 1].
std::int32_t pick_token(std::span<const float> logits, double temperature, double u);

}  // namespace scalinglab::model
