#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "scalinglab/train/adamw.h"
#include "scalinglab/train/schedule.h"

namespace fs = std::filesystem;
using namespace scalinglab::train;

namespace {
std::vector<ParamTensor> three_tensors() {
  // A 6x5 weight, a 5-bias and a 4x3 weight: decay, no decay, decay.
  return {{"w1", 0, 30, true}, {"b1", 30, 5, false}, {"w2", 35, 12, true}};
}
}  // namespace

TEST(AdamW, ConstantGradientHasAClosedForm) {
  // With a constant gradient g the bias-corrected moments are exactly g and g^2 at every step,
  // so each update is p <- p (1 - lr wd) - lr g / (|g| + eps) (decay only on matrices).
  std::vector<ParamTensor> table = {{"w", 0, 2, true}, {"b", 2, 2, false}};
  AdamWConfig cfg{0.9, 0.95, 1e-8, 0.1};
  AdamW opt(table, 4, cfg);
  std::vector<float> p = {1.0f, -2.0f, 0.5f, 3.0f};
  std::vector<float> g = {0.25f, -1e-3f, 4.0f, -0.125f};
  std::vector<double> expect(p.begin(), p.end());
  for (int step = 0; step < 5; ++step) {
    double lr = 1e-2 * (step + 1);
    opt.step(p.data(), g.data(), lr);
    for (int i = 0; i < 4; ++i) {
      double d = (i < 2) ? 1.0 - lr * cfg.weight_decay : 1.0;
      expect[i] = expect[i] * d - lr * g[i] / (std::fabs(g[i]) + cfg.eps);
    }
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(p[i], expect[i], 1e-6 * std::fabs(expect[i])) << "step " << step << " i " << i;
  }
  EXPECT_EQ(opt.step_count(), 5u);
  // m is g (1 - beta1^5): the un-corrected moment.
  EXPECT_NEAR(opt.m()[2], 4.0 * (1 - std::pow(0.9, 5)), 1e-6);
  EXPECT_NEAR(opt.v()[2], 16.0 * (1 - std::pow(0.95, 5)), 1e-5);
}

TEST(AdamW, ZeroGradientOnlyDecaysMatrices) {
  AdamW opt(three_tensors(), 47, AdamWConfig{0.9, 0.95, 1e-8, 0.5});
  std::vector<float> p(47, 2.0f), g(47, 0.0f);
  opt.step(p.data(), g.data(), 0.1);
  EXPECT_FLOAT_EQ(p[0], 2.0f * (1 - 0.05f));
  EXPECT_FLOAT_EQ(p[30], 2.0f);  // bias: untouched
  EXPECT_FLOAT_EQ(p[46], 2.0f * (1 - 0.05f));
}

TEST(AdamW, TableMustTileTheBufferExactly) {
  EXPECT_THROW(AdamW({{"a", 0, 5, true}, {"b", 6, 4, false}}, 10), std::invalid_argument);  // gap
  EXPECT_THROW(AdamW({{"a", 0, 5, true}, {"b", 4, 6, false}}, 10), std::invalid_argument);  // overlap
  EXPECT_THROW(AdamW({{"a", 0, 5, true}}, 10), std::invalid_argument);                      // uncovered tail
  EXPECT_THROW(AdamW({{"a", 0, 11, true}}, 10), std::invalid_argument);                     // past the end
  try {
    AdamW({{"a", 0, 5, true}, {"b", 6, 4, false}}, 10);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'b'"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(AdamW({{"b", 5, 5, false}, {"a", 0, 5, true}}, 10));  // any order
}

TEST(AdamW, RestoreContinuesExactlyLikeAnUninterruptedRun) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  std::vector<float> p(47), g(47);
  for (auto& x : p) x = nd(rng);
  auto p2 = p;
  AdamW a(three_tensors(), 47), b(three_tensors(), 47);
  std::vector<std::vector<float>> grads(6, std::vector<float>(47));
  for (auto& gr : grads)
    for (auto& x : gr) x = nd(rng);
  for (int s = 0; s < 3; ++s) {
    a.step(p.data(), grads[s].data(), 1e-2);
    b.step(p2.data(), grads[s].data(), 1e-2);
  }
  AdamW c(three_tensors(), 47);
  c.restore(b.step_count(), b.m(), b.v());
  for (int s = 3; s < 6; ++s) {
    a.step(p.data(), grads[s].data(), 1e-2);
    c.step(p2.data(), grads[s].data(), 1e-2);
  }
  EXPECT_EQ(p, p2);  // bit-identical
  EXPECT_THROW(c.restore(1, std::vector<float>(3), std::vector<float>(3)), std::invalid_argument);
}

