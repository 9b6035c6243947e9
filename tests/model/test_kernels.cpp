// Every CPU kernel against an independent double-precision reference written from the textbook
// definition: the forward output must match the reference, and the backward pass must match
// central finite differences of the reference (eps = 1e-6 in double, so truncation and rounding
// errors are ~1e-10 and the tolerance measures only the float kernels' own error).
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "scalinglab/kernels/cpu/attention.h"
#include "scalinglab/kernels/cpu/crossentropy.h"
#include "scalinglab/kernels/cpu/encoder.h"
#include "scalinglab/kernels/cpu/gelu.h"
#include "scalinglab/kernels/cpu/layernorm.h"
#include "scalinglab/kernels/cpu/matmul.h"
#include "scalinglab/kernels/cpu/residual.h"
#include "scalinglab/kernels/cpu/rope.h"
#include "scalinglab/kernels/cpu/vec_math.h"
#include "scalinglab/model/rng.h"

namespace k = scalinglab::kernels::cpu;
using Vec = std::vector<double>;
using FVec = std::vector<float>;

namespace {

FVec randn(std::size_t n, std::uint64_t seed, double scale = 1.0, double shift = 0.0) {
  scalinglab::model::SplitMix64 g(seed);
  FVec v(n);
  for (auto& x : v) x = static_cast<float>(shift + scale * g.normal());
  return v;
}
Vec to_d(const FVec& v) { return Vec(v.begin(), v.end()); }

// ‖a - ref‖ / ‖ref‖
double rel_err(const FVec& a, const Vec& ref) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    num += (a[i] - ref[i]) * (a[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return std::sqrt(num / den);
}

// Gradient of the scalar f at x by central differences, one coordinate at a time.
Vec numgrad(const std::function<double(const Vec&)>& f, Vec x, double eps = 1e-6) {
  Vec g(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double x0 = x[i];
    x[i] = x0 + eps;
    const double fp = f(x);
    x[i] = x0 - eps;
    const double fm = f(x);
    x[i] = x0;
    g[i] = (fp - fm) / (2 * eps);
  }
  return g;
}

double dot(const Vec& a, const Vec& w) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * w[i];
  return s;
}

// Backward kernels accumulate; starting the gradient buffers at this value and subtracting it
// afterwards checks that they add rather than overwrite.
constexpr float kPrefill = 0.25f;
FVec prefilled(std::size_t n) { return FVec(n, kPrefill); }
FVec unfill(FVec v) {
  for (auto& x : v) x -= kPrefill;
  return v;
}

constexpr double kFwdTol = 2e-6;
constexpr double kBwdTol = 2e-5;

// ---- double references ----

Vec ref_layernorm(const Vec& x, const Vec& w, const Vec& b, int N, int C) {
  Vec out(x.size());
  for (int n = 0; n < N; ++n) {
    double m = 0, v = 0;
    for (int c = 0; c < C; ++c) m += x[n * C + c];
    m /= C;
    for (int c = 0; c < C; ++c) v += (x[n * C + c] - m) * (x[n * C + c] - m);
    v /= C;
    for (int c = 0; c < C; ++c) out[n * C + c] = (x[n * C + c] - m) / std::sqrt(v + 1e-5) * w[c] + b[c];
  }
  return out;
}

Vec ref_matmul(const Vec& x, const Vec& w, const Vec* b, int N, int C, int OC) {
  Vec out(static_cast<std::size_t>(N) * OC);
  for (int n = 0; n < N; ++n)
    for (int o = 0; o < OC; ++o) {
      double s = b ? (*b)[o] : 0.0;
      for (int c = 0; c < C; ++c) s += x[n * C + c] * w[o * C + c];
      out[n * OC + o] = s;
    }
  return out;
}

Vec ref_attention(const Vec& qkv, int B, int T, int C, int NH) {
  const int hs = C / NH;
  Vec out(static_cast<std::size_t>(B) * T * C, 0.0);
  auto at = [&](int b, int t, int part, int h, int i) { return qkv[(b * T + t) * 3 * C + part * C + h * hs + i]; };
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < NH; ++h)
      for (int t = 0; t < T; ++t) {
        Vec s(t + 1);
        double mx = -1e300;
        for (int u = 0; u <= t; ++u) {
          double d = 0;
          for (int i = 0; i < hs; ++i) d += at(b, t, 0, h, i) * at(b, u, 1, h, i);
          s[u] = d / std::sqrt(static_cast<double>(hs));
          mx = std::max(mx, s[u]);
        }
        double z = 0;
        for (auto& v : s) z += (v = std::exp(v - mx));
        for (int u = 0; u <= t; ++u)
          for (int i = 0; i < hs; ++i) out[(b * T + t) * C + h * hs + i] += s[u] / z * at(b, u, 2, h, i);
      }
  return out;
}

