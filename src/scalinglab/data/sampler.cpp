#include "scalinglab/data/sampler.h"

#include <stdexcept>
#include <string>

namespace scalinglab::data {
namespace {

// SplitMix64's finaliser (Steele, Lea & Flood 2014): a bijective mixer with full avalanche, so
// neighbouring (step, row) counters give independent-looking outputs.
uint64_t mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

BatchSampler::BatchSampler(const TokenFile& tokens, uint32_t batch_size, uint32_t ctx, uint64_t seed)
    : tokens_(&tokens), batch_size_(batch_size), ctx_(ctx), seed_(seed) {
  if (batch_size == 0 || ctx == 0) throw std::invalid_argument("batch sampler: batch size and context length must be > 0");
  if (tokens.size() < static_cast<uint64_t>(ctx) + 1)
    throw std::invalid_argument("context length " + std::to_string(ctx) + " needs at least " + std::to_string(ctx + 1ULL) +
                                " tokens, but " + tokens.path() + " has " + std::to_string(tokens.size()));
}

uint64_t BatchSampler::window_start(uint64_t step, uint32_t row) const {
  uint64_t n_starts = tokens_->size() - ctx_;  // starts 0 .. size - (ctx + 1)
  uint64_t h = mix(mix(mix(seed_) ^ step) ^ row);
  // Multiply-shift (Lemire 2019, "Fast Random Integer Generation in an Interval") maps to
  // [0, n_starts) with bias < n_starts / 2^64, negligible for any corpus.
  return static_cast<uint64_t>((static_cast<unsigned __int128>(h) * n_starts) >> 64);
}

void BatchSampler::batch(uint64_t step, int32_t* out) const {
  for (uint32_t r = 0; r < batch_size_; ++r)
    tokens_->copy_window(window_start(step, r), ctx_ + 1, out + static_cast<size_t>(r) * (ctx_ + 1));
}

std::vector<int32_t> BatchSampler::batch(uint64_t step) const {
  std::vector<int32_t> out(static_cast<size_t>(batch_size_) * (ctx_ + 1));
  batch(step, out.data());
  return out;
}

uint32_t BatchSampler::eval_batch(uint64_t first_window, int32_t* out) const {
  uint64_t n = num_eval_windows();
  uint32_t filled = 0;
  for (uint64_t w = first_window; w < n && filled < batch_size_; ++w, ++filled)
    tokens_->copy_window(w * ctx_, ctx_ + 1, out + static_cast<size_t>(filled) * (ctx_ + 1));
  return filled;
}

}  // namespace scalinglab::data
