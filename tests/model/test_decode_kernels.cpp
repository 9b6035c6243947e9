// The one-row kernels of incremental decoding against independent references: matvec_forward
// against a double-precision dot product (and, in bf16, against an independent scalar rounding),
// attention_decode_forward against attention_forward's last row, rope_forward's position offset
// against rotating a longer sequence.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "scalinglab/kernels/cpu/attention.h"
#include "scalinglab/kernels/cpu/attention_decode.h"
#include "scalinglab/kernels/cpu/matvec.h"
#include "scalinglab/kernels/cpu/rope.h"
#include "scalinglab/model/rng.h"

using namespace scalinglab::kernels::cpu;
using scalinglab::model::SplitMix64;

namespace {

std::vector<float> randn(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  SplitMix64 g(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(scale * g.normal());
  return v;
}

// Round to nearest even by exact arithmetic on the value (not bit tricks): the two bf16
// neighbours of x and the midpoint between them.
float bf16_reference(float x) {
  if (x == 0.0f) return x;
  int e = 0;
  std::frexp(x, &e);                            // |x| in [2^(e-1), 2^e)
  const double ulp = std::ldexp(1.0, e - 8);    // 8 significant bits
  const double lo = std::floor(x / ulp) * ulp, hi = lo + ulp;
  const double mid = (lo + hi) / 2;
  if (x < mid) return static_cast<float>(lo);
  if (x > mid) return static_cast<float>(hi);
  return static_cast<float>(std::fmod(std::abs(lo / ulp), 2.0) == 0.0 ? lo : hi);
}

}  // namespace

TEST(Matvec, MatchesADoublePrecisionDotProduct) {
  for (auto [C, OC] : std::vector<std::pair<int, int>>{{1, 1}, {3, 5}, {16, 7}, {17, 33}, {64, 192}, {100, 13}, {512, 128}}) {
    const auto x = randn(C, C * 7 + 1), w = randn(static_cast<std::size_t>(C) * OC, OC * 3 + 2), b = randn(OC, 5);
    std::vector<float> out(OC), nob(OC);
    matvec_forward(out.data(), x.data(), w.data(), b.data(), C, OC);
    matvec_forward(nob.data(), x.data(), w.data(), nullptr, C, OC);
    for (int o = 0; o < OC; ++o) {
      double s = 0, mag = 0;
      for (int c = 0; c < C; ++c) {
        s += static_cast<double>(x[c]) * w[static_cast<std::size_t>(o) * C + c];
        mag += std::abs(static_cast<double>(x[c]) * w[static_cast<std::size_t>(o) * C + c]);
      }
      const double tol = 1e-6 * (mag + 1) * std::sqrt(static_cast<double>(C));
      EXPECT_NEAR(out[o], s + b[o], tol) << "C=" << C << " OC=" << OC << " o=" << o;
      EXPECT_NEAR(nob[o], s, tol);
    }
  }
}

TEST(Matvec, Bf16RoundsBothOperands) {
  // Independent rounding reference first: ties to even, NaN kept.
  EXPECT_EQ(round_to_bf16(1.0f), 1.0f);
  EXPECT_EQ(round_to_bf16(1.0f + 0x1p-8f), 1.0f);                       // tie -> even (1.0)
  EXPECT_EQ(round_to_bf16(1.0f + 3 * 0x1p-8f), 1.0f + 0x1p-6f);          // tie -> even (up)
  EXPECT_TRUE(std::isnan(round_to_bf16(NAN)));
  for (float v : randn(1000, 9, 100.0)) ASSERT_EQ(round_to_bf16(v), bf16_reference(v)) << v;

  const int C = 37, OC = 11;
  const auto x = randn(C, 1), w = randn(static_cast<std::size_t>(C) * OC, 2), b = randn(OC, 3);
  std::vector<float> out(OC);
  matvec_forward(out.data(), x.data(), w.data(), b.data(), C, OC, Precision::bf16);
  double off_fp32 = 0;
  for (int o = 0; o < OC; ++o) {
    double s = 0, s32 = 0, mag = 0;
    for (int c = 0; c < C; ++c) {
      mag += std::abs(static_cast<double>(x[c]) * w[static_cast<std::size_t>(o) * C + c]);
      // bf16 × bf16 products are exact in double; only the fp32 accumulation rounds.
      s += static_cast<double>(bf16_reference(x[c])) * bf16_reference(w[static_cast<std::size_t>(o) * C + c]);
      s32 += static_cast<double>(x[c]) * w[static_cast<std::size_t>(o) * C + c];
    }
    EXPECT_NEAR(out[o], s + b[o], 1e-6 * (mag + 1) * std::sqrt(static_cast<double>(C))) << o;
    off_fp32 = std::max(off_fp32, std::abs(out[o] - (s32 + b[o])));
  }
  EXPECT_GT(off_fp32, 1e-4) << "suspiciously close to fp32: is it rounding?";
}

TEST(AttentionDecode, EqualsTheLastRowOfCausalAttention) {
  for (auto [T, C, NH] : std::vector<std::tuple<int, int, int>>{{1, 8, 2}, {5, 12, 3}, {17, 64, 4}, {70, 32, 1}, {33, 40, 2}}) {
    SCOPED_TRACE("T=" + std::to_string(T) + " C=" + std::to_string(C) + " NH=" + std::to_string(NH));
    const auto qkv = randn(static_cast<std::size_t>(T) * 3 * C, T + C, 1.5);
    std::vector<float> out(static_cast<std::size_t>(T) * C), att(static_cast<std::size_t>(NH) * T * T);
    attention_forward(out.data(), att.data(), qkv.data(), 1, T, C, NH);
    // The cache in the decoder's layout, with a leading dimension larger than T (capacity).
    const long ld = T + 3;
    std::vector<float> kt(static_cast<std::size_t>(C) * ld, 99.0f), v(static_cast<std::size_t>(ld) * C, 99.0f);
    for (int t = 0; t < T; ++t)
      for (int c = 0; c < C; ++c) {
        kt[static_cast<std::size_t>(c) * ld + t] = qkv[static_cast<std::size_t>(t) * 3 * C + C + c];
        v[static_cast<std::size_t>(t) * C + c] = qkv[static_cast<std::size_t>(t) * 3 * C + 2 * C + c];
      }
    // Every prefix: query t over keys 0..t is row t of the causal attention.
    for (int n = 1; n <= T; ++n) {
      std::vector<float> o(C), scratch(n);
      attention_decode_forward(o.data(), scratch.data(), qkv.data() + static_cast<std::size_t>(n - 1) * 3 * C, kt.data(),
                               ld, v.data(), C, n, C, NH);
      for (int c = 0; c < C; ++c)
        ASSERT_NEAR(o[c], out[static_cast<std::size_t>(n - 1) * C + c], 1e-5) << "n=" << n << " c=" << c;
    }
  }
}

TEST(Rope, PositionOffsetRotatesLikeTheLongerSequence) {
  const int T = 9, C = 24, NH = 3;
  auto whole = randn(static_cast<std::size_t>(T) * 3 * C, 4);
  const auto orig = whole;
  rope_forward(whole.data(), 1, T, C, NH);
  for (int t0 : {0, 1, 5, 8}) {
    std::vector<float> rows(orig.begin() + static_cast<long>(t0) * 3 * C, orig.end());
    rope_forward(rows.data(), 1, T - t0, C, NH, t0);
    for (std::size_t i = 0; i < rows.size(); ++i)
      ASSERT_EQ(rows[i], whole[static_cast<std::size_t>(t0) * 3 * C + i]) << "t0=" << t0 << " i=" << i;
  }
}
