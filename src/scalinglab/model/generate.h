#pragma once
// Text generation from a trained Gpt: greedy and temperature sampling.
//
// generate() decodes incrementally with a KV cache (the keys and values of every layer for the
// tokens fed so far), so each new token costs one position's forward pass instead of the whole
// sequence's. generate_reference() recomputes the whole sequence with Gpt::forward at every step
// (O(T²) work) and is the reference the cached path is tested against.
//
// Determinism: sampling draws one uniform per generated token from SplitMix64(seed) (model/rng.h)
// and inverts the CDF of softmax(logits / temperature) in double precision, so both paths give the
// same tokens for the same seed whenever their logits agree (see the test's stated tolerance).
#include <cstdint>
#include <span>
#include <vector>

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

// The generated tokens (not the prompt), at most max_new_tokens. The model is not modified.
std::vector<std::int32_t> generate(const Gpt& model, std::span<const std::int32_t> prompt, const SampleOptions& opt);

// The same by full recomputation (uses the model's activation buffers, hence non-const).
std::vector<std::int32_t> generate_reference(Gpt& model, std::span<const std::int32_t> prompt, const SampleOptions& opt);

// Picks the next token from one position's logits [vocab]: argmax when temperature == 0, else
// the inverse CDF of softmax(logits / temperature) at `u` in (0, 1].
std::int32_t pick_token(std::span<const float> logits, double temperature, double u);

}  // namespace scalinglab::model
