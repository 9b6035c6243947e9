#pragma once
// AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization") over the model's
// single flat parameter buffer, with the update arithmetic ordered as torch.optim.AdamW
// (foreach=False) so results can be checked against it. Weight decay applies only to tensors
// marked is_matrix: decaying gains and biases pulls them toward 0 rather than toward their
// identity values, which is why common GPT training recipes exempt them.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "scalinglab/train/param_table.h"

namespace scalinglab::train {

struct AdamWConfig {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
};

class AdamW {
 public:
  // The table must tile [0, n_params) exactly: every parameter in one tensor, none in two, since
  // an uncovered parameter would silently never train. Throws std::invalid_argument naming the
  // offending tensor.
  AdamW(std::vector<ParamTensor> table, size_t n_params, AdamWConfig config = {});

  // One fused pass over the buffer: decay, moment updates, bias-corrected step. `lr` is the
  // schedule's value for this step; decay is lr * weight_decay as in torch (not scaled by 1/peak).
  void step(float* params, const float* grads, double lr);

  uint64_t step_count() const { return t_; }
  size_t size() const { return m_.size(); }
  const AdamWConfig& config() const { return config_; }
  const std::vector<ParamTensor>& table() const { return table_; }
  std::span<const float> m() const { return m_; }
  std::span<const float> v() const { return v_; }

  // For checkpoints: restores moments and the bias-correction step count.
  void restore(uint64_t step_count, std::span<const float> m, std::span<const float> v);

 private:
  struct Run {  // a maximal stretch of the buffer with one decay setting
    size_t begin, end;
    bool decay;
  };
  std::vector<ParamTensor> table_;
  std::vector<Run> runs_;
  AdamWConfig config_;
  std::vector<float> m_, v_;
  uint64_t t_ = 0;
};

// Global L2 norm of the gradient, summed in double over fixed blocks so the result does not
// depend on the thread count (bit-identical resumes on other machines).
double grad_norm(const float* grads, size_t n);

// torch.nn.utils.clip_grad_norm_ semantics: if norm > max_norm, scales grads by
// max_norm / (norm + 1e-6). Returns the norm before clipping. A non-finite norm leaves the
// gradients untouched and is returned, so the caller can skip the step and log it.
double clip_grad_norm(float* grads, size_t n, double max_norm);

}  // namespace scalinglab::train