double ref_gelu(double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))); }

Vec ref_rope(Vec qkv, int B, int T, int C, int NH) {
  const int hs = C / NH;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int part = 0; part < 2; ++part)
        for (int h = 0; h < NH; ++h)
          for (int i = 0; i < hs / 2; ++i) {
            double* x = &qkv[(b * T + t) * 3 * C + part * C + h * hs + 2 * i];
            const double a = t * std::pow(10000.0, -2.0 * i / hs);
            const double x0 = x[0], x1 = x[1];
            x[0] = x0 * std::cos(a) - x1 * std::sin(a);
            x[1] = x0 * std::sin(a) + x1 * std::cos(a);
          }
  return qkv;
}

}  // namespace

TEST(Kernels, VectorisableExpIsAccurate) {
  // Every float in [-87, 88] would take long; a dense sweep plus the softmax range near 0.
  double worst = 0;
  for (double x = -87.0; x <= 88.0; x += 1e-3) {
    const float xf = static_cast<float>(x);
    const double ref = std::exp(static_cast<double>(xf));
    worst = std::max(worst, std::abs(k::vexp(xf) - ref) / ref);
  }
  EXPECT_LT(worst, 3e-7);  // float epsilon is 1.19e-7: ~2 ulp
  EXPECT_EQ(k::vexp(0.0f), 1.0f);
  EXPECT_LT(k::vexp(-INFINITY), 1.3e-38f);  // clamped, finite, positive
  EXPECT_GT(k::vexp(-INFINITY), 0.0f);
  EXPECT_TRUE(std::isfinite(k::vexp(200.0f)));
}

TEST(Kernels, Encoder) {
  const int B = 2, T = 5, C = 20, V = 7;
  const std::vector<std::int32_t> tok = {3, 1, 3, 0, 6, 3, 3, 2, 1, 5};  // repeats: scatter-add
  const FVec wte = randn(V * C, 1), wpe = randn(T * C, 2);
  FVec out(B * T * C);
  k::encoder_forward(out.data(), tok.data(), wte.data(), wpe.data(), B, T, C);
  const FVec w = randn(out.size(), 3);
  auto f = [&](const Vec& e, const Vec& p) {
    double s = 0;
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < T; ++t)
        for (int c = 0; c < C; ++c) s += w[(b * T + t) * C + c] * (e[tok[b * T + t] * C + c] + p[t * C + c]);
    return s;
  };
  Vec ref(out.size());
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int c = 0; c < C; ++c) ref[(b * T + t) * C + c] = double(wte[tok[b * T + t] * C + c]) + wpe[t * C + c];
  EXPECT_LT(rel_err(out, ref), kFwdTol);
  FVec dwte = prefilled(wte.size()), dwpe = prefilled(wpe.size());
  k::encoder_backward(dwte.data(), dwpe.data(), w.data(), tok.data(), B, T, C);
  EXPECT_LT(rel_err(unfill(dwte), numgrad([&](const Vec& e) { return f(e, to_d(wpe)); }, to_d(wte))), kBwdTol);
  EXPECT_LT(rel_err(unfill(dwpe), numgrad([&](const Vec& p) { return f(to_d(wte), p); }, to_d(wpe))), kBwdTol);
  // Without wpe (RoPE models) the output is the bare token embedding.
  k::encoder_forward(out.data(), tok.data(), wte.data(), nullptr, B, T, C);
  EXPECT_EQ(out[C + 4], wte[1 * C + 4]);
}

