// Incremental decoding (model/decoder.h, model/generate.h) against full recomputation with
// Gpt::forward, the independent reference: same model, same tokens, every position recomputed
// from scratch.
//
// Stated tolerance: log-probabilities of the cached path (log-softmax of Decoder logits, in
// double) agree with log(Gpt::forward probs) to kLogProbTol = 1e-4 absolute at every position
// and every vocabulary entry with reference probability >= 1e-20 (below that the reference's
// float softmax loses precision; those entries are only required to stay below log(1e-15)).
// Measured maxima are printed by the tests (a few 1e-6 for these random configs, fp32).
// Greedy and sampled tokens are then required to be equal bit for bit, where the reference's
// own margin (top-2 gap, or the distance of u to a CDF boundary) is well above that tolerance:
// the tests check that precondition instead of assuming it.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gpt_test_util.h"
#include "scalinglab/kernels/cpu/crossentropy.h"
#include "scalinglab/kernels/cpu/gemm.h"
#include "scalinglab/kernels/cpu/matmul.h"
#include "scalinglab/model/decoder.h"
#include "scalinglab/model/generate.h"
#include "scalinglab/model/rng.h"
#include "scalinglab/model/train_hooks.h"
#include "scalinglab/train/adamw.h"

using namespace scalinglab;
using model::Decoder;
using model::Gpt;
using model::GptConfig;
using model::SampleOptions;

namespace {

constexpr double kLogProbTol = 1e-4;

std::vector<double> log_softmax(std::span<const float> z) {
  double mx = -INFINITY;
  for (float v : z) mx = std::max(mx, static_cast<double>(v));
  double s = 0;
  for (float v : z) s += std::exp(static_cast<double>(v) - mx);
  std::vector<double> out(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) out[i] = static_cast<double>(z[i]) - mx - std::log(s);
  return out;
}

// Reference log-probabilities of every position of seq, by one full forward (causal, so row t
// depends on tokens 0..t only).
std::vector<std::vector<double>> reference_log_probs(Gpt& m, const std::vector<std::int32_t>& seq) {
  const int T = static_cast<int>(seq.size()), V = m.config().vocab;
  m.forward(seq.data(), nullptr, 1, T);
  std::vector<std::vector<double>> out(T, std::vector<double>(V));
  for (int t = 0; t < T; ++t)
    for (int v = 0; v < V; ++v) out[t][v] = std::log(static_cast<double>(m.probs()[static_cast<std::size_t>(t) * V + v]));
  return out;
}

// Max |difference| over the entries the tolerance covers; fails the test on a covered-entry
// violation of the "tiny stays tiny" rule.
double logprob_diff(const std::vector<double>& ref, std::span<const float> logits, bool check_tiny = true) {
  const std::vector<double> got = log_softmax(logits);
  double worst = 0;
  for (std::size_t v = 0; v < ref.size(); ++v) {
    if (ref[v] >= std::log(1e-20)) {
      worst = std::max(worst, std::abs(got[v] - ref[v]));
    } else if (check_tiny) {
      EXPECT_LT(got[v], std::log(1e-15)) << "entry " << v;
    }
  }
  return worst;
}

struct Case {
  GptConfig cfg;
  std::uint64_t seed;
};

// Random small configs: learned positions and RoPE, 1-3 layers, 1-4 heads, odd vocab sizes.
std::vector<Case> random_cases(int n, std::uint64_t seed) {
  model::SplitMix64 g(seed);
  auto pick = [&](std::initializer_list<int> xs) { return *(xs.begin() + g.next_u64() % xs.size()); };
  std::vector<Case> cases;
  for (int i = 0; i < n; ++i) {
    GptConfig c;
    c.vocab = pick({7, 23, 61});
    c.ctx = pick({5, 12, 20});
    c.n_head = pick({1, 2, 4});
    c.d_model = c.n_head * pick({4, 8, 12});
    c.n_layer = pick({1, 2, 3});
    c.rope = i % 2 == 1;
    cases.push_back({c, g.next_u64()});
  }
  return cases;
}

// Min over generated positions of the reference's top-2 log-prob gap (how clear each greedy
// argmax is), along the sequence prompt + generated.
double greedy_margin(Gpt& m, const std::vector<std::int32_t>& prompt, const std::vector<std::int32_t>& gen) {
  std::vector<std::int32_t> seq = prompt;
  seq.insert(seq.end(), gen.begin(), gen.end());
  if (seq.size() > static_cast<std::size_t>(m.config().ctx)) seq.pop_back();  // the last token is never fed
  const auto lp = reference_log_probs(m, seq);
  double margin = INFINITY;
  for (std::size_t i = 0; i < gen.size(); ++i) {
    std::vector<double> row = lp[prompt.size() - 1 + i];
    std::sort(row.rbegin(), row.rend());
    margin = std::min(margin, row[0] - row[1]);
  }
  return margin;
}

// For temperature sampling: min over generated positions of the distance of the draw u to the
// nearest boundary of the reference's tempered CDF (in probability units). pick_token returns
// the first token whose CDF reaches u, so a perturbation of the CDF smaller than this distance
// cannot change the token.
double sample_margin(Gpt& m, const std::vector<std::int32_t>& prompt, const std::vector<std::int32_t>& gen,
                     double temperature, std::uint64_t seed) {
  std::vector<std::int32_t> seq = prompt;
  seq.insert(seq.end(), gen.begin(), gen.end());
  if (seq.size() > static_cast<std::size_t>(m.config().ctx)) seq.pop_back();
  const auto lp = reference_log_probs(m, seq);
  model::SplitMix64 rng(seed);
  double margin = INFINITY;
  for (std::size_t i = 0; i < gen.size(); ++i) {
    const std::vector<double>& row = lp[prompt.size() - 1 + i];
    const double u = rng.uniform();
    const double mx = *std::max_element(row.begin(), row.end());
    double z = 0;
    for (double l : row) z += std::exp((l - mx) / temperature);
    double acc = 0;
    for (double l : row) {
      acc += std::exp((l - mx) / temperature) / z;
      margin = std::min(margin, std::abs(acc - u));
    }
  }
  return margin;
}

}  // namespace

