// Sardana, Doubov & Frankle 2024, "Beyond Chinchilla-Optimal": the inference-aware optimum.
#include <gtest/gtest.h>

#include <cmath>

#include "scalinglab/fit/frontier.h"
#include "scalinglab/plan/inference.h"
#include "scalinglab/plan/optimum.h"

using namespace scalinglab;

TEST(InferenceAware, NoInferenceGivesTheTrainingOnlyPlan) {
  plan::Surface s = plan::preset_surface("chinchilla");
  auto r = plan::inference_aware(s, 1e23, 0);
  EXPECT_NEAR(r.inference_aware.n / r.training_only.n, 1, 1e-3);
  EXPECT_NEAR(r.training_only.train_flops / 1e23, 1, 1e-12);
  EXPECT_DOUBLE_EQ(r.training_only.inference_flops, 0);
}

TEST(InferenceAware, MoreInferenceMeansSmallerModelsTrainedLonger) {
  for (const char* name : {"chinchilla", "epoch", "kaplan"}) {
    plan::Surface s = plan::preset_surface(name);
    const double c = 1e23;
    double prev_n = INFINITY, prev_d = 0;
    for (double t : {1e9, 1e11, 1e12, 1e13, 1e14}) {
      auto r = plan::inference_aware(s, c, t);
      const auto& x = r.inference_aware;
      EXPECT_LT(x.n, prev_n) << name << " T=" << t;
      EXPECT_GT(x.d, prev_d) << name << " T=" << t;
      // Same loss as the training-only optimum for this budget.
      EXPECT_NEAR(x.loss, r.training_only.loss, 1e-9) << name;
      // Never more lifetime FLOPs than the training-only plan serving the same T.
      EXPECT_LE(x.total_flops, r.training_only.total_flops) << name;
      EXPECT_NEAR(r.training_only.total_flops, c + 2 * r.training_only.n * t, 1e-6 * c);
      EXPECT_DOUBLE_EQ(x.total_flops, 6 * x.n * x.d + 2 * x.n * t);
      prev_n = x.n, prev_d = x.d;
    }
    // With heavy inference the saving is real, not rounding.
    EXPECT_GT(plan::inference_aware(s, c, 1e14).saving(), 0.05) << name;
  }
}

TEST(InferenceAware, MatchesABruteForceSearchOnTheIsoLossCurve) {
  // Independent reference: a dense scan of ln N (steps of 1e-4) with D from the Chinchilla form
  // solved by hand, D = (B / (ℓ − E − A/N^α))^(1/β).
  const fit::ChinchillaParams p = plan::preset_surface("epoch").chinchilla;
  const double c = 1e24;
  const double l = fit::chinchilla_loss_opt(p, c), n0 = fit::chinchilla_n_opt(p, c);
  for (double t : {1e12, 1e13}) {
    double best = INFINITY, best_n = 0;
    for (double v = std::log(n0) - 4; v <= std::log(n0); v += 1e-4) {
      const double n = std::exp(v), room = l - p.E - p.A * std::pow(n, -p.alpha);
      if (room <= 0) continue;
      const double d = std::pow(p.B / room, 1 / p.beta), total = 6 * n * d + 2 * n * t;
      if (total < best) best = total, best_n = n;
    }
    auto r = plan::inference_aware(p, c, t);
    EXPECT_NEAR(r.inference_aware.total_flops / best, 1, 1e-7) << t;
    EXPECT_NEAR(r.inference_aware.n / best_n, 1, 1e-2) << t;
  }
}