TEST(Kernels, LayerNorm) {
  const int N = 6, C = 24;
  // A large common offset, as in a residual stream, to exercise the centring.
  const FVec x = randn(N * C, 4, 2.0, 5.0), wt = randn(C, 5, 0.3, 1.0), bs = randn(C, 6, 0.2);
  FVec out(N * C), mean(N), rstd(N);
  k::layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), wt.data(), bs.data(), N, C);
  EXPECT_LT(rel_err(out, ref_layernorm(to_d(x), to_d(wt), to_d(bs), N, C)), kFwdTol);
  const FVec w = randn(out.size(), 7);
  const Vec wd = to_d(w);
  FVec dx = prefilled(x.size()), dw = prefilled(C), db = prefilled(C);
  k::layernorm_backward(dx.data(), dw.data(), db.data(), w.data(), x.data(), wt.data(), mean.data(), rstd.data(), N, C);
  EXPECT_LT(rel_err(unfill(dx), numgrad([&](const Vec& v) { return dot(ref_layernorm(v, to_d(wt), to_d(bs), N, C), wd); },
                                        to_d(x))),
            kBwdTol);
  EXPECT_LT(rel_err(unfill(dw), numgrad([&](const Vec& v) { return dot(ref_layernorm(to_d(x), v, to_d(bs), N, C), wd); },
                                        to_d(wt))),
            kBwdTol);
  EXPECT_LT(rel_err(unfill(db), numgrad([&](const Vec& v) { return dot(ref_layernorm(to_d(x), to_d(wt), v, N, C), wd); },
                                        to_d(bs))),
            kBwdTol);
}

TEST(Kernels, Matmul) {
  const int N = 7, C = 13, OC = 9;  // odd sizes: no accidental reliance on multiples of 4/8/16
  const FVec x = randn(N * C, 8), wt = randn(OC * C, 9, 0.5), bs = randn(OC, 10);
  const Vec xd = to_d(x), wd = to_d(wt), bd = to_d(bs);
  FVec out(N * OC), naive(N * OC);
  k::matmul_forward(out.data(), x.data(), wt.data(), bs.data(), N, C, OC);
  EXPECT_LT(rel_err(out, ref_matmul(xd, wd, &bd, N, C, OC)), kFwdTol);
  k::matmul_forward_naive(naive.data(), x.data(), wt.data(), bs.data(), N, C, OC);
  EXPECT_LT(rel_err(naive, ref_matmul(xd, wd, &bd, N, C, OC)), kFwdTol);
  k::matmul_forward(out.data(), x.data(), wt.data(), nullptr, N, C, OC);
  EXPECT_LT(rel_err(out, ref_matmul(xd, wd, nullptr, N, C, OC)), kFwdTol);

  const FVec w = randn(out.size(), 11);
  const Vec dd = to_d(w);
  FVec dx = prefilled(x.size()), dw = prefilled(wt.size()), db = prefilled(OC);
  k::matmul_backward(dx.data(), dw.data(), db.data(), w.data(), x.data(), wt.data(), N, C, OC);
  EXPECT_LT(rel_err(unfill(dx), numgrad([&](const Vec& v) { return dot(ref_matmul(v, wd, &bd, N, C, OC), dd); }, xd)),
            kBwdTol);
  EXPECT_LT(rel_err(unfill(dw), numgrad([&](const Vec& v) { return dot(ref_matmul(xd, v, &bd, N, C, OC), dd); }, wd)),
            kBwdTol);
  EXPECT_LT(rel_err(unfill(db), numgrad([&](const Vec& v) { return dot(ref_matmul(xd, wd, &v, N, C, OC), dd); }, bd)),
            kBwdTol);
}

