#pragma once
// Byte-level tokenizer: token == byte, vocabulary 256. No merges means no training step, no
// out-of-vocabulary input, and losses convert to bits per byte with tokens/byte = 1 exactly, so
// runs stay comparable with any later tokenizer through bits per byte (Gao et al. 2020, "The Pile").
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace scalinglab::data {

class ByteTokenizer {
 public:
  static constexpr uint32_t kVocabSize = 256;
  uint32_t vocab_size() const { return kVocabSize; }
  std::vector<uint8_t> encode(std::string_view text) const;
  std::string decode(std::span<const uint8_t> tokens) const;
  // For model outputs, which come as wider ints; throws std::out_of_range on ids >= 256.
  std::string decode(std::span<const int32_t> tokens) const;
  // Tokens per byte of raw text, the factor in bits-per-byte conversions.
  double tokens_per_byte() const { return 1.0; }
};

}  // namespace scalinglab::data