TEST(Decoder, LogitsMatchFullRecomputationAtEveryPosition) {
  double worst_step = 0, worst_prefill = 0;
  for (const Case& k : random_cases(8, 11)) {
    SCOPED_TRACE(k.cfg.to_string());
    Gpt m(k.cfg, k.seed);
    model::testing::randomize(m, k.seed + 1);
    const auto seq = model::testing::random_ids(k.cfg.ctx, k.cfg.vocab, k.seed + 2);
    const auto ref = reference_log_probs(m, seq);
    const int T = k.cfg.ctx;
    // Every prompt length 1..ctx: prefill it, then step through the rest of the sequence.
    Decoder d(m);
    for (int n = 1; n <= T; ++n) {
      const auto z = d.prefill(std::span(seq).first(n));
      EXPECT_EQ(d.position(), n);
      worst_prefill = std::max(worst_prefill, logprob_diff(ref[n - 1], z));
      for (int t = n; t < T; ++t) worst_step = std::max(worst_step, logprob_diff(ref[t], d.step(seq[t])));
      EXPECT_EQ(d.remaining(), 0);
    }
    // Step-only from an empty decoder (position 0) is the same sequence.
    Decoder e(m);
    for (int t = 0; t < T; ++t) worst_step = std::max(worst_step, logprob_diff(ref[t], e.step(seq[t])));
  }
  std::printf("max |log p| difference: prefill %.3g, step %.3g (tolerance %.0e)\n", worst_prefill, worst_step,
              kLogProbTol);
  EXPECT_LE(worst_prefill, kLogProbTol);
  EXPECT_LE(worst_step, kLogProbTol);
  EXPECT_GT(worst_step, 0.0) << "the step path should not be bit-identical (other summation order): is it used?";
}

// prefill() runs Gpt::forward's kernels on the same rows; with the own GEMM (a row's arithmetic
// independent of the row count) its softmax is the reference's probabilities exactly.
TEST(Decoder, PrefillIsBitIdenticalToForwardOnTheOwnGemm) {
  if (std::string(kernels::cpu::matmul_backend()) != "avx512") GTEST_SKIP() << "OpenBLAS backend: rounding only";
  for (const Case& k : random_cases(6, 12)) {
    SCOPED_TRACE(k.cfg.to_string());
    Gpt m(k.cfg, k.seed);
    model::testing::randomize(m, k.seed + 1);
    const auto seq = model::testing::random_ids(k.cfg.ctx, k.cfg.vocab, k.seed + 2);
    const int V = k.cfg.vocab;
    Decoder d(m);
    for (int n = 1; n <= k.cfg.ctx; ++n) {
      m.forward(seq.data(), nullptr, 1, n);
      const auto z = d.prefill(std::span(seq).first(n));
      std::vector<float> p(V);
      kernels::cpu::softmax_crossentropy_forward(p.data(), nullptr, z.data(), nullptr, 1, V);
      const auto want = m.probs().subspan(static_cast<std::size_t>(n - 1) * V, V);
      ASSERT_EQ(p, std::vector<float>(want.begin(), want.end())) << "prompt length " << n;
    }
  }
}