TEST(GradClip, NormIsGlobalL2AndClipsLikeTorch) {
  std::vector<float> g = {3.0f, 4.0f, 0.0f, 12.0f};  // norm 13
  EXPECT_DOUBLE_EQ(grad_norm(g.data(), g.size()), 13.0);
  EXPECT_DOUBLE_EQ(clip_grad_norm(g.data(), g.size(), 20.0), 13.0);
  EXPECT_EQ(g[3], 12.0f);  // under the limit: untouched
  EXPECT_DOUBLE_EQ(clip_grad_norm(g.data(), g.size(), 1.0), 13.0);
  EXPECT_NEAR(grad_norm(g.data(), g.size()), 1.0, 1e-6);
  EXPECT_NEAR(g[0], 3.0 / (13.0 + 1e-6), 1e-7);
  std::vector<float> bad = {1.0f, NAN};
  EXPECT_TRUE(std::isnan(clip_grad_norm(bad.data(), 2, 1.0)));
  EXPECT_EQ(bad[0], 1.0f);
  // Large buffer spanning several summation blocks.
  std::vector<float> big(300000, 0.5f);
  EXPECT_NEAR(grad_norm(big.data(), big.size()), 0.5 * std::sqrt(300000.0), 1e-9);
}

TEST(AdamW, MatchesTorchOptimAdamWWithClippingAndDecayMask) {
  const std::string py = "/usr/bin/python3";
  const std::string script = std::string(SCALINGLAB_SOURCE_DIR) + "/tests/train/adamw_torch_reference.py";
  if (!fs::exists(py)) GTEST_SKIP() << "no /usr/bin/python3";
  auto table = three_tensors();
  const size_t n = 47;
  std::mt19937 rng(12345);
  std::normal_distribution<float> nd;
  std::vector<float> p(n);
  for (auto& x : p) x = nd(rng);
  ScheduleConfig sched;
  sched.peak_lr = 3e-2;
  sched.warmup_steps = 3;
  sched.total_steps = 10;
  AdamWConfig cfg{0.9, 0.95, 1e-8, 0.1};
  const double max_norm = 5.0;  // random N(0, s^2) grads of 47 values: norm ~ 7 s, so some steps clip

  nlohmann::json in;
  in["tensors"] = nlohmann::json::array();
  for (auto& t : table) in["tensors"].push_back({{"name", t.name}, {"size", t.size}, {"is_matrix", t.is_matrix}});
  in["params"] = p;
  in["beta1"] = cfg.beta1;
  in["beta2"] = cfg.beta2;
  in["eps"] = cfg.eps;
  in["weight_decay"] = cfg.weight_decay;
  in["max_norm"] = max_norm;
  std::vector<std::vector<float>> grads(10, std::vector<float>(n));
  std::vector<double> lrs;
  for (int s = 0; s < 10; ++s) {
    float scale = (s % 2) ? 0.2f : 1.5f;
    for (auto& x : grads[s]) x = scale * nd(rng);
    lrs.push_back(learning_rate(sched, s));
  }
  in["grads"] = grads;
  in["lrs"] = lrs;

  fs::path dir = fs::temp_directory_path() / ("sl_adamw_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "in.json") << in.dump();
  std::string cmd = py + " " + script + " " + (dir / "in.json").string() + " " + (dir / "out.json").string();
  int rc = std::system(cmd.c_str());
  if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) {
    fs::remove_all(dir);
    GTEST_SKIP() << "torch not importable by /usr/bin/python3 (scripts/install-deps.sh --test)";
  }
  ASSERT_EQ(rc, 0) << cmd;
  nlohmann::json out = nlohmann::json::parse(std::ifstream(dir / "out.json"));
  fs::remove_all(dir);

  AdamW opt(table, n, cfg);
  int clipped = 0;
  for (int s = 0; s < 10; ++s) {
    double norm = clip_grad_norm(grads[s].data(), n, max_norm);
    EXPECT_NEAR(norm, out["norms"][s].get<double>(), 1e-6 * norm) << "step " << s;
    clipped += norm > max_norm;
    opt.step(p.data(), grads[s].data(), lrs[s]);
  }
  EXPECT_GT(clipped, 0);
  EXPECT_LT(clipped, 10);
  // Parameters (all O(1) here) must agree to 1e-6 relative. m is a signed running sum that can
  // cancel to near 0, so its error is judged against the scale of its terms (the RMS of m);
  // v is a sum of squares and gets the plain relative test.
  auto close = [](double a, double b, double floor) { return std::fabs(a - b) <= 1e-6 * std::max(std::fabs(b), floor); };
  double m_rms = 0, worst_p = 0;
  for (size_t i = 0; i < n; ++i) m_rms += opt.m()[i] * opt.m()[i] / n;
  m_rms = std::sqrt(m_rms);
  for (size_t i = 0; i < n; ++i) {
    double ref = out["params"][i].get<double>();
    worst_p = std::max(worst_p, std::fabs(p[i] - ref) / std::fabs(ref));
    EXPECT_PRED3(close, p[i], ref, 0.0) << "param " << i;
    EXPECT_PRED3(close, opt.m()[i], out["m"][i].get<double>(), m_rms) << "m " << i;
    EXPECT_PRED3(close, opt.v()[i], out["v"][i].get<double>(), 0.0) << "v " << i;
  }
  RecordProperty("worst_param_rel_error", std::to_string(worst_p));
  std::printf("worst param relative error vs torch: %.3g\n", worst_p);
}
