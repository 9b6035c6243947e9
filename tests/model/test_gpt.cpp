#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "gpt_test_util.h"
#include "scalinglab/kernels/cpu/matmul.h"
#include "scalinglab/model/gpt.h"
#include "scalinglab/model/tensor_file.h"

using scalinglab::model::Gpt;
using scalinglab::model::GptConfig;
using scalinglab::model::SplitMix64;
using scalinglab::model::testing::random_ids;
using scalinglab::model::testing::randomize;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("scalinglab_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

}  // namespace

TEST(Gpt, InitialLossIsLogVocab) {
  // GPT-2 init gives near-zero logits, hence a near-uniform prediction: loss ≈ ln V.
  const GptConfig c{97, 32, 48, 2, 4, false};
  Gpt m(c, 1);
  const int B = 3, T = 32;
  const auto tok = random_ids(B * T, c.vocab, 5), tgt = random_ids(B * T, c.vocab, 6);
  const float loss = m.forward(tok.data(), tgt.data(), B, T);
  EXPECT_NEAR(loss, std::log(97.0), 0.05);
  const auto probs = m.probs();
  ASSERT_EQ(probs.size(), static_cast<std::size_t>(B * T * c.vocab));
  for (int r = 0; r < B * T; ++r) {
    double s = 0;
    for (int v = 0; v < c.vocab; ++v) s += probs[r * c.vocab + v];
    EXPECT_NEAR(s, 1.0, 1e-5);
  }
}

TEST(Gpt, RejectsBadInputs) {
  Gpt m(GptConfig{10, 4, 8, 1, 2, false});
  std::vector<std::int32_t> tok = {1, 2, 3, 4}, bad = {1, 2, 10, 4};
  EXPECT_THROW(m.backward(), std::logic_error);  // nothing to differentiate yet
  EXPECT_THROW(m.forward(bad.data(), tok.data(), 1, 4), std::invalid_argument);
  EXPECT_THROW(m.forward(tok.data(), bad.data(), 1, 4), std::invalid_argument);
  EXPECT_THROW(m.forward(tok.data(), tok.data(), 1, 5), std::invalid_argument);  // T > ctx
  EXPECT_TRUE(std::isnan(m.forward(tok.data(), nullptr, 1, 4)));
  EXPECT_THROW(m.backward(), std::logic_error);  // no targets
  EXPECT_THROW(m.param("h.1.ln_1.weight"), std::invalid_argument);
}

// Whole-model gradient check by directional derivatives in float. Per-element central
// differences of a float model drown in rounding noise (the loss is O(1), single gradient
// entries O(1e-4)), so instead, per tensor, differentiate along two directions:
//   u = ĝ (the analytic gradient of that tensor, normalised): must give ‖g‖ — fails if the
//       gradient points the wrong way or has the wrong size;
//   u = random unit vector mixed with ĝ: must give g·u — catches errors orthogonal to g.
// Steps of 1e-2 and 5e-3 along a unit vector, combined by Richardson extrapolation, keep the
// truncation error O(eps⁴) and the rounding error ~1e-7·loss/eps ≈ 1e-4 relative to ‖g‖.
void directional_gradcheck(const GptConfig& c, int B, int T) {
  Gpt m(c, 3);
  randomize(m, 11);
  const auto tok = random_ids(B * T, c.vocab, 7), tgt = random_ids(B * T, c.vocab, 8);
  m.zero_grad();
  m.forward(tok.data(), tgt.data(), B, T);
  m.backward();
  const std::vector<float> grads(m.grads().begin(), m.grads().end());
  const std::vector<float> base(m.params().begin(), m.params().end());
  SplitMix64 rng(99);
  const double eps = 1e-2;
  for (const auto& t : m.tensors()) {
    double gnorm = 0;
    for (std::size_t i = 0; i < t.numel; ++i) gnorm += double(grads[t.offset + i]) * grads[t.offset + i];
    gnorm = std::sqrt(gnorm);
    ASSERT_GT(gnorm, 0.0) << t.name << " has an all-zero gradient";
    for (int dir = 0; dir < 2; ++dir) {
      std::vector<double> u(t.numel);
      double un = 0;
      for (std::size_t i = 0; i < t.numel; ++i) {
        u[i] = grads[t.offset + i] / gnorm + (dir == 1 ? rng.normal() / std::sqrt(double(t.numel)) : 0.0);
        un += u[i] * u[i];
      }
      double expected = 0;
      for (std::size_t i = 0; i < t.numel; ++i) {
        u[i] /= std::sqrt(un);
        expected += u[i] * grads[t.offset + i];
      }
      auto loss_at = [&](double s) {
        auto p = m.params();
        for (std::size_t i = 0; i < t.numel; ++i) p[t.offset + i] = static_cast<float>(base[t.offset + i] + s * u[i]);
        return double(m.forward(tok.data(), tgt.data(), B, T));
      };
      // Richardson extrapolation of two central differences cancels the eps² truncation term,
      // which the randomised (deliberately non-smooth-looking) weights make sizeable.
      const double d1 = (loss_at(eps) - loss_at(-eps)) / (2 * eps);
      const double d2 = (loss_at(eps / 2) - loss_at(-eps / 2)) / eps;
      const double numeric = (4 * d2 - d1) / 3;
      std::copy(base.begin(), base.end(), m.params().begin());
      EXPECT_NEAR(numeric, expected, 2e-3 * gnorm + 2e-5)
          << t.name << " direction " << dir << " (‖g‖=" << gnorm << ")";
    }
  }
}

