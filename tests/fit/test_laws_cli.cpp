// `scalinglab fit` and `predict` with the data-constrained, inference and broken laws: unique
// tokens from --col-u or --col-epochs, one-line errors for bad U, --fix, --compare and
// --holdout-top-x, and the JSON the planner reads.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/shell.h"
#include "common/temp_dir.h"
#include "scalinglab/fit/law.h"
#include "scalinglab/fit/problem.h"
#include "scalinglab/fit/synthetic.h"

using scalinglab::testing::scalinglab_cli;
using scalinglab::testing::TempDir;
using namespace scalinglab::fit;

namespace {

// Repeated-epoch runs from a known data-constrained law, as CSV: N, D, unique, epochs, loss. Its
// single-epoch runs have only two D values; `with_base` adds single-epoch runs at 20, 60 and 180
// tokens per parameter, enough for the two-stage procedure's base law.
std::string repeated_runs_csv(bool with_base = false) {
  auto law = make_law("data-constrained");
  auto t = law->to_internal({1.69, 406.4, 410.7, 0.34, 0.28, 15.4, 5.3});
  NormalStream rng(4);
  std::ostringstream s;
  s.precision(10);
  s << "N,D,unique,epochs,loss\n";
  for (double n : {1e7, 4e7, 1.5e8, 6e8})
    for (double u : {3e8, 3e9})
      for (double epochs : {1.0, 3.0, 8.0, 20.0, 40.0}) {
        const double d = u * epochs;
        const double l = std::exp(law->log_predict(t.data(), log_point({n, d, 0, 0, 1, 0, u}), nullptr) + 0.003 * rng.next());
        s << n << "," << d << "," << u << "," << epochs << "," << l << "\n";
      }
  if (with_base)
    for (double n : {1e7, 4e7, 1.5e8, 6e8})
      for (double ratio : {20.0, 60.0, 180.0}) {
        const double d = n * ratio;
        const double l = std::exp(law->log_predict(t.data(), log_point({n, d, 0, 0, 1, 0, d}), nullptr) + 0.003 * rng.next());
        s << n << "," << d << "," << d << ",1," << l << "\n";
      }
  return s.str();
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST(LawsCli, DataConstrainedFitWritesEveryParameterWithItsInterval) {
  TempDir dir;
  auto data = dir.file("runs.csv", repeated_runs_csv());
  auto out = dir / "dc.json";
  auto r = scalinglab_cli("fit --law data-constrained --col-u unique " + data + " --bootstrap 16 --threads 2 --json " +
                          out + " -q");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = read_json(out);
  EXPECT_EQ(j["law"], "data-constrained");
  for (const char* name : {"E", "A", "B", "alpha", "beta", "R_D_star", "R_N_star"}) {
    ASSERT_TRUE(j["params"][name].is_number()) << name;
    ASSERT_TRUE(j["ci95"][name].is_array()) << name;
    EXPECT_TRUE(j["ci95"][name][0].is_number()) << name;
    EXPECT_LE(j["ci95"][name][0].get<double>(), j["ci95"][name][1].get<double>()) << name;
  }
  EXPECT_NEAR(j["params"]["R_D_star"].get<double>() / 15.4, 1.0, 0.25);
  EXPECT_EQ(j["data_range"]["U"][0].get<double>(), 3e8);
  EXPECT_EQ(j["residuals"][0]["U"].get<double>(), 3e8);

  // The same runs through the epochs column give the same fit.
  auto out2 = dir / "dc_epochs.json";
  r = scalinglab_cli("fit --law data-constrained --col-epochs epochs " + data + " --bootstrap 0 --threads 2 --json " +
                     out2 + " -q");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NEAR(read_json(out2)["params"]["R_D_star"].get<double>(), j["params"]["R_D_star"].get<double>(),
              1e-3 * j["params"]["R_D_star"].get<double>());

  // `predict` brings the law back and needs U.
  r = scalinglab_cli("predict --law " + out + " --n 1e8 --d 6e10 --u 3e9 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto p = nlohmann::json::parse(r.out);
  auto law = make_law("data-constrained");
  std::vector<double> theta;
  for (const auto& name : law->internal_names()) theta.push_back(j["internal"][name].get<double>());
  EXPECT_NEAR(p["loss"].get<double>(),
              std::exp(law->log_predict(theta.data(), log_point({1e8, 6e10, 0, 0, 1, 0, 3e9}), nullptr)), 1e-9);
  r = scalinglab_cli("predict --law " + out + " --n 1e8 --d 6e10");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--u"), std::string::npos) << r.out;
}

TEST(LawsCli, BadUniqueTokensAreOneLineErrorsNamingFileLineAndColumn) {
  TempDir dir;
  auto more = dir.file("more.csv", "N,D,unique,loss\n1e8,2e9,1e9,3.1\n1e8,2e9,3e9,3.0\n");
  auto r = scalinglab_cli("fit --law data-constrained --col-u unique " + more);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("more.csv:3: column 'unique': expected unique tokens U <= total tokens D"), std::string::npos)
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;

  auto zero = dir.file("zero.csv", "N,D,unique,loss\n1e8,2e9,0,3.1\n");
  r = scalinglab_cli("fit --law data-constrained --col-u unique " + zero);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("zero.csv:2: column 'unique': expected a positive finite unique token count U"), std::string::npos)
      << r.out;

  auto epochs = dir.file("ep.csv", "N,D,epochs,loss\n1e8,2e9,2,3.1\n1e8,2e9,0.5,3.0\n");
  r = scalinglab_cli("fit --law data-constrained --col-epochs epochs " + epochs);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("ep.csv:3: column 'epochs': expected a number of epochs >= 1"), std::string::npos) << r.out;

