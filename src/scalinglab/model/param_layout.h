#pragma once
// Where every GPT parameter lives inside one contiguous float buffer. One buffer (and one
// identically laid-out gradient buffer) means an optimizer, a checkpoint or a device copy is a
// single loop / memcpy, while the named views keep the model code readable.
// Names follow nanoGPT's state_dict (minus the "transformer." prefix), so the PyTorch reference
// can load weights by name. Order: wte, wpe (absent with RoPE), then block by block, then ln_f.
#include <cstddef>
#include <string>
#include <vector>

#include "scalinglab/model/gpt_config.h"

namespace scalinglab::model {

struct TensorInfo {
  std::string name;            // e.g. "h.3.attn.c_attn.weight"
  std::vector<int> shape;      // row-major; Linear weights are [out, in] like torch.nn.Linear
  std::size_t offset = 0;      // in floats from the start of the buffer
  std::size_t numel = 0;
  // 2-D tensors (matmul weights and the embeddings) get weight decay in the nanoGPT convention;
  // biases and LayerNorm gains do not.
  bool is_matrix = false;
};

// Offsets of one block's tensors, in floats from the start of the buffer.
struct LayerOffsets {
  std::size_t ln1_w, ln1_b, qkv_w, qkv_b, attn_proj_w, attn_proj_b, ln2_w, ln2_b, fc_w, fc_b, fc_proj_w, fc_proj_b;
};

class ParamLayout {
 public:
  explicit ParamLayout(const GptConfig& cfg);  // validates cfg

  std::size_t total() const { return total_; }  // == cfg.params_total()
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(const std::string& name) const;  // nullptr when absent

  std::size_t wte() const { return wte_; }
  std::size_t wpe() const { return wpe_; }  // only meaningful when !cfg.rope
  const LayerOffsets& layer(int l) const { return layers_.at(static_cast<std::size_t>(l)); }
  std::size_t lnf_w() const { return lnf_w_; }
  std::size_t lnf_b() const { return lnf_b_; }

 private:
  std::size_t add(std::string name, std::vector<int> shape);
  std::vector<TensorInfo> tensors_;
  std::vector<LayerOffsets> layers_;
  std::size_t total_ = 0, wte_ = 0, wpe_ = 0, lnf_w_ = 0, lnf_b_ = 0;
};

// GPT-2 initialisation (as in nanoGPT): every matrix ~ N(0, 0.02²) except the two projections
// that write into the residual stream (attn.c_proj, mlp.c_proj), whose std is 0.02/sqrt(2·L) so
// the residual variance does not grow with depth; biases 0; LayerNorm gains 1.
// Draws come from SplitMix64(seed), tensor by tensor in layout order, element by element.
void init_gpt2(const ParamLayout& layout, const GptConfig& cfg, float* params, unsigned long long seed);

}  // namespace scalinglab::model
