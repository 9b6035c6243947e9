#include "scalinglab/model/generate.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "scalinglab/model/rng.h"

namespace scalinglab::model {

namespace {
void validate_options(const GptConfig& cfg, long fed, const SampleOptions& opt) {
  if (opt.max_new_tokens < 0) throw std::invalid_argument("max_new_tokens: must be >= 0");
  if (!std::isfinite(opt.temperature) || opt.temperature < 0)
    throw std::invalid_argument("temperature: must be finite and >= 0");
  if (fed + opt.max_new_tokens > cfg.ctx)
    throw std::invalid_argument("max_new_tokens: prompt (" + std::to_string(fed) + " tokens) + max_new_tokens (" +
                                std::to_string(opt.max_new_tokens) + ") exceeds ctx=" + std::to_string(cfg.ctx));
}
}  // namespace

void validate_generation(const GptConfig& cfg, std::span<const std::int32_t> prompt, const SampleOptions& opt) {
  if (prompt.empty()) throw std::invalid_argument("prompt: empty (need at least one token)");
  for (std::int32_t t : prompt)
    if (t < 0 || t >= cfg.vocab)
      throw std::invalid_argument("prompt: token " + std::to_string(t) + " outside [0, vocab=" + std::to_string(cfg.vocab) + ")");
  validate_options(cfg, static_cast<long>(prompt.size()), opt);
}

std::int32_t pick_token(std::span<const float> logits, double temperature, double u) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[best]) best = i;
  if (temperature == 0) return static_cast<std::int32_t>(best);
  const double mx = logits[best];
  double z = 0;
  for (float l : logits) z += std::exp((l - mx) / temperature);
  double acc = 0;
  const double target = u * z;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    acc += std::exp((logits[i] - mx) / temperature);
    if (acc >= target) return static_cast<std::int32_t>(i);
  }
  return static_cast<std::int32_t>(logits.size() - 1);
}

std::vector<std::int32_t> generate_reference(Gpt& model, std::span<const std::int32_t> prompt, const SampleOptions& opt) {
  const GptConfig& cfg = model.config();
  validate_generation(cfg, prompt, opt);
  std::vector<std::int32_t> seq(prompt.begin(), prompt.end()), out;
  SplitMix64 rng(opt.seed);
  std::vector<float> logits(cfg.vocab);
  for (int i = 0; i < opt.max_new_tokens; ++i) {
    const int T = static_cast<int>(seq.size());
    model.forward(seq.data(), nullptr, 1, T);
    const std::span<const float> p = model.probs().subspan(static_cast<std::size_t>(T - 1) * cfg.vocab, cfg.vocab);
    for (int v = 0; v < cfg.vocab; ++v) logits[v] = std::log(std::max(p[v], 1e-30f));
    const double u = opt.temperature > 0 ? rng.uniform() : 1.0;
    const std::int32_t tok = pick_token(logits, opt.temperature, u);
    out.push_back(tok);
    seq.push_back(tok);
    if (tok == opt.stop_token) break;
  }
  return out;
}

std::vector<std::int32_t> generate(Decoder& d, const SampleOptions& opt) {
  if (d.position() == 0) throw std::invalid_argument("prompt: the decoder has not been fed a prompt (position 0)");
  validate_options(d.config(), d.position(), opt);
  std::vector<std::int32_t> out;
  SplitMix64 rng(opt.seed);
  std::span<const float> logits = d.logits();
  // The draw order is generate_reference's: one uniform per generated token, only when sampling.
  for (int i = 0; i < opt.max_new_tokens; ++i) {
    const double u = opt.temperature > 0 ? rng.uniform() : 1.0;
    const std::int32_t tok = pick_token(logits, opt.temperature, u);
    out.push_back(tok);
    if (tok == opt.stop_token || i + 1 == opt.max_new_tokens) break;
    logits = d.step(tok);
  }
  return out;
}

std::vector<std::int32_t> generate(const Gpt& model, std::span<const std::int32_t> prompt, const SampleOptions& opt) {
  validate_generation(model.config(), prompt, opt);
  if (opt.max_new_tokens == 0) return {};
  Decoder d(model);
  d.prefill(prompt);
  return generate(d, opt);
}

}  // namespace scalinglab::model
