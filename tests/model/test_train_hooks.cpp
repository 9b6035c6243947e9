#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gpt_test_util.h"
#include "scalinglab/data/corpus.h"
#include "scalinglab/model/train_hooks.h"
#include "scalinglab/train/trainer.h"

namespace fs = std::filesystem;
using namespace scalinglab;
using model::Gpt;
using model::GptConfig;

TEST(TrainHooks, TableMirrorsTheLayout) {
  Gpt m(GptConfig{40, 8, 16, 2, 2, true});
  const auto table = model::param_table(m);
  ASSERT_EQ(table.size(), m.tensors().size());
  std::size_t next = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(table[i].name, m.tensors()[i].name);
    EXPECT_EQ(table[i].offset, next);
    EXPECT_EQ(table[i].is_matrix, m.tensors()[i].is_matrix);
    next += table[i].size;
  }
  EXPECT_EQ(next, m.params().size());
}

TEST(TrainHooks, LossAndGradMatchTheModelAndOverwrite) {
  const GptConfig c{23, 8, 16, 2, 2, false};
  const std::uint32_t rows = 3, ctx = 6;
  const auto batch = model::testing::random_ids(rows * (ctx + 1), c.vocab, 4);
  Gpt ref(c, 1);
  model::testing::randomize(ref, 2);
  // Direct call on the same weights and the shifted batch.
  std::vector<std::int32_t> in, tgt;
  for (std::uint32_t r = 0; r < rows; ++r)
    for (std::uint32_t t = 0; t < ctx; ++t) {
      in.push_back(batch[r * (ctx + 1) + t]);
      tgt.push_back(batch[r * (ctx + 1) + t + 1]);
    }
  ref.zero_grad();
  const float want = ref.forward(in.data(), tgt.data(), rows, ctx);
  ref.backward();

  Gpt m(c, 99);  // different weights: the hook must use the trainer's buffer, not its own
  const auto hooks = model::make_train_hooks(m);
  const std::vector<float> params(ref.params().begin(), ref.params().end());
  std::vector<float> grads(params.size(), 123.0f);  // garbage that must be overwritten
  for (int call = 0; call < 2; ++call) {            // and not accumulated across calls
    EXPECT_EQ(hooks.loss_and_grad(params.data(), batch.data(), rows, ctx, grads.data()), double(want));
    EXPECT_EQ(grads, std::vector<float>(ref.grads().begin(), ref.grads().end()));
  }
  EXPECT_EQ(hooks.loss(params.data(), batch.data(), rows, ctx), double(want));
}

TEST(TrainHooks, TrainerLowersTheLossOfATinyGpt) {
  // End to end with the real trainer (AdamW, schedule, evaluation) on byte-level text with an
  // obvious structure: 40 steps must take the validation loss well below ln 256 = 5.55.
  const fs::path dir = fs::temp_directory_path() / ("sl_gpt_train_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream text(dir / "text.txt");
    const char* words[] = {"the ", "cat ", "sat ", "on ", "a ", "mat. "};
    std::uint32_t x = 1;
    for (int i = 0; i < 40000; ++i) {
      x = x * 1664525u + 1013904223u;
      text << words[(x >> 24) % 6];
    }
  }
  auto corpus = data::Corpus::build_or_open((dir / "text.txt").string(), (dir / "cache").string());
  const GptConfig c{256, 32, 32, 1, 2, false};
  Gpt m(c, 5);
  std::vector<float> params(m.params().begin(), m.params().end());
  train::TrainerConfig tc;
  tc.batch_size = 8;
  tc.ctx = 32;
  tc.seed = 1;
  tc.schedule.peak_lr = 1e-2;
  tc.schedule.warmup_steps = 5;
  tc.schedule.total_steps = 40;
  tc.eval_every = 40;
  tc.eval_windows = 16;
  tc.flops_per_token = c.train_flops_per_token_kaplan();
  tc.run_dir = (dir / "run").string();
  tc.progress = util::ProgressMode::kQuiet;
  train::Trainer trainer(tc, corpus, model::param_table(m), params, model::make_train_hooks(m));
  const double before = trainer.evaluate();
  EXPECT_NEAR(before, std::log(256.0), 0.1);
  const auto result = trainer.run([] { return false; });
  EXPECT_EQ(result.step, 40u);
  ASSERT_TRUE(result.final_eval_loss.has_value());
  std::printf("[train] tiny GPT: validation loss %.3f -> %.3f after 40 steps\n", before, *result.final_eval_loss);
  EXPECT_LT(*result.final_eval_loss, 3.0) << "before " << before;
  fs::remove_all(dir);
}
