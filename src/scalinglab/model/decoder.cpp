#include "scalinglab/model/decoder.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "scalinglab/kernels/cpu/attention.h"
#include "scalinglab/kernels/cpu/attention_decode.h"
#include "scalinglab/kernels/cpu/encoder.h"
#include "scalinglab/kernels/cpu/gelu.h"
#include "scalinglab/kernels/cpu/layernorm.h"
#include "scalinglab/kernels/cpu/matmul.h"
#include "scalinglab/kernels/cpu/matvec.h"
#include "scalinglab/kernels/cpu/residual.h"
#include "scalinglab/kernels/cpu/rope.h"

namespace scalinglab::model {

namespace k = scalinglab::kernels::cpu;

Decoder::Decoder(const Gpt& model) : model_(&model) {
  const GptConfig& c = model.config();
  const std::size_t C = c.d_model;
  kt_.assign(static_cast<std::size_t>(c.n_layer) * layer_floats(), 0.0f);
  v_.assign(kt_.size(), 0.0f);
  logits_.assign(static_cast<std::size_t>(c.vocab), 0.0f);
  x_.assign(C, 0.0f);
  ln_.assign(C, 0.0f);
  qkv_.assign(3 * C, 0.0f);
  atty_.assign(C, 0.0f);
  proj_.assign(C, 0.0f);
  fch_.assign(4 * C, 0.0f);
  fch_gelu_.assign(4 * C, 0.0f);
  att_.assign(static_cast<std::size_t>(c.ctx), 0.0f);
}

Decoder::Decoder(const Decoder& other) : Decoder(*other.model_) { copy_state(other); }

Decoder& Decoder::operator=(const Decoder& other) {
  if (this == &other) return *this;
  if (!(config() == other.config())) *this = Decoder(*other.model_);  // reallocate for the other shape
  model_ = other.model_;
  copy_state(other);
  return *this;
}

std::size_t Decoder::layer_floats() const {
  return static_cast<std::size_t>(config().ctx) * static_cast<std::size_t>(config().d_model);
}

// Only the rows of the positions fed so far: a prompt of 20 tokens in a ctx of 256 copies 8% of
// the cache.
void Decoder::copy_state(const Decoder& other) {
  pos_ = other.pos_;
  const GptConfig& c = config();
  const std::size_t C = c.d_model, T = c.ctx, n = static_cast<std::size_t>(pos_);
  for (int l = 0; l < c.n_layer; ++l) {
    const float* skt = other.kt_.data() + l * layer_floats();
    const float* sv = other.v_.data() + l * layer_floats();
    float* dkt = kt(l);
    for (std::size_t ch = 0; ch < C; ++ch) std::memcpy(dkt + ch * T, skt + ch * T, n * sizeof(float));
    std::memcpy(v(l), sv, n * C * sizeof(float));
  }
  logits_ = other.logits_;
}

std::span<const float> Decoder::logits() const {
  return pos_ == 0 ? std::span<const float>() : std::span<const float>(logits_);
}

std::span<const float> Decoder::prefill(std::span<const std::int32_t> prompt) {
  const GptConfig& c = config();
  pos_ = 0;
  if (prompt.empty()) throw std::invalid_argument("prompt: empty (need at least one token)");
  if (static_cast<long>(prompt.size()) > c.ctx)
    throw std::invalid_argument("prompt: " + std::to_string(prompt.size()) + " tokens exceed ctx=" + std::to_string(c.ctx));
  for (std::int32_t t : prompt)
    if (t < 0 || t >= c.vocab)
      throw std::invalid_argument("prompt: token " + std::to_string(t) + " outside [0, vocab=" + std::to_string(c.vocab) +
                                  ")");
  const int T = static_cast<int>(prompt.size()), C = c.d_model, NH = c.n_head, V = c.vocab;
  const std::size_t TC = static_cast<std::size_t>(T) * C, ctx = c.ctx;
  const float* p = model_->params().data();
  const ParamLayout& lay = model_->layout();
  const k::Precision pr = model_->precision();
  // Gpt::forward's sequence for B = 1 (see gpt.cpp), keeping one layer's activations at a time.
  std::vector<float> res(TC), ln(TC), mean(T), rstd(T), qkv(3 * TC), att(static_cast<std::size_t>(NH) * T * T),
      atty(TC), proj(TC), fch(4 * TC), fch_gelu(4 * TC);
  k::encoder_forward(res.data(), prompt.data(), p + lay.wte(), c.rope ? nullptr : p + lay.wpe(), 1, T, C);
  for (int l = 0; l < c.n_layer; ++l) {
    const LayerOffsets& o = lay.layer(l);
    k::layernorm_forward(ln.data(), mean.data(), rstd.data(), res.data(), p + o.ln1_w, p + o.ln1_b, T, C);
    k::matmul_forward(qkv.data(), ln.data(), p + o.qkv_w, p + o.qkv_b, T, C, 3 * C, pr);
    if (c.rope) k::rope_forward(qkv.data(), 1, T, C, NH);
    k::attention_forward(atty.data(), att.data(), qkv.data(), 1, T, C, NH);
    float* dkt = kt(l);
    float* dv = v(l);
    for (int t = 0; t < T; ++t) {
      const float* row = qkv.data() + static_cast<std::size_t>(t) * 3 * C;
      for (int ch = 0; ch < C; ++ch) dkt[ch * ctx + t] = row[C + ch];
      std::memcpy(dv + static_cast<std::size_t>(t) * C, row + 2 * C, C * sizeof(float));
    }
    k::matmul_forward(proj.data(), atty.data(), p + o.attn_proj_w, p + o.attn_proj_b, T, C, C, pr);
    k::residual_forward(res.data(), res.data(), proj.data(), static_cast<long>(TC));
    k::layernorm_forward(ln.data(), mean.data(), rstd.data(), res.data(), p + o.ln2_w, p + o.ln2_b, T, C);
    k::matmul_forward(fch.data(), ln.data(), p + o.fc_w, p + o.fc_b, T, C, 4 * C, pr);
    k::gelu_forward(fch_gelu.data(), fch.data(), static_cast<long>(4 * TC));
    k::matmul_forward(proj.data(), fch_gelu.data(), p + o.fc_proj_w, p + o.fc_proj_b, T, 4 * C, C, pr);
    k::residual_forward(res.data(), res.data(), proj.data(), static_cast<long>(TC));
  }
  // ln_f and the head for the last row only, with the GEMM as Gpt::forward does.
  const float* last = res.data() + static_cast<std::size_t>(T - 1) * C;
  float m = 0, s = 0;
  k::layernorm_forward(ln_.data(), &m, &s, last, p + lay.lnf_w(), p + lay.lnf_b(), 1, C);
  k::matmul_forward(logits_.data(), ln_.data(), p + lay.wte(), nullptr, 1, C, V, pr);
  pos_ = T;
  return logits_;
}

std::span<const float> Decoder::step(std::int32_t token) {
  const GptConfig& c = config();
  if (token < 0 || token >= c.vocab)
    throw std::invalid_argument("token: " + std::to_string(token) + " outside [0, vocab=" + std::to_string(c.vocab) + ")");
  if (pos_ >= c.ctx) throw std::length_error("step: context full (ctx=" + std::to_string(c.ctx) + " tokens fed)");
  const int C = c.d_model, NH = c.n_head, V = c.vocab, t = pos_;
  const std::size_t ctx = c.ctx;
  const float* p = model_->params().data();
  const ParamLayout& lay = model_->layout();
  const k::Precision pr = model_->precision();
  float m = 0, s = 0;  // LayerNorm statistics (saved for a backward pass that never comes)
  float* x = x_.data();
  k::encoder_forward(x, &token, p + lay.wte(), c.rope ? nullptr : p + lay.wpe() + static_cast<std::size_t>(t) * C, 1, 1,
                     C);
  for (int l = 0; l < c.n_layer; ++l) {
    const LayerOffsets& o = lay.layer(l);
    k::layernorm_forward(ln_.data(), &m, &s, x, p + o.ln1_w, p + o.ln1_b, 1, C);
    k::matvec_forward(qkv_.data(), ln_.data(), p + o.qkv_w, p + o.qkv_b, C, 3 * C, pr);
    if (c.rope) k::rope_forward(qkv_.data(), 1, 1, C, NH, t);
    float* dkt = kt(l);
    float* dv = v(l);
    for (int ch = 0; ch < C; ++ch) dkt[ch * ctx + t] = qkv_[C + ch];
    std::memcpy(dv + static_cast<std::size_t>(t) * C, qkv_.data() + 2 * C, C * sizeof(float));
    k::attention_decode_forward(atty_.data(), att_.data(), qkv_.data(), dkt, static_cast<long>(ctx), dv, C, t + 1, C,
                                NH);
    k::matvec_forward(proj_.data(), atty_.data(), p + o.attn_proj_w, p + o.attn_proj_b, C, C, pr);
    k::residual_forward(x, x, proj_.data(), C);
    k::layernorm_forward(ln_.data(), &m, &s, x, p + o.ln2_w, p + o.ln2_b, 1, C);
    k::matvec_forward(fch_.data(), ln_.data(), p + o.fc_w, p + o.fc_b, C, 4 * C, pr);
    k::gelu_forward(fch_gelu_.data(), fch_.data(), 4L * C);
    k::matvec_forward(proj_.data(), fch_gelu_.data(), p + o.fc_proj_w, p + o.fc_proj_b, 4 * C, C, pr);
    k::residual_forward(x, x, proj_.data(), C);
  }
  k::layernorm_forward(ln_.data(), &m, &s, x, p + lay.lnf_w(), p + lay.lnf_b(), 1, C);
  k::matvec_forward(logits_.data(), ln_.data(), p + lay.wte(), nullptr, C, V, pr);
  pos_ = t + 1;
  return logits_;
}

}  // namespace scalinglab::model
