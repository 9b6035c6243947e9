#pragma once
// GPT-2 style language model on the CPU kernels (nanoGPT's model.py, llm.c's train_gpt2.c):
//   x = wte[tok] + wpe[t]                       (no wpe with RoPE: q, k are rotated instead)
//   per block: x += attn(ln_1(x)); x += mlp(ln_2(x))   (pre-LayerNorm)
//   logits = ln_f(x) · wteᵀ                     (output head tied to the token embedding)
//   loss = mean over (b,t) of cross-entropy(logits, targets)
// The class owns the parameter, gradient and activation buffers and sequences the kernels; the
// kernels themselves (scalinglab/kernels/cpu) know nothing about the model.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "scalinglab/kernels/cpu/gemm.h"
#include "scalinglab/model/gpt_config.h"
#include "scalinglab/model/param_layout.h"

namespace scalinglab::model {

class Gpt {
 public:
  // Validates cfg and initialises the weights GPT-2 style from `seed` (see init_gpt2).
  explicit Gpt(const GptConfig& cfg, unsigned long long seed = 1337);

  const GptConfig& config() const { return cfg_; }
  const ParamLayout& layout() const { return layout_; }
  const std::vector<TensorInfo>& tensors() const { return layout_.tensors(); }

  std::span<float> params() { return params_; }
  std::span<const float> params() const { return params_; }
  std::span<float> grads() { return grads_; }
  std::span<const float> grads() const { return grads_; }
  std::span<float> param(const std::string& name);  // view of one tensor; throws if unknown
  std::span<float> grad(const std::string& name);

  // tokens, targets: [B,T] row-major, ids in [0, vocab); T <= ctx. Returns the mean
  // cross-entropy, or NaN when targets is null (then only probs() is filled, and backward()
  // is not allowed). Activation memory grows to fit B·T and is reused for smaller batches.
  // Throws std::invalid_argument on a bad shape or token id.
  float forward(const std::int32_t* tokens, const std::int32_t* targets, int B, int T);
  // Accumulates d(mean loss)/d(params) into grads() for the last forward() with targets.
  void backward();
  void zero_grad();

  // Softmax over the vocabulary for every position of the last forward: [B,T,V].
  std::span<const float> probs() const;
  std::size_t activation_floats() const { return acts_.size(); }

  // Weights with the config as metadata, in the tensor_file.h format. load_weights() checks
  // that the config and every tensor shape match this model.
  void save_weights(const std::string& path) const;
  void load_weights(const std::string& path);

  // Matmul precision (kernels/cpu/gemm.h). fp32 (default) everywhere; bf16 rounds the inputs
  // of every linear layer (weights, activations, and in backward the gradients) to bfloat16 and
  // accumulates in fp32. Parameters, gradients, optimizer state, LayerNorm, softmax, attention
  // and the loss stay fp32 (mixed precision with fp32 master weights, Micikevicius et al. 2018).
  // Throws std::runtime_error if the CPU lacks AVX512-BF16.
  void set_precision(kernels::cpu::Precision p);
  kernels::cpu::Precision precision() const { return precision_; }

  // Per-kernel wall time and process CPU time (all threads), accumulated over forward() /
  // backward() calls while enabled (off by default; two clock reads per kernel call when on).
  // On a shared machine the CPU time is the steadier figure: it does not count time the
  // process spent preempted. Names are "<phase>.<kernel>".
  enum ProfKind {
    kFwdEncoder, kFwdLayerNorm, kFwdMatmul, kFwdAttention, kFwdGelu, kFwdResidual, kFwdSoftmaxCE,
    kBwdSoftmaxCE, kBwdMatmul, kBwdLayerNorm, kBwdAttention, kBwdGelu, kBwdEncoder, kProfKinds
  };
  static const char* prof_name(int kind);
  void set_profiling(bool on) { profiling_ = on; }
  void reset_profile() { prof_s_.fill(0.0), prof_cpu_s_.fill(0.0); }
  const std::array<double, kProfKinds>& profile_seconds() const { return prof_s_; }
  const std::array<double, kProfKinds>& profile_cpu_seconds() const { return prof_cpu_s_; }

 private:
  // Offsets (in floats) of each activation inside one buffer, computed for a given B·T.
  struct ActLayout {
    std::size_t encoded, ln1, ln1_mean, ln1_rstd, qkv, atty, att, attproj, residual2, ln2, ln2_mean, ln2_rstd, fch,
        fch_gelu, fcproj, residual3, lnf, lnf_mean, lnf_rstd, logits, losses, total;
  };
  static ActLayout plan(const GptConfig& cfg, int B, int T);
  // Offsets of the activation-gradient buffers of backward() (see there).
  struct GradLayout {
    std::size_t logits, resid, small, big, total;
  };
  static GradLayout plan_grads(const GptConfig& cfg, int B, int T);
  void ensure_activations(int B, int T);
  float* act(std::size_t off) { return acts_.data() + off; }
  float* dact(std::size_t off) { return dacts_.data() + off; }

  GptConfig cfg_;
  ParamLayout layout_;
  std::vector<float> params_, grads_;
  std::vector<float> acts_, dacts_;
  ActLayout al_{};
  GradLayout dl_{};
  int B_ = 0, T_ = 0, capacity_bt_ = 0;
  std::vector<std::int32_t> tokens_, targets_;
  bool have_targets_ = false;
  kernels::cpu::Precision precision_ = kernels::cpu::Precision::fp32;
  bool profiling_ = false;
  std::array<double, kProfKinds> prof_s_{}, prof_cpu_s_{};
  template <class F>
  void timed(ProfKind kind, F&& f);
};

}  // namespace scalinglab::model