TEST(Gpt, GradientMatchesDirectionalFiniteDifferences) { directional_gradcheck(GptConfig{13, 8, 16, 2, 2, false}, 3, 7); }

TEST(Gpt, GradientMatchesDirectionalFiniteDifferencesWithRope) {
  directional_gradcheck(GptConfig{13, 8, 16, 2, 4, true}, 2, 8);
}

TEST(Gpt, DeterministicAndGradientsAccumulate) {
  const GptConfig c{31, 16, 32, 2, 4, false};
  const int B = 4, T = 16;
  const auto tok = random_ids(B * T, c.vocab, 1), tgt = random_ids(B * T, c.vocab, 2);
  auto run = [&](Gpt& m) {
    m.zero_grad();
    const float loss = m.forward(tok.data(), tgt.data(), B, T);
    m.backward();
    return std::pair<float, std::vector<float>>{loss, {m.grads().begin(), m.grads().end()}};
  };
  Gpt a(c, 5), b(c, 5);
  randomize(a, 3);
  randomize(b, 3);
  const auto ra = run(a);
  // Same input, same thread count: bit-identical, in a fresh model and in a reused one.
  EXPECT_EQ(run(b), ra);
  EXPECT_EQ(run(a), ra);
  // backward() without zero_grad() adds on top, like PyTorch's .grad.
  a.forward(tok.data(), tgt.data(), B, T);
  a.backward();
  for (std::size_t i = 0; i < ra.second.size(); ++i) ASSERT_NEAR(a.grads()[i], 2 * ra.second[i], 1e-6 + 1e-5 * std::abs(ra.second[i])) << i;
}

TEST(Gpt, BitIdenticalAcrossThreadCounts) {
  // Stronger than the contract (same thread count → same bits): every kernel fixes its
  // summation order independently of the thread count, so 1, 2 and 3 threads must agree exactly.
  const GptConfig c{37, 64, 32, 2, 4, false};
  const int B = 5, T = 64;  // 320 rows: several 128-row matmul blocks
  const auto tok = random_ids(B * T, c.vocab, 3), tgt = random_ids(B * T, c.vocab, 4);
  auto run = [&](int threads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    Gpt m(c, 8);
    randomize(m, 9);
    const float loss = m.forward(tok.data(), tgt.data(), B, T);
    m.backward();
    omp_set_num_threads(saved);
    return std::pair<float, std::vector<float>>{loss, {m.grads().begin(), m.grads().end()}};
  };
  const auto one = run(1);
  EXPECT_EQ(run(2), one);
  EXPECT_EQ(run(3), one);
}

TEST(Gpt, BatchRowsAreIndependentAndShapesCanShrink) {
  // A smaller (B,T) after a larger one reuses the activation memory with a new plan; rows of a
  // batch must not influence each other, and a prefix of a sequence must not see its suffix.
  const GptConfig c{29, 12, 24, 2, 3, false};
  Gpt m(c, 2);
  randomize(m, 4);
  const int B = 4, T = 12;
  const auto tok = random_ids(B * T, c.vocab, 9), tgt = random_ids(B * T, c.vocab, 10);
  m.forward(tok.data(), tgt.data(), B, T);
  const std::vector<float> full(m.probs().begin(), m.probs().end());
  const std::size_t big = m.activation_floats();
  // Sequence 2 alone, first 5 positions.
  std::vector<std::int32_t> tok1(tok.begin() + 2 * T, tok.begin() + 2 * T + 5), tgt1(tgt.begin() + 2 * T, tgt.begin() + 2 * T + 5);
  m.forward(tok1.data(), tgt1.data(), 1, 5);
  EXPECT_EQ(m.activation_floats(), big);
  for (int t = 0; t < 5; ++t)
    for (int v = 0; v < c.vocab; ++v)
      ASSERT_NEAR(m.probs()[t * c.vocab + v], full[(2 * T + t) * c.vocab + v], 2e-6) << t << "," << v;
}

TEST(Gpt, WeightsRoundTripThroughAFile) {
  const GptConfig c{20, 8, 16, 1, 2, false};
  Gpt a(c, 1), b(c, 2);
  randomize(a, 7);
  const std::string path = temp_path("weights.bin");
  a.save_weights(path);
  ASSERT_NE(std::vector<float>(a.params().begin(), a.params().end()), std::vector<float>(b.params().begin(), b.params().end()));
  b.load_weights(path);
  EXPECT_EQ(std::vector<float>(a.params().begin(), a.params().end()), std::vector<float>(b.params().begin(), b.params().end()));
  GptConfig other = c;
  other.rope = true;
  Gpt r(other, 1);
  EXPECT_THROW(r.load_weights(path), std::runtime_error);  // config mismatch is reported, not ignored
  std::filesystem::remove(path);
}

