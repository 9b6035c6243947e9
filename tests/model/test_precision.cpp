// The blocked GEMM (kernels/cpu/gemm.h) in fp32 and bf16, the bf16 training path of the model,
// and the --precision flag. References: a double-precision triple loop (fp32), the same loop on
// inputs rounded to bfloat16 by an independent scalar round-to-nearest-even (bf16: products of
// two bf16 values are exact in fp32, so only the fp32 accumulation may differ), and the fp32
// model itself for the end-to-end tolerances.
#include <gtest/gtest.h>
#include <omp.h>

#include <bit>
#include <nlohmann/json.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/shell.h"
#include "gpt_test_util.h"
#include "scalinglab/kernels/cpu/gemm.h"
#include "scalinglab/model/gpt.h"
#include "scalinglab/model/train_hooks.h"
#include "scalinglab/run/run_spec.h"
#include "scalinglab/train/adamw.h"

namespace k = scalinglab::kernels::cpu;
using scalinglab::model::Gpt;
using scalinglab::model::GptConfig;
using scalinglab::model::SplitMix64;
using scalinglab::model::testing::random_ids;
using scalinglab::model::testing::randomize;

namespace {

std::vector<float> randn(std::size_t n, std::uint64_t seed) {
  SplitMix64 g(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(g.normal());
  return v;
}

// Scalar bf16 round-to-nearest-even, written independently of the kernels' vector conversion.
float round_bf16(float x) {
  std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  const std::uint32_t lsb = (u >> 16) & 1u;
  u = (u + 0x7fffu + lsb) & 0xffff0000u;
  return std::bit_cast<float>(u);
}

struct Case {
  int M, N, K;
  bool a_trans, b_trans, bias, accumulate;
  int a_gap = 1;  // A's elements a_gap floats apart: no unit stride, so fp32 packs A too
};

// Runs gemm on a case and returns (result, double reference on `rounded` inputs).
std::pair<std::vector<float>, std::vector<double>> run_case(const Case& c, k::Precision p, bool ref_on_bf16) {
  const auto a = randn(static_cast<std::size_t>(c.M) * c.K * c.a_gap, 11 + c.K);
  const auto b = randn(static_cast<std::size_t>(c.K) * c.N, 12 + c.N);
  const auto bias = randn(c.N, 13), c0 = randn(static_cast<std::size_t>(c.M) * c.N, 14);
  // A stored row-major M×K, or transposed (K×M) and read through strides; likewise B.
  const long g = c.a_gap;
  const k::MatView A = c.a_trans ? k::MatView{a.data(), g, g * c.M} : k::MatView{a.data(), g * c.K, g};
  const k::MatView B = c.b_trans ? k::MatView{b.data(), 1, c.K} : k::MatView{b.data(), c.N, 1};
  std::vector<float> out = c.accumulate ? c0 : std::vector<float>(c0.size(), 7.0f);  // garbage unless accumulating
  k::gemm(c.M, c.N, c.K, A, B, out.data(), c.N, c.bias ? bias.data() : nullptr, c.accumulate, p);
  std::vector<double> ref(out.size());
  auto r = [&](float x) { return ref_on_bf16 ? static_cast<double>(round_bf16(x)) : static_cast<double>(x); };
  for (int i = 0; i < c.M; ++i)
    for (int j = 0; j < c.N; ++j) {
      double s = (c.accumulate ? c0[i * c.N + j] : 0.0) + (c.bias ? bias[j] : 0.0);
      for (int kk = 0; kk < c.K; ++kk)
        s += r(a[(c.a_trans ? kk * c.M + i : i * c.K + kk) * g]) * r(b[c.b_trans ? j * c.K + kk : kk * c.N + j]);
      ref[i * c.N + j] = s;
    }
  return {out, ref};
}

double max_rel(const std::vector<float>& x, const std::vector<double>& ref, int K) {
  // Error relative to the size of the terms summed (√K · |a||b| ~ √K for unit normals).
  double m = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) m = std::max(m, std::abs(x[i] - ref[i]));
  return m / std::sqrt(static_cast<double>(K));
}

// Edges in every dimension: M and N not multiples of the 12×32 tile, K across the 256-deep
// (fp32) / 512-deep (bf16) chunks, odd K for the bf16 pairs, every operand layout. fp32 reads
// full 12-row panels of A in place (row-major, or unit row stride as doutᵀ in dW) and packs the
// partial last panel: M = 12·q + r with r = 0 and r ≠ 0 for both layouts, and an A with no unit
// stride (packed throughout). N = 600 is 19 column panels, more than one 16-panel B block.
const std::vector<Case> kCases = {
    {13, 37, 5, false, false, true, false},    {100, 70, 300, false, true, true, false},
    {25, 64, 531, true, false, false, true},   {97, 33, 1025, false, false, false, true},
    {1, 1, 1, true, true, true, true},         {130, 96, 64, true, true, false, false},
    {120, 64, 2048, true, false, false, true}, {64, 600, 70, false, true, true, false},
    {36, 50, 260, false, false, true, true},   {37, 45, 300, false, false, true, false, 3},
    {50, 45, 77, true, true, false, true, 2},
};

}  // namespace

