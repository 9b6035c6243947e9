#include "scalinglab/model/gpt.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <stdexcept>

#include "scalinglab/kernels/cpu/attention.h"
#include "scalinglab/kernels/cpu/crossentropy.h"
#include "scalinglab/kernels/cpu/encoder.h"
#include "scalinglab/kernels/cpu/gelu.h"
#include "scalinglab/kernels/cpu/layernorm.h"
#include "scalinglab/kernels/cpu/matmul.h"
#include "scalinglab/kernels/cpu/residual.h"
#include "scalinglab/kernels/cpu/rope.h"
#include "scalinglab/model/tensor_file.h"

namespace scalinglab::model {

namespace k = scalinglab::kernels::cpu;

Gpt::Gpt(const GptConfig& cfg, unsigned long long seed) : cfg_(cfg), layout_(cfg) {
  params_.assign(layout_.total(), 0.0f);
  grads_.assign(layout_.total(), 0.0f);
  init_gpt2(layout_, cfg_, params_.data(), seed);
}

void Gpt::set_precision(k::Precision p) {
  k::require_precision(p);
  precision_ = p;
}

const char* Gpt::prof_name(int kind) {
  static const char* names[kProfKinds] = {
      "forward.encoder",   "forward.layernorm", "forward.matmul",     "forward.attention", "forward.gelu",
      "forward.residual",  "forward.softmax_ce", "backward.softmax_ce", "backward.matmul", "backward.layernorm",
      "backward.attention", "backward.gelu",    "backward.encoder"};
  return kind >= 0 && kind < kProfKinds ? names[kind] : "?";
}

namespace {
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
}  // namespace

template <class F>
void Gpt::timed(ProfKind kind, F&& f) {
  if (!profiling_) {
    f();
    return;
  }
  const double t0 = omp_get_wtime(), c0 = process_cpu_seconds();
  f();
  prof_s_[kind] += omp_get_wtime() - t0;
  prof_cpu_s_[kind] += process_cpu_seconds() - c0;
}

std::span<float> Gpt::param(const std::string& name) {
  const TensorInfo* t = layout_.find(name);
  if (!t) throw std::invalid_argument("no parameter named '" + name + "'");
  return std::span<float>(params_).subspan(t->offset, t->numel);
}

std::span<float> Gpt::grad(const std::string& name) {
  const TensorInfo* t = layout_.find(name);
  if (!t) throw std::invalid_argument("no parameter named '" + name + "'");
  return std::span<float>(grads_).subspan(t->offset, t->numel);
}

Gpt::ActLayout Gpt::plan(const GptConfig& cfg, int B, int T) {
  const std::size_t BT = static_cast<std::size_t>(B) * T, C = cfg.d_model, L = cfg.n_layer, V = cfg.vocab;
  const std::size_t NH = cfg.n_head;
  ActLayout a{};
  std::size_t off = 0;
  auto take = [&](std::size_t n) {
    const std::size_t o = off;
    off += n;
    return o;
  };
  // Per-layer tensors are [L, ...] so layer l's slice is base + l·stride.
  a.encoded = take(BT * C);
  a.ln1 = take(L * BT * C);
  a.ln1_mean = take(L * BT);
  a.ln1_rstd = take(L * BT);
  a.qkv = take(L * BT * 3 * C);
  a.atty = take(L * BT * C);
  a.att = take(L * B * NH * T * T);
  a.attproj = take(L * BT * C);
  a.residual2 = take(L * BT * C);
  a.ln2 = take(L * BT * C);
  a.ln2_mean = take(L * BT);
  a.ln2_rstd = take(L * BT);
  a.fch = take(L * BT * 4 * C);
  a.fch_gelu = take(L * BT * 4 * C);
  a.fcproj = take(L * BT * C);
  a.residual3 = take(L * BT * C);
  a.lnf = take(BT * C);
  a.lnf_mean = take(BT);
  a.lnf_rstd = take(BT);
  a.logits = take(BT * V);  // holds the probabilities after the fused softmax
  a.losses = take(BT);
  a.total = off;
  return a;
}

Gpt::GradLayout Gpt::plan_grads(const GptConfig& cfg, int B, int T) {
  const std::size_t BT = static_cast<std::size_t>(B) * T, C = cfg.d_model;
  GradLayout d{};
  d.logits = 0;
  d.resid = d.logits + BT * cfg.vocab;
  d.small = d.resid + BT * C;
  d.big = d.small + BT * C;
  d.total = d.big + BT * 4 * C;
  return d;
}

void Gpt::ensure_activations(int B, int T) {
  // Per-(B,T) offsets change with T (the attention maps are T×T), so re-plan every call but
  // only reallocate when the plan needs more room.
  al_ = plan(cfg_, B, T);
  dl_ = plan_grads(cfg_, B, T);
  if (acts_.size() < al_.total) acts_.assign(al_.total, 0.0f);
  if (dacts_.size() < dl_.total) dacts_.assign(dl_.total, 0.0f);
}

std::span<const float> Gpt::probs() const {
  return std::span<const float>(acts_).subspan(al_.logits, static_cast<std::size_t>(B_) * T_ * cfg_.vocab);
}

float Gpt::forward(const std::int32_t* tokens, const std::int32_t* targets, int B, int T) {
  if (B <= 0 || T <= 0 || T > cfg_.ctx)
    throw std::invalid_argument("forward: need B > 0 and 0 < T <= ctx=" + std::to_string(cfg_.ctx) + ", got B=" +
                                std::to_string(B) + " T=" + std::to_string(T));
  const std::size_t BT = static_cast<std::size_t>(B) * T;
  auto check_ids = [&](const std::int32_t* ids, const char* what) {
    for (std::size_t i = 0; i < BT; ++i)
      if (ids[i] < 0 || ids[i] >= cfg_.vocab)
        throw std::invalid_argument(std::string("forward: ") + what + "[" + std::to_string(i) + "]=" +
                                    std::to_string(ids[i]) + " outside [0, vocab=" + std::to_string(cfg_.vocab) + ")");
  };
  check_ids(tokens, "tokens");
  if (targets) check_ids(targets, "targets");
  ensure_activations(B, T);
  B_ = B;
  T_ = T;
  tokens_.assign(tokens, tokens + BT);
  have_targets_ = targets != nullptr;
  if (targets) targets_.assign(targets, targets + BT);

  const int C = cfg_.d_model, L = cfg_.n_layer, NH = cfg_.n_head, V = cfg_.vocab, N = static_cast<int>(BT);
  const float* p = params_.data();
  const std::size_t sc = BT * C, s3 = 3 * sc, s4 = 4 * sc, satt = static_cast<std::size_t>(B) * NH * T * T;

  const k::Precision pr = precision_;
  timed(kFwdEncoder, [&] {
    k::encoder_forward(act(al_.encoded), tokens, p + layout_.wte(), cfg_.rope ? nullptr : p + layout_.wpe(), B, T, C);
  });
  const float* residual = act(al_.encoded);
  for (int l = 0; l < L; ++l) {
    const LayerOffsets& o = layout_.layer(l);
    float* ln1 = act(al_.ln1) + l * sc;
    float* qkv = act(al_.qkv) + l * s3;
    float* atty = act(al_.atty) + l * sc;
    float* attproj = act(al_.attproj) + l * sc;
    float* residual2 = act(al_.residual2) + l * sc;
    float* ln2 = act(al_.ln2) + l * sc;
    float* fch = act(al_.fch) + l * s4;
    float* fch_gelu = act(al_.fch_gelu) + l * s4;
    float* fcproj = act(al_.fcproj) + l * sc;
    float* residual3 = act(al_.residual3) + l * sc;
    timed(kFwdLayerNorm, [&] {
      k::layernorm_forward(ln1, act(al_.ln1_mean) + l * BT, act(al_.ln1_rstd) + l * BT, residual, p + o.ln1_w,
                           p + o.ln1_b, N, C);
    });
    timed(kFwdMatmul, [&] { k::matmul_forward(qkv, ln1, p + o.qkv_w, p + o.qkv_b, N, C, 3 * C, pr); });
    timed(kFwdAttention, [&] {
      if (cfg_.rope) k::rope_forward(qkv, B, T, C, NH);
      k::attention_forward(atty, act(al_.att) + l * satt, qkv, B, T, C, NH);
    });
    timed(kFwdMatmul, [&] { k::matmul_forward(attproj, atty, p + o.attn_proj_w, p + o.attn_proj_b, N, C, C, pr); });
    timed(kFwdResidual, [&] { k::residual_forward(residual2, residual, attproj, static_cast<long>(sc)); });
    timed(kFwdLayerNorm, [&] {
      k::layernorm_forward(ln2, act(al_.ln2_mean) + l * BT, act(al_.ln2_rstd) + l * BT, residual2, p + o.ln2_w,
                           p + o.ln2_b, N, C);
    });
    timed(kFwdMatmul, [&] { k::matmul_forward(fch, ln2, p + o.fc_w, p + o.fc_b, N, C, 4 * C, pr); });
    timed(kFwdGelu, [&] { k::gelu_forward(fch_gelu, fch, static_cast<long>(s4)); });
    timed(kFwdMatmul, [&] { k::matmul_forward(fcproj, fch_gelu, p + o.fc_proj_w, p + o.fc_proj_b, N, 4 * C, C, pr); });
    timed(kFwdResidual, [&] { k::residual_forward(residual3, residual2, fcproj, static_cast<long>(sc)); });
    residual = residual3;
  }
  timed(kFwdLayerNorm, [&] {
    k::layernorm_forward(act(al_.lnf), act(al_.lnf_mean), act(al_.lnf_rstd), residual, p + layout_.lnf_w(),
                         p + layout_.lnf_b(), N, C);
  });
  timed(kFwdMatmul, [&] { k::matmul_forward(act(al_.logits), act(al_.lnf), p + layout_.wte(), nullptr, N, C, V, pr); });
  timed(kFwdSoftmaxCE,
        [&] { k::softmax_crossentropy_forward(act(al_.logits), act(al_.losses), act(al_.logits), targets, N, V); });
  if (!targets) return std::numeric_limits<float>::quiet_NaN();
  // Summed serially in double: the mean must not depend on the thread count.
  double total = 0.0;
  for (std::size_t i = 0; i < BT; ++i) total += act(al_.losses)[i];
  return static_cast<float>(total / static_cast<double>(BT));
}

void Gpt::backward() {
  if (B_ == 0 || !have_targets_) throw std::logic_error("backward: needs a preceding forward() with targets");
  const int B = B_, T = T_, C = cfg_.d_model, L = cfg_.n_layer, NH = cfg_.n_head, V = cfg_.vocab;
  const std::size_t BT = static_cast<std::size_t>(B) * T;
  const int N = static_cast<int>(BT);
  const float* p = params_.data();
  float* g = grads_.data();
  const std::size_t sc = BT * C, s3 = 3 * sc, s4 = 4 * sc, satt = static_cast<std::size_t>(B) * NH * T * T;
  const k::Precision pr = precision_;
  // Activation gradients (llm.c's layout): one residual-stream gradient dresid that every block
  // adds into, and one layer's worth of scratch reused by every layer, instead of a gradient
  // buffer per activation. The first kernel to write a scratch buffer overwrites it
  // (accumulate = false), so nothing is zero-filled: zeroing the per-activation buffers
  // (~90 MB for V=256 T=128 d=128 L=4 B=16) was 5% of the step. The residual adds need no
  // kernel either: x + f(x) passes dresid to f's backward unchanged and f's input gradient is
  // added into it (LayerNorm backward, accumulate = true). Parameter gradients still
  // accumulate into grads() (zero_grad() is the caller's, for gradient accumulation; wte gets
  // both the output-head and the embedding gradient).
  float* dlogits = dact(dl_.logits);
  float* dresid = dact(dl_.resid);
  float* dsmall = dact(dl_.small);  // [BT,C]: dlnf, then per layer dln2, datty, dln1
  float* dbig = dact(dl_.big);      // [BT,4C]: dfch_gelu → dfch (in place), then dqkv [BT,3C]

  timed(kBwdSoftmaxCE, [&] {
    k::softmax_crossentropy_backward(dlogits, act(al_.logits), targets_.data(), 1.0f / static_cast<float>(BT), N, V,
                                     false);
  });
  timed(kBwdMatmul, [&] {
    k::matmul_backward(dsmall, g + layout_.wte(), nullptr, dlogits, act(al_.lnf), p + layout_.wte(), N, C, V, pr,
                       false);
  });
  const float* last = L > 0 ? act(al_.residual3) + (L - 1) * sc : act(al_.encoded);
  timed(kBwdLayerNorm, [&] {
    k::layernorm_backward(dresid, g + layout_.lnf_w(), g + layout_.lnf_b(), dsmall, last, p + layout_.lnf_w(),
                          act(al_.lnf_mean), act(al_.lnf_rstd), N, C, false);
  });
  for (int l = L - 1; l >= 0; --l) {
    const LayerOffsets& o = layout_.layer(l);
    const float* residual = l == 0 ? act(al_.encoded) : act(al_.residual3) + (l - 1) * sc;
    const std::size_t bt_off = l * BT;
    // residual3 = residual2 + fcproj: dfcproj = dresid (= dresidual3)
    timed(kBwdMatmul, [&] {
      k::matmul_backward(dbig, g + o.fc_proj_w, g + o.fc_proj_b, dresid, act(al_.fch_gelu) + l * s4, p + o.fc_proj_w,
                         N, 4 * C, C, pr, false);
    });
    timed(kBwdGelu, [&] { k::gelu_backward(dbig, act(al_.fch) + l * s4, dbig, static_cast<long>(s4), false); });
    timed(kBwdMatmul, [&] {
      k::matmul_backward(dsmall, g + o.fc_w, g + o.fc_b, dbig, act(al_.ln2) + l * sc, p + o.fc_w, N, C, 4 * C, pr,
                         false);
    });
    // dresid += LN2 input gradient: dresid becomes dresidual2
    timed(kBwdLayerNorm, [&] {
      k::layernorm_backward(dresid, g + o.ln2_w, g + o.ln2_b, dsmall, act(al_.residual2) + l * sc, p + o.ln2_w,
                            act(al_.ln2_mean) + bt_off, act(al_.ln2_rstd) + bt_off, N, C, true);
    });
    // residual2 = residual + attproj: dattproj = dresid
    timed(kBwdMatmul, [&] {
      k::matmul_backward(dsmall, g + o.attn_proj_w, g + o.attn_proj_b, dresid, act(al_.atty) + l * sc,
                         p + o.attn_proj_w, N, C, C, pr, false);
    });
    timed(kBwdAttention, [&] {
      k::attention_backward(dbig, dsmall, act(al_.qkv) + l * s3, act(al_.att) + l * satt, B, T, C, NH, false);
      if (cfg_.rope) k::rope_backward(dbig, B, T, C, NH);
    });
    timed(kBwdMatmul, [&] {
      k::matmul_backward(dsmall, g + o.qkv_w, g + o.qkv_b, dbig, act(al_.ln1) + l * sc, p + o.qkv_w, N, C, 3 * C, pr,
                         false);
    });
    // dresid += LN1 input gradient: dresid becomes the gradient of this block's input
    timed(kBwdLayerNorm, [&] {
      k::layernorm_backward(dresid, g + o.ln1_w, g + o.ln1_b, dsmall, residual, p + o.ln1_w, act(al_.ln1_mean) + bt_off,
                            act(al_.ln1_rstd) + bt_off, N, C, true);
    });
  }
  timed(kBwdEncoder, [&] {
    k::encoder_backward(g + layout_.wte(), cfg_.rope ? nullptr : g + layout_.wpe(), dresid, tokens_.data(), B, T, C);
  });
}

void Gpt::zero_grad() { std::fill(grads_.begin(), grads_.end(), 0.0f); }

namespace {
nlohmann::json config_json(const GptConfig& c) {
  return {{"vocab", c.vocab}, {"ctx", c.ctx}, {"d_model", c.d_model}, {"n_layer", c.n_layer}, {"n_head", c.n_head},
          {"rope", c.rope}};
}
}  // namespace

void Gpt::save_weights(const std::string& path) const {
  TensorFile f;
  f.meta["config"] = config_json(cfg_);
  f.meta["format"] = "scalinglab-gpt-weights";
  for (const auto& t : layout_.tensors()) {
    std::vector<std::int64_t> shape(t.shape.begin(), t.shape.end());
    f.tensors.push_back(NamedTensor::f32(t.name, shape, params_.data() + t.offset));
  }
  write_tensor_file(path, f);
}

void Gpt::load_weights(const std::string& path) {
  const TensorFile f = read_tensor_file(path);
  if (!f.meta.contains("config") || f.meta["config"] != config_json(cfg_))
    throw std::runtime_error(path + ": weights are for config " +
                             (f.meta.contains("config") ? f.meta["config"].dump() : std::string("<none>")) +
                             ", model is " + config_json(cfg_).dump());
  std::vector<float> next(params_.size());
  for (const auto& t : layout_.tensors()) {
    const NamedTensor& nt = f.at(t.name);
    const std::vector<std::int64_t> shape(t.shape.begin(), t.shape.end());
    if (nt.shape != shape) throw std::runtime_error(path + ": tensor '" + t.name + "' has the wrong shape");
    const auto v = nt.as_f32();
    std::copy(v.begin(), v.end(), next.begin() + static_cast<std::ptrdiff_t>(t.offset));
  }
  params_ = std::move(next);  // all or nothing: a failed load leaves the model unchanged
}

}  // namespace scalinglab::model