TEST(Generate, GreedyEqualsReferenceOnRandomWeights) {
  int compared = 0;
  for (const Case& k : random_cases(8, 13)) {
    SCOPED_TRACE(k.cfg.to_string());
    Gpt m(k.cfg, k.seed);
    model::testing::randomize(m, k.seed + 1);  // large random weights: peaked, clear argmaxes
    for (int plen : {1, k.cfg.ctx / 2, k.cfg.ctx - 1}) {
      if (plen < 1) continue;
      const auto prompt = model::testing::random_ids(plen, k.cfg.vocab, k.seed + plen);
      SampleOptions o;
      o.max_new_tokens = k.cfg.ctx - plen;  // fill the context
      const auto want = model::generate_reference(m, prompt, o);
      ASSERT_EQ(static_cast<int>(want.size()), o.max_new_tokens);
      ASSERT_GT(greedy_margin(m, prompt, want), 100 * kLogProbTol) << "near-tie: the comparison would be luck";
      EXPECT_EQ(model::generate(m, prompt, o), want) << "prompt length " << plen;
      ++compared;
    }
  }
  EXPECT_GE(compared, 20);
}

// A model trained for a few AdamW steps on a repeating string: its greedy continuation is the
// pattern (a clear argmax from real training, not from weight scaling), and both paths give it.
TEST(Generate, GreedyEqualsReferenceOnATrainedModel) {
  for (bool rope : {false, true}) {
    SCOPED_TRACE(rope ? "rope" : "learned positions");
    const GptConfig c{16, 24, 32, 2, 2, rope};
    Gpt m(c, 5);
    const std::vector<std::int32_t> pattern = {3, 1, 4, 1, 5, 9, 2, 6};  // period 8: needs the context
    const int B = 8, T = c.ctx;  // every phase of the pattern at position 0
    std::vector<std::int32_t> in(B * T), tgt(B * T);
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < T; ++t) {
        in[b * T + t] = pattern[(b + t) % 8];
        tgt[b * T + t] = pattern[(b + t + 1) % 8];
      }
    train::AdamW opt(model::param_table(m), m.params().size());
    float loss = 0;
    // One thread for the tiny training loop: a parallel region per kernel costs more than the
    // kernel at this size, and far more when the shared box preempts the second thread (results
    // do not depend on the thread count).
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    for (int step = 0; step < 80; ++step) {
      m.zero_grad();
      loss = m.forward(in.data(), tgt.data(), B, T);
      m.backward();
      opt.step(m.params().data(), m.grads().data(), 1e-2);
    }
    omp_set_num_threads(threads);
    // Not 0: a row's first position cannot tell the phase after the ambiguous token 1.
    std::printf("trained %s: loss %.4f\n", rope ? "rope" : "wpe", loss);
    EXPECT_LT(loss, 0.2f) << "training did not learn the pattern";
    const std::vector<std::int32_t> prompt = {5, 9, 2, 6, 3, 1};
    SampleOptions o;
    o.max_new_tokens = 16;
    const auto want = model::generate_reference(m, prompt, o);
    std::vector<std::int32_t> pattern_next;
    for (int i = 0; i < 16; ++i) pattern_next.push_back(pattern[(2 + i) % 8]);  // prompt = phases 4..9
    EXPECT_EQ(want, pattern_next) << "the reference should continue the learned pattern";
    EXPECT_EQ(model::generate(m, prompt, o), want);
  }
}