  // A default-named U column that is bad matters only to a law that needs U.
  auto data = dir.file("ok.csv", "N,D,U,loss\n1e7,1e9,-1,3.1\n2e7,1e9,1,3.0\n4e7,1e9,1,2.9\n1e7,2e9,1,3.0\n"
                                 "2e7,2e9,1,2.9\n4e7,2e9,1,2.8\n1e7,4e9,1,2.9\n");
  r = scalinglab_cli("fit --law kaplan-n " + data + " --bootstrap 0 -q");
  EXPECT_EQ(r.code, 0) << r.out;
  r = scalinglab_cli("fit --law data-constrained " + data + " --bootstrap 0 -q");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("ok.csv:2: column 'U'"), std::string::npos) << r.out;

  // No U at all: the law says which flag gives it.
  auto none = dir.file("none.csv", "N,D,loss\n1e8,2e9,3.1\n");
  r = scalinglab_cli("fit --law data-constrained " + none);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--col-u"), std::string::npos) << r.out;
}

TEST(LawsCli, FixHoldsRNStarAndTheJsonRemembersIt) {
  TempDir dir;
  auto data = dir.file("runs.csv", repeated_runs_csv());
  auto out = dir / "fixed.json";
  auto r = scalinglab_cli("fit --law data-constrained " + data + " --fix R_N_star=5.309 --bootstrap 8 --threads 2 --json " +
                          out + " -q");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = read_json(out);
  EXPECT_EQ(j["params"]["R_N_star"].get<double>(), 5.309);
  EXPECT_EQ(j["law_options"]["fixed"]["R_N_star"].get<double>(), 5.309);
  EXPECT_FALSE(j["internal"].contains("ln_R_N_star"));
  r = scalinglab_cli("predict --law " + out + " --n 1e9 --d 6e10 --u 3e9");
  EXPECT_EQ(r.code, 0) << r.out;

  r = scalinglab_cli("fit --law data-constrained " + data + " --fix R_star=5");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("no parameter 'R_star'"), std::string::npos) << r.out;
  r = scalinglab_cli("fit --law data-constrained " + data + " --fix R_N_star");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("NAME=VALUE"), std::string::npos) << r.out;
}

TEST(LawsCli, CompareIncludesTheNewLawsWhereTheVariablesAllow) {
  TempDir dir;
  auto data = dir.file("runs.csv", repeated_runs_csv());
  auto out = dir / "cmp.json";
  auto r = scalinglab_cli("fit " + data + " --compare chinchilla,data-constrained,broken --bootstrap 0 --threads 2 --json " +
                          out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("skipped broken"), std::string::npos) << r.out;  // no x column
  auto j = read_json(out);
  ASSERT_EQ(j["comparison"].size(), 2u);
  // The runs repeat data up to 40 epochs: the law that knows it fits far better.
  EXPECT_EQ(j["comparison"][1]["law"], "data-constrained");
  EXPECT_LT(j["comparison"][1]["quality"]["aic"].get<double>(), j["comparison"][0]["quality"]["aic"].get<double>() - 20);

  // Test-time compute under one of the x aliases; broken, inference and power compete there.
  std::ostringstream s;
  s << "samples,loss\n";
  for (int i = 0; i < 24; ++i) {
    double x = std::pow(2.0, i * 0.5);
    s << x << "," << 0.1 + 0.8 * std::pow(x, -0.6) << "\n";
  }
  auto curve = dir.file("samples.csv", s.str());
  r = scalinglab_cli("fit " + curve + " --compare inference,broken,power --holdout-top-x 4 --bootstrap 10 --threads 2 --json " +
                     out);
  ASSERT_EQ(r.code, 0) << r.out;
  j = read_json(out);
  ASSERT_EQ(j["comparison"].size(), 3u);
  EXPECT_EQ(j["comparison"][0]["holdout"]["by"], "x");
  EXPECT_LT(j["comparison"][0]["holdout"]["mean_abs_rel_error"].get<double>(), 0.01);  // inference: the true law
  EXPECT_NEAR(j["comparison"][0]["params"]["gamma"].get<double>(), 0.6, 1e-3);
  EXPECT_NE(r.out.find("holdout |rel err|"), std::string::npos);
}