TEST(Gemm, Fp32MatchesDoubleReference) {
  if (!k::gemm_available(k::Precision::fp32)) GTEST_SKIP() << "no AVX-512 on this CPU (OpenBLAS path is used)";
  for (const auto& c : kCases) {
    const auto [out, ref] = run_case(c, k::Precision::fp32, false);
    EXPECT_LT(max_rel(out, ref, c.K), 1e-5) << c.M << "x" << c.N << "x" << c.K;
  }
}

TEST(Gemm, Bf16IsFp32AccumulationOfRoundedInputs) {
  if (!k::cpu_has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  for (const auto& c : kCases) {
    const auto [out, ref_bf] = run_case(c, k::Precision::bf16, true);
    EXPECT_LT(max_rel(out, ref_bf, c.K), 1e-5) << c.M << "x" << c.N << "x" << c.K;
    // ... and against the unrounded product it is off by bf16's 2^-8 relative rounding, no more.
    const auto [out2, ref_f] = run_case(c, k::Precision::bf16, false);
    const double e = max_rel(out2, ref_f, c.K);
    EXPECT_LT(e, 2e-2) << c.M << "x" << c.N << "x" << c.K;
    if (c.K > 4) EXPECT_GT(e, 1e-5) << "bf16 result suspiciously exact: is it really rounding?";
  }
}

TEST(Gemm, BitIdenticalAcrossThreadCounts) {
  for (k::Precision p : {k::Precision::fp32, k::Precision::bf16}) {
    if (!k::gemm_available(p)) continue;
    // Forward-like (tall), dW-like (short and deep, A = doutᵀ) and wide shapes; 2-5 threads
    // give thread grids of 1×n, n×1 and 2×2 rectangles.
    for (const Case& c : {Case{200, 160, 700, false, true, true, false}, Case{128, 128, 1100, true, false, false, true},
                          Case{40, 700, 100, false, false, true, false}}) {
      auto run = [&](int threads) {
        const int saved = omp_get_max_threads();
        omp_set_num_threads(threads);
        auto r = run_case(c, p, false).first;
        omp_set_num_threads(saved);
        return r;
      };
      const auto one = run(1);
      for (int t = 2; t <= 5; ++t) EXPECT_EQ(run(t), one) << k::precision_name(p) << " " << c.M << "x" << c.N << " " << t;
    }
  }
}

TEST(Precision, ParseAndRejectWithTheAcceptedValues) {
  EXPECT_EQ(k::parse_precision("fp32"), k::Precision::fp32);
  EXPECT_EQ(k::parse_precision("bf16"), k::Precision::bf16);
  try {
    k::parse_precision("fp16");
    FAIL() << "fp16 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("expected fp32 or bf16"), std::string::npos) << e.what();
  }
  if (!k::cpu_has_avx512_bf16()) {
    Gpt m(GptConfig{16, 8, 16, 1, 2, false}, 1);
    EXPECT_THROW(m.set_precision(k::Precision::bf16), std::runtime_error);
  }
}

namespace {
struct LossGrads {
  float loss;
  std::vector<float> grads;
};
LossGrads loss_and_grads(const GptConfig& c, k::Precision p, int B, int T, int threads = 0) {
  const int saved = omp_get_max_threads();
  if (threads > 0) omp_set_num_threads(threads);
  Gpt m(c, 4);
  randomize(m, 5);
  m.set_precision(p);
  const auto tok = random_ids(static_cast<std::size_t>(B) * T, c.vocab, 6), tgt = random_ids(tok.size(), c.vocab, 7);
  m.zero_grad();
  const float loss = m.forward(tok.data(), tgt.data(), B, T);
  m.backward();
  omp_set_num_threads(saved);
  return {loss, {m.grads().begin(), m.grads().end()}};
}
}  // namespace

TEST(GptBf16, LossAndGradientsCloseToFp32) {
  if (!k::cpu_has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  const GptConfig c{64, 32, 64, 2, 4, false};
  const auto f = loss_and_grads(c, k::Precision::fp32, 4, 32), h = loss_and_grads(c, k::Precision::bf16, 4, 32);
  // Stated tolerances: loss within 1% relative; the gradient vector within 5% in relative L2
  // norm and cosine similarity > 0.998 (bf16 keeps 8 significant bits per matmul input).
  EXPECT_LT(std::abs(h.loss - f.loss) / f.loss, 1e-2) << h.loss << " vs " << f.loss;
  EXPECT_NE(h.loss, f.loss);  // it really is a different computation
  double num = 0, den = 0, dot = 0, hh = 0;
  for (std::size_t i = 0; i < f.grads.size(); ++i) {
    num += (h.grads[i] - f.grads[i]) * double(h.grads[i] - f.grads[i]);
    den += f.grads[i] * double(f.grads[i]);
    dot += h.grads[i] * double(f.grads[i]);
    hh += h.grads[i] * double(h.grads[i]);
  }
  EXPECT_LT(std::sqrt(num / den), 5e-2);
  EXPECT_GT(dot / std::sqrt(den * hh), 0.998);
}

TEST(GptBf16, DeterministicAcrossRunsAndThreadCounts) {
  if (!k::cpu_has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  const GptConfig c{37, 64, 32, 2, 4, false};
  const auto a = loss_and_grads(c, k::Precision::bf16, 5, 64, 1);
  const auto b = loss_and_grads(c, k::Precision::bf16, 5, 64, 1);
  EXPECT_EQ(a.loss, b.loss);
  EXPECT_EQ(a.grads, b.grads);
  const auto two = loss_and_grads(c, k::Precision::bf16, 5, 64, 2);
  EXPECT_EQ(two.loss, a.loss);
  EXPECT_EQ(two.grads, a.grads);
}

TEST(GptBf16, TrainingReachesTheFp32Loss) {
  if (!k::cpu_has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  // A learnable source with an entropy floor: next = (3·prev + {0,1}) mod V, so the optimum
  // is ln 2 ≈ 0.69 nats, well above 0 where relative comparisons would be meaningless.
  const GptConfig c{16, 16, 32, 2, 2, false};
  const int B = 8, T = 16, steps = 300;
  auto train = [&](k::Precision p) {
    Gpt m(c, 3);
    m.set_precision(p);
    scalinglab::train::AdamW opt(scalinglab::model::param_table(m), m.params().size());
    SplitMix64 g(99);  // same data for both precisions
    std::vector<std::int32_t> seq(static_cast<std::size_t>(B) * (T + 1)), tok(B * T), tgt(B * T);
    double tail = 0;
    for (int s = 0; s < steps; ++s) {
      for (int b = 0; b < B; ++b) {
        std::int32_t x = static_cast<std::int32_t>(g.next_u64() % c.vocab);
        for (int t = 0; t <= T; ++t) {
          seq[b * (T + 1) + t] = x;
          x = static_cast<std::int32_t>((3 * x + static_cast<std::int32_t>(g.next_u64() & 1)) % c.vocab);
        }
        for (int t = 0; t < T; ++t) tok[b * T + t] = seq[b * (T + 1) + t], tgt[b * T + t] = seq[b * (T + 1) + t + 1];
      }
      m.zero_grad();
      const float loss = m.forward(tok.data(), tgt.data(), B, T);
      m.backward();
      opt.step(m.params().data(), m.grads().data(), 3e-3);
      if (s >= steps - 30) tail += loss / 30.0;
    }
    return tail;
  };
  const double f = train(k::Precision::fp32), h = train(k::Precision::bf16);
  EXPECT_LT(f, 1.0) << "fp32 did not learn the source (ln 16 = 2.77 at the start)";
  EXPECT_LT(std::abs(h - f) / f, 0.03) << "bf16 " << h << " vs fp32 " << f;
}

TEST(BenchTrainCli, PrecisionFlag) {
  using scalinglab::testing::scalinglab_cli;
  const auto bad = scalinglab_cli("bench train --vocab 16 --ctx 8 --d-model 16 --layers 1 --heads 2 --batch 2 --steps 1 "
                                  "--warmup 0 --peak-n 16 --precision fp16");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("expected fp32 or bf16"), std::string::npos) << bad.out;
  const auto ok = scalinglab_cli("bench train --vocab 16 --ctx 8 --d-model 16 --layers 1 --heads 2 --batch 2 --steps 2 "
                                 "--warmup 0 --peak-n 16 --profile --json --precision " +
                                 std::string(k::cpu_has_avx512_bf16() ? "bf16" : "fp32"));
  ASSERT_EQ(ok.code, 0) << ok.out;
  const auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["precision"], k::cpu_has_avx512_bf16() ? "bf16" : "fp32");
  EXPECT_TRUE(j["profile_ms_per_step"].contains("forward.matmul"));
  EXPECT_GT(j["profile_ms_per_step"]["forward.matmul"].get<double>(), 0.0);
}

TEST(RunSpecPrecision, JsonRoundTripAndDefault) {
  scalinglab::run::RunSpec s;
  EXPECT_EQ(s.precision, k::Precision::fp32);
  EXPECT_FALSE(scalinglab::run::to_json(s).contains("precision"));  // fp32 configs unchanged
  s.precision = k::Precision::bf16;
  const auto j = scalinglab::run::to_json(s);
  EXPECT_EQ(j["precision"], "bf16");
  EXPECT_EQ(scalinglab::run::spec_from_json(j).precision, k::Precision::bf16);
  auto bad = j;
  bad["precision"] = "fp8";
  try {
    scalinglab::run::spec_from_json(bad);
    FAIL() << "fp8 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("precision"), std::string::npos) << e.what();
  }
}

TEST(Gemm, TeamVersionMatchesGemmInsideOneRegion) {
  // gemm_team: the team of an enclosing parallel region computes the product, two products per
  // region as matmul_backward does, with teams of 1-4 threads; bit-identical to gemm().
  for (k::Precision p : {k::Precision::fp32, k::Precision::bf16}) {
    if (!k::gemm_available(p)) continue;
    const int M = 75, N = 70, K = 300;
    const auto a = randn(static_cast<std::size_t>(M) * K, 51), b = randn(static_cast<std::size_t>(K) * N, 52);
    const auto bias = randn(N, 53);
    std::vector<float> ref1(M * N, 1.0f), ref2(K * N, 2.0f);
    k::gemm(M, N, K, {a.data(), K, 1}, {b.data(), N, 1}, ref1.data(), N, bias.data(), false, p);
    // second product: Aᵀ·C-like shape with an accumulate (K×N = (K×M)·(M×N))
    k::gemm(K, N, M, {a.data(), 1, K}, {ref1.data(), N, 1}, ref2.data(), N, nullptr, true, p);
    for (int threads = 1; threads <= 4; ++threads) {
      std::vector<float> c1(M * N, 1.0f), c2(K * N, 2.0f);
#pragma omp parallel num_threads(threads)
      {
        k::gemm_team(M, N, K, {a.data(), K, 1}, {b.data(), N, 1}, c1.data(), N, bias.data(), false, p);
#pragma omp barrier
        k::gemm_team(K, N, M, {a.data(), 1, K}, {c1.data(), N, 1}, c2.data(), N, nullptr, true, p);
      }
      EXPECT_EQ(c1, ref1) << k::precision_name(p) << " " << threads;
      EXPECT_EQ(c2, ref2) << k::precision_name(p) << " " << threads;
    }
  }
}