// pick_token's inverse CDF on a hand-computed table.
TEST(Generate, PickTokenInvertsTheTemperedCdf) {
  const std::vector<float> z = {std::log(0.1f), std::log(0.2f), std::log(0.7f)};
  EXPECT_EQ(model::pick_token(z, 0, 1.0), 2);
  EXPECT_EQ(model::pick_token(z, 1, 0.05), 0);   // cdf 0.1, 0.3, 1
  EXPECT_EQ(model::pick_token(z, 1, 0.25), 1);
  EXPECT_EQ(model::pick_token(z, 1, 0.31), 2);
  EXPECT_EQ(model::pick_token(z, 1, 1.0), 2);
  EXPECT_EQ(model::pick_token(z, 0.5, 0.05), 1);  // T = 0.5 squares: 1, 4, 49 over 54: cdf .0185, .0926, 1
  EXPECT_EQ(model::pick_token(z, 0.5, 0.018), 0);
  const std::vector<float> tie = {1.0f, 3.0f, 3.0f};
  EXPECT_EQ(model::pick_token(tie, 0, 1.0), 1);  // lowest id on ties
}

TEST(Generate, TemperatureSamplingEqualsReferenceForTheSameSeed) {
  // Compared where the draw is clear of the reference CDF's boundaries: a log-prob error <= eps
  // moves each tempered probability by a factor <= exp(2·eps/T), hence the CDF by < 2·eps/T; the
  // margin asked is twice that bound at the stated tolerance.
  int compared = 0, skipped = 0, differs_from_greedy = 0;
  for (const Case& k : random_cases(6, 14)) {
    SCOPED_TRACE(k.cfg.to_string());
    Gpt m(k.cfg, k.seed);
    model::testing::randomize(m, k.seed + 1);
    const auto prompt = model::testing::random_ids(2, k.cfg.vocab, k.seed + 3);
    SampleOptions greedy;
    greedy.max_new_tokens = k.cfg.ctx - 2;
    const auto g = model::generate_reference(m, prompt, greedy);
    for (double temp : {0.7, 1.0, 2.5}) {
      for (std::uint64_t seed : {1ull, 2ull, 77ull}) {
        SampleOptions o = greedy;
        o.temperature = temp;
        o.seed = seed;
        const auto want = model::generate_reference(m, prompt, o);
        if (sample_margin(m, prompt, want, temp, seed) <= 4 * kLogProbTol / temp) {
          ++skipped;
          continue;
        }
        EXPECT_EQ(model::generate(m, prompt, o), want) << "T=" << temp << " seed=" << seed;
        differs_from_greedy += want != g;
        ++compared;
      }
    }
  }
  std::printf("%d sampled runs compared, %d skipped (a draw within 4e-4/T of a CDF boundary)\n", compared, skipped);
  EXPECT_GE(compared, 40);
  EXPECT_GT(differs_from_greedy, compared / 2) << "temperature seems to have no effect";
}

TEST(Generate, SeedsGiveDifferentSamplesAndTheSameSeedTheSame) {
  const GptConfig c{23, 16, 16, 2, 2, false};
  Gpt m(c, 3);
  model::testing::randomize(m, 4);
  const std::vector<std::int32_t> prompt = {1, 2};
  SampleOptions o;
  o.max_new_tokens = 12;
  o.temperature = 1.5;
  o.seed = 10;
  const auto a = model::generate(m, prompt, o);
  EXPECT_EQ(model::generate(m, prompt, o), a);
  o.seed = 11;
  EXPECT_NE(model::generate(m, prompt, o), a);
}

