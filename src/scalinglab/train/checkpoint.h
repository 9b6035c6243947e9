#pragma once
// Training checkpoints: everything needed to continue a run bit-for-bit (parameters, AdamW
// moments and step, data position) plus the run's config, in one self-checking binary file.
//
// Layout, all little-endian:
//   header (64 bytes): magic "SLCKPT\0\n", u32 version, u32 section count, u64 parameter count,
//                      u64 total file size, zero padding
//   sections, each: u32 tag, u32 0, u64 payload bytes, payload
//     CONF config JSON text      STAT step, tokens seen, AdamW step (3 x u64), elapsed s (f64)
//     PARM params (f32 x n)      ADMM AdamW m (f32 x n)      ADMV AdamW v (f32 x n)
//     SAMP sampler seed (u64), batch size, context (u32 x 2)
//     RNGS opaque bytes for any other RNG the trainer keeps (may be empty)
//     TENS the parameter table as JSON [{"name","offset","size","is_matrix"}] (may be empty)
//   trailer (8 bytes): u32 CRC-32 (zlib's polynomial) of every byte before it, u32 0
// The total size in the header lets a short file be reported as truncated rather than as a
// checksum failure; the CRC catches the rest (bit rot, partial overwrites).
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "scalinglab/data/sampler.h"
#include "scalinglab/train/param_table.h"

namespace scalinglab::train {

struct Checkpoint {
  std::string config_json;
  uint64_t step = 0;         // optimizer updates completed; the next update is number `step`
  uint64_t tokens_seen = 0;
  uint64_t adam_step = 0;    // AdamW's bias-correction count (== step unless steps were skipped)
  double elapsed_s = 0;      // training wall time so far, so resumed logs continue the clock
  std::vector<float> params, adam_m, adam_v;
  data::SamplerState sampler;
  std::vector<uint8_t> rng_state;
  // The model's layout when saved: a model whose parameter count matches by coincidence but
  // whose tensors differ must not receive these weights.
  std::vector<ParamTensor> tensors;
};

// Every load failure: one line that starts with the path and names the problem.
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Atomic: a crash mid-save leaves the previous file at `path` intact. Throws CheckpointError if
// the moment buffers do not match the parameter count, std::runtime_error on I/O failure.
void save_checkpoint(const std::string& path, const Checkpoint& ckpt);

// Verifies magic, version, size, checksum and section layout before returning anything; with
// expected_params set, also that the checkpoint fits the model. Throws CheckpointError.
Checkpoint load_checkpoint(const std::string& path, std::optional<uint64_t> expected_params = std::nullopt);

// Throws CheckpointError (prefixed with `path`) naming the first tensor whose name, offset,
// size or decay flag differs between the checkpoint and the model.
void verify_layout(const Checkpoint& ckpt, const std::vector<ParamTensor>& model, const std::string& path);

}  // namespace scalinglab::train