TEST(Kernels, CausalAttention) {
  const int B = 2, T = 6, C = 12, NH = 3;
  // Scale 1.5 makes the softmax far from uniform, so the masking and the Jacobian matter.
  const FVec qkv = randn(B * T * 3 * C, 12, 1.5);
  FVec out(B * T * C), att(B * NH * T * T);
  k::attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH);
  EXPECT_LT(rel_err(out, ref_attention(to_d(qkv), B, T, C, NH)), kFwdTol);
  for (int bh = 0; bh < B * NH; ++bh)
    for (int t = 0; t < T; ++t) {
      double s = 0;
      for (int u = 0; u < T; ++u) {
        const float a = att[(bh * T + t) * T + u];
        if (u > t) {
          EXPECT_EQ(a, 0.0f);  // no attention to the future
        }
        s += a;
      }
      EXPECT_NEAR(s, 1.0, 1e-6);
    }
  // Changing a future token must not change earlier outputs.
  FVec qkv2 = qkv, out2(out.size());
  for (int c = 0; c < 3 * C; ++c) qkv2[(0 * T + T - 1) * 3 * C + c] += 1.0f;
  k::attention_forward(out2.data(), att.data(), qkv2.data(), B, T, C, NH);
  for (int i = 0; i < (T - 1) * C; ++i) ASSERT_EQ(out[i], out2[i]) << i;
  k::attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH);

  const FVec w = randn(out.size(), 13);
  FVec dqkv = prefilled(qkv.size());
  k::attention_backward(dqkv.data(), w.data(), qkv.data(), att.data(), B, T, C, NH);
  EXPECT_LT(rel_err(unfill(dqkv), numgrad([&](const Vec& v) { return dot(ref_attention(v, B, T, C, NH), to_d(w)); },
                                          to_d(qkv))),
            kBwdTol);
}

TEST(Kernels, CausalAttentionAcrossTiles) {
  // T and the head size past the AVX-512 path's 8-row and 32-column tiles (T = 35, hs = 20 and
  // 40 columns of dV/dQ/dK rows per head pair), so partial tiles and causal trims are covered.
  const int B = 1, T = 35, C = 40, NH = 2;
  const FVec qkv = randn(B * T * 3 * C, 21, 1.2);
  FVec out(B * T * C), att(B * NH * T * T);
  k::attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH);
  EXPECT_LT(rel_err(out, ref_attention(to_d(qkv), B, T, C, NH)), kFwdTol);
  for (int bh = 0; bh < B * NH; ++bh)
    for (int t = 0; t < T; ++t)
      for (int u = t + 1; u < T; ++u) ASSERT_EQ(att[(bh * T + t) * T + u], 0.0f);
  const FVec w = randn(out.size(), 22);
  FVec dqkv = prefilled(qkv.size());
  k::attention_backward(dqkv.data(), w.data(), qkv.data(), att.data(), B, T, C, NH);
  EXPECT_LT(rel_err(unfill(dqkv), numgrad([&](const Vec& v) { return dot(ref_attention(v, B, T, C, NH), to_d(w)); },
                                          to_d(qkv))),
            kBwdTol);
}

TEST(Kernels, Gelu) {
  const FVec x = randn(300, 14, 2.5);  // covers both tails, where tanh saturates
  FVec out(x.size());
  k::gelu_forward(out.data(), x.data(), static_cast<long>(x.size()));
  Vec ref(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) ref[i] = ref_gelu(x[i]);
  EXPECT_LT(rel_err(out, ref), kFwdTol);
  const FVec w = randn(x.size(), 15);
  FVec dx = prefilled(x.size());
  k::gelu_backward(dx.data(), x.data(), w.data(), static_cast<long>(x.size()));
  auto f = [&](const Vec& v) {
    double s = 0;
    for (std::size_t i = 0; i < v.size(); ++i) s += w[i] * ref_gelu(v[i]);
    return s;
  };
  EXPECT_LT(rel_err(unfill(dx), numgrad(f, to_d(x))), kBwdTol);
}

