#include "scalinglab/model/gpt_config.h"

#include <stdexcept>
#include <vector>

namespace scalinglab::model {

void GptConfig::validate() const {
  std::vector<std::string> problems;
  auto positive = [&](const char* name, int v) {
    if (v <= 0) problems.push_back(std::string(name) + "=" + std::to_string(v) + " must be positive");
  };
  positive("vocab", vocab);
  positive("ctx", ctx);
  positive("d_model", d_model);
  positive("n_layer", n_layer);
  positive("n_head", n_head);
  if (d_model > 0 && n_head > 0) {
    if (d_model % n_head != 0) {
      problems.push_back("n_head=" + std::to_string(n_head) + " does not divide d_model=" +
                         std::to_string(d_model) + " (each head needs an equal slice)");
    } else if (rope && head_size() % 2 != 0) {
      problems.push_back("rope needs an even head size, but d_model/n_head=" + std::to_string(head_size()));
    }
  }
  if (problems.empty()) return;
  std::string msg = "invalid GPT config (" + to_string() + "): ";
  for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
  throw std::invalid_argument(msg);
}

std::string GptConfig::to_string() const {
  return "V=" + std::to_string(vocab) + " T=" + std::to_string(ctx) + " d=" + std::to_string(d_model) +
         " L=" + std::to_string(n_layer) + " H=" + std::to_string(n_head) + " rope=" + (rope ? "1" : "0");
}

std::int64_t GptConfig::params_per_layer() const {
  const std::int64_t d = d_model;
  return 2 * d              // ln_1 weight, bias
         + 3 * d * d + 3 * d  // c_attn (q, k, v) weight, bias
         + d * d + d          // attention output projection
         + 2 * d              // ln_2
         + 4 * d * d + 4 * d  // c_fc
         + 4 * d * d + d;     // mlp output projection
}

std::int64_t GptConfig::params_non_embedding() const {
  return static_cast<std::int64_t>(n_layer) * params_per_layer() + 2 * static_cast<std::int64_t>(d_model);
}

std::int64_t GptConfig::params_total() const {
  const std::int64_t d = d_model;
  return params_non_embedding() + static_cast<std::int64_t>(vocab) * d + (rope ? 0 : static_cast<std::int64_t>(ctx) * d);
}

double GptConfig::train_flops_per_token_kaplan() const {
  const double n = static_cast<double>(params_non_embedding());
  const double forward = 2.0 * n + 2.0 * n_layer * static_cast<double>(ctx) * d_model;
  return 3.0 * forward;
}

double GptConfig::forward_flops_per_token_chinchilla() const {
  // Appendix F lists FLOPs per sequence of length seq_len; every term is linear in seq_len
  // except the attention square, so per token one seq_len factor drops out.
  const double d = d_model, t = ctx, v = vocab, h = n_head;
  const double embeddings = 2.0 * v * d;
  const double qkv = 2.0 * 3.0 * d * d;       // key_size·num_heads = d
  const double logits_kq = 2.0 * t * d;
  const double softmax = 3.0 * h * t;
  const double softmax_v = 2.0 * t * d;
  const double attn_out = 2.0 * d * d;
  const double dense = 2.0 * (d * 4.0 * d + d * 4.0 * d);  // ffw_size = 4·d_model
  const double final_logits = 2.0 * d * v;
  return embeddings + n_layer * (qkv + logits_kq + softmax + softmax_v + attn_out + dense) + final_logits;
}

}  // namespace scalinglab::model
