// The C++ model against an independent PyTorch implementation (torch_reference.py) run in
// float64 on the exact same weights and batch. The brief asked for 1e-5 relative on the loss and
// 1e-4 on every gradient (‖g_cpp - g_torch‖ / ‖g_torch‖); the fp32 C++ model measures ~1e-7 and
// ~1e-6, and an eps of 1e-4 instead of 1e-5 in a single LayerNorm already moves a gradient by
// 8e-5, so the bounds here are 10x the measured error: 1e-6 (loss) and 1e-5 (gradients).
// Skipped when /usr/bin/python3 cannot import torch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "common/temp_dir.h"
#include "gpt_test_util.h"
#include "scalinglab/model/gpt.h"
#include "scalinglab/model/tensor_file.h"

using scalinglab::model::Gpt;
using scalinglab::model::GptConfig;
using scalinglab::model::NamedTensor;
using scalinglab::model::TensorFile;

namespace {

constexpr const char* kPython = "/usr/bin/python3";  // the interpreter that has torch here

using Scratch = scalinglab::testing::TempDir;

void check_parity(const GptConfig& c, int B, int T, bool randomized) {
  if (!std::filesystem::exists(kPython)) GTEST_SKIP() << kPython << " not found";
  Scratch tmp;
  Gpt m(c, 1234);
  if (randomized) scalinglab::model::testing::randomize(m, 77);
  const auto tok = scalinglab::model::testing::random_ids(B * T, c.vocab, 21);
  const auto tgt = scalinglab::model::testing::random_ids(B * T, c.vocab, 22);
  m.save_weights(tmp / "weights.bin");
  TensorFile batch;
  batch.tensors.push_back(NamedTensor::i32("tokens", {B, T}, tok.data()));
  batch.tensors.push_back(NamedTensor::i32("targets", {B, T}, tgt.data()));
  write_tensor_file(tmp / "batch.bin", batch);

  const auto [rc, log] = scalinglab::model::testing::run_torch_script(
      "torch_reference.py", {tmp / "weights.bin", tmp / "batch.bin", tmp / "out.bin"}, tmp / "log.txt");
  if (rc == 77) GTEST_SKIP() << "PyTorch not importable: " << log;
  ASSERT_EQ(rc, 0) << "torch_reference.py failed:\n" << log;

  m.zero_grad();
  const float loss = m.forward(tok.data(), tgt.data(), B, T);
  m.backward();

  const TensorFile ref = scalinglab::model::read_tensor_file(tmp / "out.bin");
  const double ref_loss = ref.meta.at("loss").get<double>();
  EXPECT_NEAR(loss, ref_loss, 1e-6 * std::abs(ref_loss)) << "C++ " << loss << " vs torch " << ref_loss;
  double worst = 0;
  std::string worst_name;
  for (const auto& t : m.tensors()) {
    const auto g_ref = ref.at(t.name).as_f32();
    ASSERT_EQ(g_ref.size(), t.numel) << t.name;
    const auto g = m.grad(t.name);
    double num = 0, den = 0;
    for (std::size_t i = 0; i < t.numel; ++i) {
      num += (double(g[i]) - g_ref[i]) * (double(g[i]) - g_ref[i]);
      den += double(g_ref[i]) * g_ref[i];
    }
    ASSERT_GT(den, 0.0) << t.name << ": reference gradient is all zero";
    const double rel = std::sqrt(num / den);
    EXPECT_LT(rel, 1e-5) << t.name;
    if (rel > worst) worst = rel, worst_name = t.name;
  }
  std::printf("[parity] %s B=%d T=%d: loss C++ %.9g torch(f64) %.9g (rel %.2e); worst gradient %s rel %.2e\n",
              c.to_string().c_str(), B, T, loss, ref_loss, std::abs(loss - ref_loss) / ref_loss, worst_name.c_str(),
              worst);
}

}  // namespace

TEST(TorchParity, Gpt2InitLearnedPositions) { check_parity(GptConfig{64, 16, 32, 2, 4, false}, 3, 16, false); }
TEST(TorchParity, RandomWeightsLearnedPositions) { check_parity(GptConfig{64, 16, 32, 2, 4, false}, 3, 13, true); }
TEST(TorchParity, RandomWeightsRope) { check_parity(GptConfig{50, 16, 48, 3, 4, true}, 2, 16, true); }