TEST(Kernels, SoftmaxCrossEntropy) {
  const int N = 5, V = 11;
  const FVec z = randn(N * V, 16, 3.0);
  const std::vector<std::int32_t> tgt = {0, 10, 4, 4, 7};
  FVec probs(z.size()), losses(N);
  k::softmax_crossentropy_forward(probs.data(), losses.data(), z.data(), tgt.data(), N, V);
  auto ce = [&](const Vec& v, int n) {
    double mx = -1e300, s = 0;
    for (int i = 0; i < V; ++i) mx = std::max(mx, v[n * V + i]);
    for (int i = 0; i < V; ++i) s += std::exp(v[n * V + i] - mx);
    return std::log(s) + mx - v[n * V + tgt[n]];
  };
  Vec ref_loss(N), ref_p(z.size());
  for (int n = 0; n < N; ++n) {
    ref_loss[n] = ce(to_d(z), n);
    for (int i = 0; i < V; ++i) {
      Vec zz = to_d(z);
      double mx = -1e300, s = 0;
      for (int j = 0; j < V; ++j) mx = std::max(mx, zz[n * V + j]);
      for (int j = 0; j < V; ++j) s += std::exp(zz[n * V + j] - mx);
      ref_p[n * V + i] = std::exp(zz[n * V + i] - mx) / s;
    }
  }
  EXPECT_LT(rel_err(losses, ref_loss), kFwdTol);
  EXPECT_LT(rel_err(probs, ref_p), kFwdTol);
  // In place (probs aliasing logits), as the model uses it.
  FVec inplace = z, losses2(N);
  k::softmax_crossentropy_forward(inplace.data(), losses2.data(), inplace.data(), tgt.data(), N, V);
  EXPECT_EQ(inplace, probs);
  EXPECT_EQ(losses2, losses);

  const float dloss = 1.0f / N;  // mean loss
  FVec dz = prefilled(z.size());
  k::softmax_crossentropy_backward(dz.data(), probs.data(), tgt.data(), dloss, N, V);
  auto mean_ce = [&](const Vec& v) {
    double s = 0;
    for (int n = 0; n < N; ++n) s += ce(v, n);
    return s / N;
  };
  EXPECT_LT(rel_err(unfill(dz), numgrad(mean_ce, to_d(z))), kBwdTol);
}

TEST(Kernels, Rope) {
  const int B = 2, T = 7, C = 16, NH = 2;
  const FVec qkv = randn(B * T * 3 * C, 17);
  FVec rot = qkv;
  k::rope_forward(rot.data(), B, T, C, NH);
  const Vec ref = ref_rope(to_d(qkv), B, T, C, NH);
  EXPECT_LT(rel_err(rot, ref), kFwdTol);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int c = 0; c < 3 * C; ++c) {
        const std::size_t i = (static_cast<std::size_t>(b) * T + t) * 3 * C + c;
        if (t == 0 || c >= 2 * C) {
          EXPECT_EQ(rot[i], qkv[i]);  // position 0 and v are untouched
        }
      }
  // Relative-position property: q_t·k_u after rotation depends only on t-u.
  FVec same(B * T * 3 * C);
  for (int t = 0; t < T; ++t)
    for (int c = 0; c < 3 * C; ++c) same[t * 3 * C + c] = qkv[c];  // one vector at every position
  k::rope_forward(same.data(), 1, T, C, NH);
  auto qk = [&](int t, int u) {
    double s = 0;
    for (int i = 0; i < C / NH; ++i) s += double(same[t * 3 * C + i]) * same[u * 3 * C + C + i];
    return s;
  };
  EXPECT_NEAR(qk(3, 1), qk(6, 4), 1e-5);
  EXPECT_NEAR(qk(2, 2), qk(5, 5), 1e-5);

  const FVec w = randn(qkv.size(), 18);
  FVec d = w;
  k::rope_backward(d.data(), B, T, C, NH);
  EXPECT_LT(rel_err(d, numgrad([&](const Vec& v) { return dot(ref_rope(v, B, T, C, NH), to_d(w)); }, to_d(qkv))),
            kBwdTol);
}

TEST(Kernels, Residual) {
  const FVec a = randn(50, 19), b = randn(50, 20);
  FVec out(50);
  k::residual_forward(out.data(), a.data(), b.data(), 50);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(out[i], a[i] + b[i]);
}

