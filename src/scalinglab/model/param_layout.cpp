#include "scalinglab/model/param_layout.h"

#include <cmath>

#include "scalinglab/model/rng.h"

namespace scalinglab::model {

std::size_t ParamLayout::add(std::string name, std::vector<int> shape) {
  TensorInfo t;
  t.name = std::move(name);
  t.numel = 1;
  for (int s : shape) t.numel *= static_cast<std::size_t>(s);
  t.is_matrix = shape.size() == 2;
  t.shape = std::move(shape);
  t.offset = total_;
  total_ += t.numel;
  tensors_.push_back(std::move(t));
  return tensors_.back().offset;
}

ParamLayout::ParamLayout(const GptConfig& cfg) {
  cfg.validate();
  const int V = cfg.vocab, T = cfg.ctx, C = cfg.d_model;
  wte_ = add("wte.weight", {V, C});
  if (!cfg.rope) wpe_ = add("wpe.weight", {T, C});
  for (int l = 0; l < cfg.n_layer; ++l) {
    const std::string p = "h." + std::to_string(l) + ".";
    LayerOffsets o{};
    o.ln1_w = add(p + "ln_1.weight", {C});
    o.ln1_b = add(p + "ln_1.bias", {C});
    o.qkv_w = add(p + "attn.c_attn.weight", {3 * C, C});
    o.qkv_b = add(p + "attn.c_attn.bias", {3 * C});
    o.attn_proj_w = add(p + "attn.c_proj.weight", {C, C});
    o.attn_proj_b = add(p + "attn.c_proj.bias", {C});
    o.ln2_w = add(p + "ln_2.weight", {C});
    o.ln2_b = add(p + "ln_2.bias", {C});
    o.fc_w = add(p + "mlp.c_fc.weight", {4 * C, C});
    o.fc_b = add(p + "mlp.c_fc.bias", {4 * C});
    o.fc_proj_w = add(p + "mlp.c_proj.weight", {C, 4 * C});
    o.fc_proj_b = add(p + "mlp.c_proj.bias", {C});
    layers_.push_back(o);
  }
  lnf_w_ = add("ln_f.weight", {C});
  lnf_b_ = add("ln_f.bias", {C});
}

const TensorInfo* ParamLayout::find(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

void init_gpt2(const ParamLayout& layout, const GptConfig& cfg, float* params, unsigned long long seed) {
  SplitMix64 rng(seed);
  const double residual_std = 0.02 / std::sqrt(2.0 * cfg.n_layer);
  for (const auto& t : layout.tensors()) {
    float* p = params + t.offset;
    if (!t.is_matrix) {
      // LayerNorm gains start at identity; every bias and LayerNorm shift at zero.
      const float v = (ends_with(t.name, ".weight") && t.name.find("ln_") != std::string::npos) ? 1.0f : 0.0f;
      for (std::size_t i = 0; i < t.numel; ++i) p[i] = v;
      continue;
    }
    const double std = ends_with(t.name, "c_proj.weight") ? residual_std : 0.02;
    for (std::size_t i = 0; i < t.numel; ++i) p[i] = static_cast<float>(std * rng.normal());
  }
}

}  // namespace scalinglab::model
