#pragma once
// Batches as a pure function of (seed, step): window starts come from a counter-based hash rather
// than a stateful RNG, so a run resumed at step s sees exactly the batches an uninterrupted run
// would, and the only sampler state a checkpoint needs is the seed (plus B and T to check).
#include <cstdint>
#include <vector>

#include "scalinglab/data/corpus.h"

namespace scalinglab::data {

struct SamplerState {
  uint64_t seed = 0;
  uint32_t batch_size = 0;
  uint32_t ctx = 0;
  bool operator==(const SamplerState&) const = default;
};

class BatchSampler {
 public:
  // Throws std::invalid_argument (one line naming the split) when the split has fewer than
  // ctx + 1 tokens, or batch_size/ctx is 0. `tokens` must outlive the sampler.
  BatchSampler(const TokenFile& tokens, uint32_t batch_size, uint32_t ctx, uint64_t seed);

  // Fills out[batch_size * (ctx + 1)]: row r holds tokens [s, s + ctx + 1) of the split, with s
  // uniform over all valid starts; inputs are the first ctx, targets the last ctx of a row.
  void batch(uint64_t step, int32_t* out) const;
  std::vector<int32_t> batch(uint64_t step) const;
  uint64_t window_start(uint64_t step, uint32_t row) const;

  // Evaluation without sampling noise: non-overlapping windows at starts i * ctx. Fills rows
  // for windows [first, first + batch_size) that exist and returns how many it filled.
  uint64_t num_eval_windows() const { return (tokens_->size() - 1) / ctx_; }
  uint32_t eval_batch(uint64_t first_window, int32_t* out) const;

  SamplerState state() const { return {seed_, batch_size_, ctx_}; }
  uint32_t batch_size() const { return batch_size_; }
  uint32_t ctx() const { return ctx_; }

 private:
  const TokenFile* tokens_;
  uint32_t batch_size_, ctx_;
  uint64_t seed_;
};

}  // namespace scalinglab::data