TEST(Decoder, ForkAfterPrefillEqualsAFreshPrefill) {
  const GptConfig c{37, 20, 24, 2, 3, true};
  Gpt m(c, 8);
  model::testing::randomize(m, 9);
  const auto prompt = model::testing::random_ids(7, c.vocab, 10);
  const auto cont = model::testing::random_ids(c.ctx - 7, c.vocab, 11);
  Decoder base(m);
  base.prefill(prompt);
  const std::vector<float> base_logits(base.logits().begin(), base.logits().end());

  Decoder fresh(m);
  std::vector<std::vector<float>> want;
  fresh.prefill(prompt);
  for (std::int32_t t : cont) {
    const auto z = fresh.step(t);
    want.emplace_back(z.begin(), z.end());
  }
  // A worker that already holds a longer, different sequence is overwritten by assignment.
  Decoder work(m);
  work.prefill(model::testing::random_ids(c.ctx, c.vocab, 12));
  for (int rep = 0; rep < 3; ++rep) {
    if (rep < 2) work = base;
    else work = base.fork();
    ASSERT_EQ(work.position(), 7);
    EXPECT_EQ(std::vector<float>(work.logits().begin(), work.logits().end()), base_logits);
    for (std::size_t i = 0; i < cont.size(); ++i) {
      const auto z = work.step(cont[i]);
      ASSERT_EQ(std::vector<float>(z.begin(), z.end()), want[i]) << "rep " << rep << " step " << i;
    }
  }
  // base is untouched by its forks.
  EXPECT_EQ(base.position(), 7);
  EXPECT_EQ(std::vector<float>(base.logits().begin(), base.logits().end()), base_logits);

  // generate() from a prefilled copy equals generate() from the prompt, sample by sample.
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    SampleOptions o;
    o.temperature = 1.0;
    o.seed = seed;
    o.max_new_tokens = 9;
    Decoder w = base;
    EXPECT_EQ(model::generate(w, o), model::generate(m, prompt, o)) << "seed " << seed;
    EXPECT_EQ(w.position(), 7 + 8);  // the last token is not fed back
  }
  // Copying across models of different shapes reallocates.
  Gpt other(GptConfig{11, 6, 8, 1, 2, false}, 1);
  Decoder x(other);
  x = base;
  EXPECT_EQ(&x.model(), &m);
  EXPECT_EQ(x.step(cont[0]).size(), static_cast<std::size_t>(c.vocab));
}

TEST(Generate, StopTokenEndsTheOutputAndIsIncluded) {
  const GptConfig c{23, 24, 16, 2, 2, false};
  Gpt m(c, 21);
  model::testing::randomize(m, 22);
  const std::vector<std::int32_t> prompt = {4, 5, 6};
  SampleOptions o;
  o.max_new_tokens = 20;
  o.temperature = 1.0;
  o.seed = 3;
  const auto full = model::generate_reference(m, prompt, o);
  ASSERT_EQ(full.size(), 20u);
  ASSERT_EQ(model::generate(m, prompt, o), full);
  // Stop at the token emitted at position 5: the output is the prefix through its first occurrence.
  o.stop_token = full[5];
  const auto first = static_cast<std::size_t>(std::find(full.begin(), full.end(), full[5]) - full.begin());
  const std::vector<std::int32_t> want(full.begin(), full.begin() + static_cast<long>(first) + 1);
  EXPECT_EQ(model::generate_reference(m, prompt, o), want);
  EXPECT_EQ(model::generate(m, prompt, o), want);
  o.stop_token = c.vocab + 5;  // never emitted: no effect
  EXPECT_EQ(model::generate(m, prompt, o), full);
}

TEST(Generate, ConcurrentCallsOnOneModelMatchSerialOnes) {
  const GptConfig c{37, 32, 32, 2, 4, true};
  Gpt m(c, 31);
  model::testing::randomize(m, 32);
  const Gpt& cm = m;
  const std::vector<std::int32_t> prompt = {1, 2, 3, 4};
  constexpr int kThreads = 4;
  std::vector<std::vector<std::int32_t>> serial(kThreads), parallel(kThreads);
  auto opts = [&](int i) {
    SampleOptions o;
    o.temperature = 0.8;
    o.seed = 100 + i;
    o.max_new_tokens = 24;
    return o;
  };
  for (int i = 0; i < kThreads; ++i) serial[i] = model::generate(cm, prompt, opts(i));
  std::vector<std::thread> ts;
  for (int i = 0; i < kThreads; ++i)
    ts.emplace_back([&, i] {
      for (int rep = 0; rep < 5; ++rep) parallel[i] = model::generate(cm, prompt, opts(i));
    });
  for (auto& t : ts) t.join();
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(parallel[i], serial[i]) << "thread " << i;
}