TEST(Kernels, ReductionsDoNotDependOnThreadCount) {
  // The kernels with cross-row sums (parameter gradients, scatter-adds, attention's dk/dv) and
  // the blocked sgemm calls are written so each sum runs in a fixed order whatever the thread
  // count; check 1 vs 2 vs 3. N > 128 rows so the matmul spans several row blocks.
  const int B = 3, T = 60, C = 40, NH = 4, V = 6, N = B * T;
  std::vector<std::int32_t> tok(N);
  for (int i = 0; i < N; ++i) tok[i] = (i * 7) % V;
  const FVec x = randn(N * C, 22), wt = randn(C, 23, 0.1, 1.0), dout = randn(N * C, 24), qkv = randn(N * 3 * C, 25);
  FVec mean(N), rstd(N), ln(N * C), att(B * NH * T * T), ao(N * C);
  k::layernorm_forward(ln.data(), mean.data(), rstd.data(), x.data(), wt.data(), wt.data(), N, C);
  k::attention_forward(ao.data(), att.data(), qkv.data(), B, T, C, NH);
  auto run = [&](int threads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    FVec dx(N * C, 0.f), dw(C, 0.f), db(C, 0.f), dwte(V * C, 0.f), dwpe(T * C, 0.f), dqkv(N * 3 * C, 0.f), dbias(C, 0.f);
    FVec mm(N * 3 * C), mdx(N * C, 0.f), mdw(3 * C * C, 0.f);
    k::matmul_forward(mm.data(), x.data(), qkv.data(), qkv.data(), N, C, 3 * C);  // any ≥3C·C floats as weight/bias
    k::matmul_backward(mdx.data(), mdw.data(), nullptr, qkv.data(), x.data(), qkv.data(), N, C, 3 * C);
    k::layernorm_backward(dx.data(), dw.data(), db.data(), dout.data(), x.data(), wt.data(), mean.data(), rstd.data(), N,
                          C);
    k::encoder_backward(dwte.data(), dwpe.data(), dout.data(), tok.data(), B, T, C);
    k::attention_backward(dqkv.data(), dout.data(), qkv.data(), att.data(), B, T, C, NH);
    k::matmul_backward(nullptr, nullptr, dbias.data(), dout.data(), x.data(), wt.data(), N, C, C);
    omp_set_num_threads(saved);
    return std::vector<FVec>{dx, dw, db, dwte, dwpe, dqkv, dbias, mm, mdx, mdw};
  };
  const char* names[] = {"ln dx", "ln dw", "ln db", "dwte", "dwpe", "attn dqkv", "dbias", "mm out", "mm dinp", "mm dweight"};
  const auto one = run(1);
  for (int threads : {2, 3}) {
    const auto other = run(threads);
    for (std::size_t v = 0; v < one.size(); ++v) {
      std::size_t diff = 0;
      for (std::size_t i = 0; i < one[v].size(); ++i) diff += one[v][i] != other[v][i];
      EXPECT_EQ(diff, 0u) << names[v] << " differs in " << diff << " of " << one[v].size() << " entries with "
                          << threads << " threads";
    }
  }
}