TEST(LawsCli, DataConstrainedProcedureDefaultsToTwoStageWithBothKindsOfRunAndJointOverrides) {
  TempDir dir;
  const std::string csv = repeated_runs_csv(true);  // 20 single-epoch runs (epochs 1) and 32 multi-epoch ones
  auto data = dir.file("runs.csv", csv);
  auto out = dir / "two.json";
  auto r = scalinglab_cli("fit --law data-constrained " + data + " --bootstrap 8 --threads 2 --json " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("procedure two-stage (default: the table holds 20 single-epoch"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stage 1  chinchilla base law on the 20 single-epoch runs"), std::string::npos) << r.out;
  auto j = read_json(out);
  EXPECT_EQ(j["procedure"]["name"], "two-stage");
  EXPECT_EQ(j["procedure"]["chosen_by_default"], true);
  EXPECT_EQ(j["procedure"]["single_epoch_runs"], 20);
  EXPECT_EQ(j["procedure"]["multi_epoch_runs"], 32);
  EXPECT_EQ(j["procedure"]["stage1"]["runs"], 20);
  EXPECT_EQ(j["procedure"]["stage2"]["runs"], 52);
  EXPECT_TRUE(j["procedure"]["stage1"]["params"]["alpha"]["ci95"].is_array());
  EXPECT_TRUE(j["procedure"]["stage2"]["params"]["R_D_star"]["ci95_base_fixed"].is_array());
  EXPECT_TRUE(j["procedure"]["stage1"]["quality"]["rmse_log"].is_number());
  // Still the plain law's fit document: predict reads it.
  EXPECT_FALSE(j["law_options"].contains("fixed"));
  EXPECT_EQ(j["internal"].size(), 7u);
  EXPECT_EQ(j["bootstrap"]["internal_samples"][0].size(), 7u);
  r = scalinglab_cli("predict --law " + out + " --n 1e8 --d 6e10 --u 3e9 --json");
  EXPECT_EQ(r.code, 0) << r.out;

  r = scalinglab_cli("fit --law data-constrained " + data + " --procedure joint --bootstrap 0 --threads 2 --json " + out +
                     " -q");
  ASSERT_EQ(r.code, 0) << r.out;
  j = read_json(out);
  EXPECT_EQ(j["procedure"]["name"], "joint");
  EXPECT_EQ(j["procedure"]["chosen_by_default"], false);
  EXPECT_FALSE(j["procedure"].contains("stage1"));

  // Single-epoch runs at only two D values cannot give the base law: joint by default, and why.
  auto two_d = dir.file("two_d.csv", repeated_runs_csv());
  r = scalinglab_cli("fit --law data-constrained " + two_d + " --bootstrap 0 --threads 2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("procedure joint (default: the table holds 8 single-epoch (D <= U) and 32 multi-epoch runs "
                       "(the single-epoch runs have 4 distinct N and 2 distinct D values"),
            std::string::npos)
      << r.out;

  // Only multi-epoch runs: joint by default; two-stage asked for is a one-line error naming the flag.
  std::istringstream in(csv);
  std::string line, multi;
  while (std::getline(in, line))
    if (line.find(",1,") == std::string::npos) multi += line + "\n";  // drop the epochs = 1 rows
  auto multi_csv = dir.file("multi.csv", multi);
  r = scalinglab_cli("fit --law data-constrained " + multi_csv + " --bootstrap 0 --threads 2 --json " + out + " -q");
  ASSERT_EQ(r.code, 0) << r.out;
  j = read_json(out);
  EXPECT_EQ(j["procedure"]["name"], "joint");
  EXPECT_EQ(j["procedure"]["single_epoch_runs"], 0);
  r = scalinglab_cli("fit --law data-constrained " + multi_csv + " --procedure two-stage --bootstrap 0");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("error: --procedure: two-stage needs more single-epoch runs"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;

  r = scalinglab_cli("fit --law chinchilla " + data + " --procedure joint");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--procedure applies to the data-constrained law only"), std::string::npos) << r.out;
  // --compare fits the data-constrained law by the same procedure.
  r = scalinglab_cli("fit " + data + " --compare chinchilla,data-constrained --bootstrap 0 --threads 2 --json " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  j = read_json(out);
  ASSERT_EQ(j["comparison"].size(), 2u);
  EXPECT_EQ(j["comparison"][1]["procedure"]["name"], "two-stage");
  EXPECT_FALSE(j["comparison"][0].contains("procedure"));
}