TEST(Generate, Bf16MatchesTheBf16Reference) {
  if (!kernels::cpu::cpu_has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 here";
  double worst = 0;
  int compared = 0;
  for (const Case& k : random_cases(4, 15)) {
    SCOPED_TRACE(k.cfg.to_string());
    Gpt m(k.cfg, k.seed);
    model::testing::randomize(m, k.seed + 1);
    m.set_precision(kernels::cpu::Precision::bf16);
    const auto seq = model::testing::random_ids(k.cfg.ctx, k.cfg.vocab, k.seed + 2);
    const auto ref = reference_log_probs(m, seq);
    Decoder d(m);
    d.prefill(std::span(seq).first(1));
    for (int t = 1; t < k.cfg.ctx; ++t) worst = std::max(worst, logprob_diff(ref[t], d.step(seq[t])));
    // Against the fp32 model the bf16 decoder is off by far more: it does use bf16.
    Gpt f(k.cfg, k.seed);
    model::testing::randomize(f, k.seed + 1);
    const auto ref32 = reference_log_probs(f, seq);
    Decoder again(m);
    double off32 = 0;
    for (int t = 0; t < k.cfg.ctx; ++t) off32 = std::max(off32, logprob_diff(ref32[t], again.step(seq[t]), false));
    EXPECT_GT(off32, 1e-3);
    SampleOptions o;
    o.max_new_tokens = k.cfg.ctx - 1;
    const std::vector<std::int32_t> prompt = {seq[0]};
    const auto want = model::generate_reference(m, prompt, o);
    if (greedy_margin(m, prompt, want) > 1e-2) {  // 10x the bf16 tolerance below
      EXPECT_EQ(model::generate(m, prompt, o), want);
      ++compared;
    }
  }
  // A last-bit difference in an activation can flip its bf16 rounding (a 2^-8 relative step in
  // one input), so the bf16 tolerance is looser: 1e-3 in log-probability.
  std::printf("bf16: max |log p| difference %.3g (tolerance 1e-3), %d greedy runs compared\n", worst, compared);
  EXPECT_LE(worst, 1e-3);
  EXPECT_GE(compared, 2);
}

TEST(Generate, ValidationNamesTheField) {
  const GptConfig c{11, 8, 8, 1, 2, false};
  Gpt m(c, 1);
  auto expect_error = [&](std::vector<std::int32_t> prompt, SampleOptions o, const std::string& field) {
    for (int path = 0; path < 2; ++path) {
      try {
        if (path == 0) model::generate(m, prompt, o);
        else model::generate_reference(m, prompt, o);
        ADD_FAILURE() << "no error for " << field;
      } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()).rfind(field + ":", 0), 0u) << e.what();
      }
    }
  };
  SampleOptions o;
  o.max_new_tokens = 3;
  expect_error({}, o, "prompt");
  expect_error({1, 11}, o, "prompt");
  expect_error({-1}, o, "prompt");
  SampleOptions bad = o;
  bad.max_new_tokens = -1;
  expect_error({1}, bad, "max_new_tokens");
  bad = o;
  bad.temperature = -0.5;
  expect_error({1}, bad, "temperature");
  bad.temperature = NAN;
  expect_error({1}, bad, "temperature");
  bad.temperature = INFINITY;
  expect_error({1}, bad, "temperature");
  // ctx overflow: prompt + max_new_tokens > ctx is refused, == ctx is fine.
  bad = o;
  bad.max_new_tokens = 4;
  expect_error({1, 2, 3, 4, 5}, bad, "max_new_tokens");
  bad.max_new_tokens = 3;
  EXPECT_EQ(model::generate(m, std::vector<std::int32_t>{1, 2, 3, 4, 5}, bad).size(), 3u);
  bad.max_new_tokens = 0;
  EXPECT_TRUE(model::generate(m, std::vector<std::int32_t>(8, 1), bad).empty());
  bad.max_new_tokens = 1;
  expect_error(std::vector<std::int32_t>(8, 1), bad, "max_new_tokens");

  // The decoder's own refusals.
  Decoder d(m);
  EXPECT_THROW(model::generate(d, o), std::invalid_argument);  // not prefilled
  EXPECT_THROW(d.prefill(std::vector<std::int32_t>(9, 1)), std::invalid_argument);
  EXPECT_THROW(d.step(11), std::invalid_argument);
  EXPECT_EQ(d.position(), 0);
  d.prefill(std::vector<std::int32_t>(8, 1));
  EXPECT_THROW(d.step(1), std::length_error);
  EXPECT_EQ(d.position(), 8);
  Decoder e(m);
  e.prefill(std::vector<std::int32_t>{1, 2, 3, 4, 5, 6});
  o.max_new_tokens = 3;
  try {
    model::generate(e, o);
    ADD_FAILURE() << "ctx overflow from a decoder accepted";
  } catch (const std::invalid_argument& ex) {
    EXPECT_EQ(std::string(ex.what()).rfind("max_new_tokens:", 0), 0u) << ex.what();
  }
}
