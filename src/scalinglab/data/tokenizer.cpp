#include "scalinglab/data/tokenizer.h"

#include <stdexcept>

namespace scalinglab::data {

std::vector<uint8_t> ByteTokenizer::encode(std::string_view text) const {
  return std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(text.data()),
                              reinterpret_cast<const uint8_t*>(text.data()) + text.size());
}

std::string ByteTokenizer::decode(std::span<const uint8_t> tokens) const {
  return std::string(reinterpret_cast<const char*>(tokens.data()), tokens.size());
}

std::string ByteTokenizer::decode(std::span<const int32_t> tokens) const {
  std::string out;
  out.reserve(tokens.size());
  for (int32_t t : tokens) {
    if (t < 0 || t >= static_cast<int32_t>(kVocabSize))
      throw std::out_of_range("byte tokenizer: token id " + std::to_string(t) + " is outside [0, 256)");
    out.push_back(static_cast<char>(static_cast<uint8_t>(t)));
  }
  return out;
}

}  // namespace scalinglab::data