TEST(Gpt, NamedViewsAliasTheFlatBuffers) {
  Gpt m(GptConfig{20, 8, 16, 2, 2, false});
  EXPECT_EQ(m.param("wte.weight").data(), m.params().data());
  EXPECT_EQ(m.param("ln_f.bias").data() + m.param("ln_f.bias").size(), m.params().data() + m.params().size());
  const auto* t = m.layout().find("h.1.mlp.c_fc.weight");
  EXPECT_EQ(m.grad("h.1.mlp.c_fc.weight").data(), m.grads().data() + t->offset);
  m.grad("h.1.mlp.c_fc.weight")[3] = 5.0f;
  EXPECT_EQ(m.grads()[t->offset + 3], 5.0f);
  m.zero_grad();
  EXPECT_EQ(m.grads()[t->offset + 3], 0.0f);
}

TEST(TensorFile, MalformedFilesAreRejectedWithThePath) {
  using namespace scalinglab::model;
  const std::string path = temp_path("tensors.bin");
  TensorFile f;
  f.meta["note"] = "x";
  const std::vector<float> v = {1.5f, -2.0f, 3.25f};
  const std::vector<std::int32_t> ids = {7, 8};
  f.tensors.push_back(NamedTensor::f32("a", {3}, v.data()));
  f.tensors.push_back(NamedTensor::i32("b", {1, 2}, ids.data()));
  write_tensor_file(path, f);
  const TensorFile g = read_tensor_file(path);
  EXPECT_EQ(g.meta["note"], "x");
  EXPECT_EQ(g.at("a").as_f32(), v);
  EXPECT_EQ(g.at("b").as_i32(), ids);
  EXPECT_THROW(g.at("a").as_i32(), std::runtime_error);
  EXPECT_THROW(g.at("c"), std::runtime_error);
  // Truncate: the last tensor now runs past the end.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes.substr(0, bytes.size() - 12);
  }
  try {
    read_tensor_file(path);
    FAIL() << "truncated file accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'b'"), std::string::npos) << e.what();
  }
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "NOTATENSORFILE..";
  }
  EXPECT_THROW(read_tensor_file(path), std::runtime_error);
  std::filesystem::remove(path);
}

// Not a timed test (disabled by default; run with --gtest_also_run_disabled_tests
// --gtest_filter='*Bench*'): forward+backward time for the reference small config, and sgemm
// versus the hand-written matmul on that config's shapes.
TEST(GptBench, DISABLED_StepAndMatmulTimes) {
  const GptConfig c{256, 128, 128, 4, 4, false};
  const int B = 16, T = 128;
  Gpt m(c, 1);
  const auto tok = random_ids(B * T, c.vocab, 1), tgt = random_ids(B * T, c.vocab, 2);
  using clk = std::chrono::steady_clock;
  // Minimum over repetitions: on a shared machine the noise only ever adds time.
  auto time_ms = [&](auto&& fn, int reps) {
    fn();  // warm-up
    double best = 1e300;
    for (int i = 0; i < reps; ++i) {
      const auto t0 = clk::now();
      fn();
      best = std::min(best, std::chrono::duration<double, std::milli>(clk::now() - t0).count());
    }
    return best;
  };
  const double fwd = time_ms([&] { m.forward(tok.data(), tgt.data(), B, T); }, 10);
  const double step = time_ms([&] { m.zero_grad(); m.forward(tok.data(), tgt.data(), B, T); m.backward(); }, 10);
  std::printf("threads=%d  V=256 T=128 d=128 L=4 H=4 B=16: forward %.1f ms, forward+backward %.1f ms/step "
              "(%.0f tokens/s, %.1f GFLOP/s by 6N+attn)\n",
              omp_get_max_threads(), fwd, step, B * T / (step / 1e3),
              c.train_flops_per_token_kaplan() * B * T / (step / 1e3) / 1e9);
  const int N = B * T;
  for (auto [C, OC] : std::vector<std::pair<int, int>>{{128, 384}, {128, 128}, {128, 512}, {512, 128}, {128, 256}}) {
    std::vector<float> x(static_cast<std::size_t>(N) * C, 0.5f), w(static_cast<std::size_t>(OC) * C, 0.25f), b(OC, 0.1f),
        out(static_cast<std::size_t>(N) * OC);
    namespace k = scalinglab::kernels::cpu;
    const double blas = time_ms([&] { k::matmul_forward(out.data(), x.data(), w.data(), b.data(), N, C, OC); }, 20);
    const double naive = time_ms([&] { k::matmul_forward_naive(out.data(), x.data(), w.data(), b.data(), N, C, OC); }, 20);
    std::printf("matmul N=%d C=%d OC=%d: sgemm %.3f ms, hand-written %.3f ms\n", N, C, OC, blas, naive);
  }
}