TEST(Kernels, OverwriteModeEqualsAccumulatingIntoZeros) {
  // The model's backward lets the first kernel writing an activation gradient overwrite it
  // (accumulate = false) instead of zero-filling and accumulating. That must give bit-for-bit
  // what accumulating into zeros gives, and must not read the old contents: the buffer starts
  // as NaN. Shapes are odd and span several GEMM tiles / attention tiles. Parameter gradients
  // must still accumulate in overwrite mode.
  const int B = 2, T = 37, C = 24, NH = 3, V = 11, N = B * T, OC = 3 * C;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto no_nan = [](const FVec& v) {
    for (float x : v)
      if (std::isnan(x)) return false;
    return true;
  };
  const FVec x = randn(N * C, 31), wt = randn(OC * C, 32, 0.3), dout3 = randn(N * OC, 33), dout = randn(N * C, 34);
  {  // matmul: dinp overwritten, dweight/dbias accumulated in both modes
    FVec dx0(N * C, 0.f), dw0(OC * C, 1.f), db0(OC, 1.f);
    k::matmul_backward(dx0.data(), dw0.data(), db0.data(), dout3.data(), x.data(), wt.data(), N, C, OC);
    FVec dx1(N * C, nan), dw1(OC * C, 1.f), db1(OC, 1.f);
    k::matmul_backward(dx1.data(), dw1.data(), db1.data(), dout3.data(), x.data(), wt.data(), N, C, OC,
                       k::Precision::fp32, false);
    EXPECT_EQ(dx1, dx0);
    EXPECT_EQ(dw1, dw0);
    EXPECT_EQ(db1, db0);
  }
  {  // layernorm
    const FVec g = randn(C, 35, 0.3, 1.0);
    FVec ln(N * C), mean(N), rstd(N);
    k::layernorm_forward(ln.data(), mean.data(), rstd.data(), x.data(), g.data(), g.data(), N, C);
    FVec dx0(N * C, 0.f), dw0(C, 2.f), db0(C, 2.f), dx1(N * C, nan), dw1(C, 2.f), db1(C, 2.f);
    k::layernorm_backward(dx0.data(), dw0.data(), db0.data(), dout.data(), x.data(), g.data(), mean.data(), rstd.data(),
                          N, C);
    k::layernorm_backward(dx1.data(), dw1.data(), db1.data(), dout.data(), x.data(), g.data(), mean.data(), rstd.data(),
                          N, C, false);
    EXPECT_EQ(dx1, dx0);
    EXPECT_EQ(dw1, dw0);
    EXPECT_EQ(db1, db0);
  }
  {  // gelu, also in place (dinp == dout) as the model calls it
    FVec d0(N * OC, 0.f), d1(N * OC, nan), d2 = dout3;
    k::gelu_backward(d0.data(), dout3.data(), dout3.data(), N * OC);
    k::gelu_backward(d1.data(), dout3.data(), dout3.data(), N * OC, false);
    k::gelu_backward(d2.data(), dout3.data(), d2.data(), N * OC, false);
    EXPECT_EQ(d1, d0);
    EXPECT_EQ(d2, d0);
  }
  {  // attention
    const FVec qkv = randn(N * 3 * C, 36);
    FVec out(N * C), att(B * NH * T * T);
    k::attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH);
    FVec d0(N * 3 * C, 0.f), d1(N * 3 * C, nan);
    k::attention_backward(d0.data(), dout.data(), qkv.data(), att.data(), B, T, C, NH);
    k::attention_backward(d1.data(), dout.data(), qkv.data(), att.data(), B, T, C, NH, false);
    EXPECT_TRUE(no_nan(d1));
    EXPECT_EQ(d1, d0);
  }
  {  // softmax + cross-entropy
    const FVec z = randn(N * V, 37);
    std::vector<std::int32_t> tgt(N);
    for (int i = 0; i < N; ++i) tgt[i] = (i * 5) % V;
    FVec probs(N * V), losses(N), d0(N * V, 0.f), d1(N * V, nan);
    k::softmax_crossentropy_forward(probs.data(), losses.data(), z.data(), tgt.data(), N, V);
    k::softmax_crossentropy_backward(d0.data(), probs.data(), tgt.data(), 1.0f / N, N, V);
    k::softmax_crossentropy_backward(d1.data(), probs.data(), tgt.data(), 1.0f / N, N, V, false);
    EXPECT_EQ(d1, d0);
  }
}

TEST(Kernels, ParameterGradientSumsSpanRowBlocks) {
  // LayerNorm's dweight/dbias and the matmul dbias sum over rows in fixed row blocks (32 / 64
  // rows) plus an ordered sum of the block partials; N = 150 gives full and partial blocks.
  // Reference: the closed-form sums in double, on top of a non-zero starting value.
  const int N = 150, C = 20;
  const FVec x = randn(N * C, 41, 1.5, 2.0), g = randn(C, 42, 0.3, 1.0), dout = randn(N * C, 43);
  FVec ln(N * C), mean(N), rstd(N);
  k::layernorm_forward(ln.data(), mean.data(), rstd.data(), x.data(), g.data(), g.data(), N, C);
  FVec dx(N * C, 0.f), dw(C, 0.5f), db(C, 0.5f), dbias(C, 0.25f);
  k::layernorm_backward(dx.data(), dw.data(), db.data(), dout.data(), x.data(), g.data(), mean.data(), rstd.data(), N,
                        C);
  k::matmul_backward(nullptr, nullptr, dbias.data(), dout.data(), x.data(), g.data(), N, C, C);
  Vec rw(C, 0.5), rb(C, 0.5), rbias(C, 0.25);
  for (int n = 0; n < N; ++n) {
    double m = 0, v = 0;
    for (int c = 0; c < C; ++c) m += x[n * C + c];
    m /= C;
    for (int c = 0; c < C; ++c) v += (x[n * C + c] - m) * (x[n * C + c] - m);
    const double s = 1.0 / std::sqrt(v / C + k::kLayerNormEps);
    for (int c = 0; c < C; ++c) {
      rw[c] += dout[n * C + c] * (x[n * C + c] - m) * s;
      rb[c] += dout[n * C + c];
      rbias[c] += dout[n * C + c];
    }
  }
  EXPECT_LT(rel_err(dw, rw), 1e-5);
  EXPECT_LT(rel_err(db, rb), 1e-5);
  EXPECT_LT(rel_err(dbias, rbias), 1e-5);
}
