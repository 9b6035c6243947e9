#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

#include "scalinglab/model/gpt_config.h"
#include "scalinglab/model/param_layout.h"
#include "scalinglab/model/rng.h"

using scalinglab::model::GptConfig;
using scalinglab::model::ParamLayout;
using scalinglab::model::SplitMix64;

namespace {
GptConfig bench_cfg() { return GptConfig{256, 128, 128, 4, 4, false}; }

std::string validation_error(const GptConfig& c) {
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(GptConfig, ParameterCountsByHand) {
  // d=128: one block = 12·128² + 13·128 = 196608 + 1664.
  const GptConfig c = bench_cfg();
  EXPECT_EQ(c.params_per_layer(), 198272);
  EXPECT_EQ(c.params_non_embedding(), 4 * 198272 + 2 * 128);
  EXPECT_EQ(c.params_total(), 793344 + 256 * 128 + 128 * 128);
  GptConfig r = c;
  r.rope = true;  // no wpe table
  EXPECT_EQ(r.params_total(), 793344 + 256 * 128);
  EXPECT_EQ(r.params_non_embedding(), c.params_non_embedding());
}

TEST(GptConfig, Gpt2SmallMatchesThePublishedCount) {
  // GPT-2 small (124M): the Hugging Face checkpoint has 124,439,808 parameters with tied wte.
  const GptConfig c{50257, 1024, 768, 12, 12, false};
  EXPECT_EQ(c.params_total(), 124439808);
  // Kaplan's 12·L·d² approximation should be within 0.2% of the exact non-embedding count.
  const double approx = 12.0 * 12 * 768 * 768;
  EXPECT_NEAR(c.params_non_embedding() / approx, 1.0, 2e-3);
}

TEST(GptConfig, KaplanFlopsByHand) {
  // 6N + 6·L·T·d = 6·793344 + 6·4·128·128
  EXPECT_DOUBLE_EQ(bench_cfg().train_flops_per_token_kaplan(), 4760064.0 + 393216.0);
}

TEST(GptConfig, ChinchillaFlopsByHand) {
  // Per token, per layer: QKV 6·d² = 98304, K·Q 2·T·d = 32768, softmax 3·H·T = 1536,
  // softmax·V 32768, output projection 2·d² = 32768, MLP 16·d² = 262144 → 460288.
  // Embeddings and final logits: 2·V·d = 65536 each.
  const double forward = 65536.0 + 4 * 460288.0 + 65536.0;
  EXPECT_DOUBLE_EQ(bench_cfg().forward_flops_per_token_chinchilla(), forward);
  EXPECT_DOUBLE_EQ(bench_cfg().train_flops_per_token_chinchilla(), 3 * forward);
}

TEST(GptConfig, ConventionsAgreeForLargeModelsAndShortContexts) {
  // For a wide model with a short context both reduce to ≈ 6·12·L·d²; the relative gap is the
  // embedding/logit terms Chinchilla includes and Kaplan leaves out — a sanity check on scale.
  const GptConfig c{50257, 1024, 4096, 32, 32, false};
  const double ratio = c.train_flops_per_token_chinchilla() / c.train_flops_per_token_kaplan();
  EXPECT_GT(ratio, 1.0);
  EXPECT_LT(ratio, 1.15);
}

TEST(GptConfig, ValidateNamesTheProblem) {
  EXPECT_NO_THROW(bench_cfg().validate());
  GptConfig c = bench_cfg();
  c.n_head = 3;
  EXPECT_NE(validation_error(c).find("n_head=3 does not divide d_model=128"), std::string::npos) << validation_error(c);
  c = bench_cfg();
  c.vocab = 0;
  c.n_layer = -1;
  const std::string e = validation_error(c);
  EXPECT_NE(e.find("vocab=0 must be positive"), std::string::npos) << e;
  EXPECT_NE(e.find("n_layer=-1 must be positive"), std::string::npos) << e;  // all problems at once
  c = GptConfig{16, 8, 12, 1, 4, true};                                        // head size 3
  EXPECT_NE(validation_error(c).find("even head size"), std::string::npos);
  c.rope = false;
  EXPECT_NO_THROW(c.validate());
  EXPECT_THROW(ParamLayout(GptConfig{}), std::invalid_argument);
}

TEST(ParamLayout, ContiguousNamedAndCountedLikeTheConfig) {
  for (bool rope : {false, true}) {
    GptConfig c{50, 16, 24, 3, 2, rope};
    ParamLayout lay(c);
    EXPECT_EQ(lay.total(), static_cast<std::size_t>(c.params_total()));
    std::size_t next = 0;
    std::set<std::string> names;
    for (const auto& t : lay.tensors()) {
      EXPECT_EQ(t.offset, next) << t.name;  // no gaps, no overlaps, layout order
      next += t.numel;
      EXPECT_TRUE(names.insert(t.name).second) << "duplicate " << t.name;
      EXPECT_EQ(t.is_matrix, t.shape.size() == 2) << t.name;
    }
    EXPECT_EQ(next, lay.total());
    EXPECT_EQ(lay.find("wpe.weight") != nullptr, !rope);
    ASSERT_NE(lay.find("h.2.attn.c_attn.weight"), nullptr);
    EXPECT_EQ(lay.find("h.2.attn.c_attn.weight")->shape, (std::vector<int>{72, 24}));
    EXPECT_EQ(lay.find("h.1.mlp.c_proj.weight")->shape, (std::vector<int>{24, 96}));
    EXPECT_EQ(lay.find("h.1.mlp.c_proj.weight")->offset, lay.layer(1).fc_proj_w);
    EXPECT_FALSE(lay.find("ln_f.bias")->is_matrix);
    EXPECT_TRUE(lay.find("wte.weight")->is_matrix);
  }
}

TEST(ParamLayout, Gpt2InitStatisticsAndDeterminism) {
  const GptConfig c{64, 32, 64, 8, 4, false};
  ParamLayout lay(c);
  std::vector<float> p(lay.total()), q(lay.total()), r(lay.total());
  scalinglab::model::init_gpt2(lay, c, p.data(), 42);
  scalinglab::model::init_gpt2(lay, c, q.data(), 42);
  scalinglab::model::init_gpt2(lay, c, r.data(), 43);
  EXPECT_EQ(p, q);
  EXPECT_NE(p, r);
  auto stats = [&](const std::string& name) {
    const auto* t = lay.find(name);
    double s = 0, s2 = 0;
    for (std::size_t i = 0; i < t->numel; ++i) {
      s += p[t->offset + i];
      s2 += static_cast<double>(p[t->offset + i]) * p[t->offset + i];
    }
    const double mean = s / t->numel;
    return std::pair<double, double>{mean, std::sqrt(s2 / t->numel - mean * mean)};
  };
  // 12288 draws: the sample std is within ~1% of the true one; 5% leaves no flakiness.
  EXPECT_NEAR(stats("h.0.mlp.c_fc.weight").second, 0.02, 0.02 * 0.05);
  EXPECT_NEAR(stats("h.0.mlp.c_fc.weight").first, 0.0, 0.001);
  EXPECT_NEAR(stats("h.3.mlp.c_proj.weight").second, 0.02 / std::sqrt(16.0), 0.005 * 0.05);
  EXPECT_NEAR(stats("h.5.attn.c_proj.weight").second, 0.02 / std::sqrt(16.0), 0.005 * 0.07);
  EXPECT_NEAR(stats("wte.weight").second, 0.02, 0.02 * 0.05);
  for (const char* n : {"h.0.ln_1.weight", "ln_f.weight"}) EXPECT_EQ(stats(n), (std::pair<double, double>{1.0, 0.0}));
  for (const char* n : {"h.0.ln_1.bias", "h.7.attn.c_attn.bias", "h.2.mlp.c_proj.bias"})
    EXPECT_EQ(stats(n), (std::pair<double, double>{0.0, 0.0}));
}

TEST(SplitMix64, ReferenceStreamAndNormalMoments) {
  // First output for seed 0 from the reference implementation (Vigna's splitmix64.c).
  SplitMix64 g(0);
  EXPECT_EQ(g.next_u64(), 0xE220A8397B1DCDAFull);
  SplitMix64 h(7);
  double s = 0, s2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = h.normal();
    s += x;
    s2 += x * x;
  }
  EXPECT_NEAR(s / n, 0.0, 0.01);     // ~4.5 standard errors
  EXPECT_NEAR(s2 / n, 1.0, 0.015);
}
