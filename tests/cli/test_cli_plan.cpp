#include <gtest/gtest.h>

#include "common/shell.h"

using scalinglab::testing::scalinglab_cli;

TEST(CliPlan, EpochPresetAndErrors) {
  auto r = scalinglab_cli("plan --law epoch --compute 5.88e23");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("7.30e+10"), std::string::npos) << r.out;  // Besiroglu et al. 2024: N_opt ≈ 7.3e10
  r = scalinglab_cli("plan --law epoch --target-loss 1.5");  // below E = 1.8172
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("irreducible"), std::string::npos) << r.out;
  r = scalinglab_cli("plan --law gopher --compute 1e22");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("unknown law preset"), std::string::npos) << r.out;
}
