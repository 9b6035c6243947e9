// The command line end to end: bad input gives one clear line and exit code 2; fit → JSON →
// predict round-trips; the bundled example equals what `synth` generates.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/shell.h"

using scalinglab::testing::ShellResult;

namespace {

ShellResult run(const std::string& args) { return scalinglab::testing::scalinglab_cli(args); }


std::string temp_file(const std::string& name, const std::string& contents) {
  auto dir = std::filesystem::temp_directory_path() / ("scalinglab-cli-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / name).string();
  std::ofstream(path) << contents;
  return path;
}

std::string valid_runs() {
  std::ostringstream s;
  s << "N,D,loss\n";
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      double n = 1e6 * std::pow(10.0, i), d = 2e7 * std::pow(10.0, j);
      s << n << "," << d << "," << 1.69 + 406.4 / std::pow(n, 0.34) + 410.7 / std::pow(d, 0.28) << "\n";
    }
  return s.str();
}

void expect_input_error(const std::string& file, const std::string& extra, const std::vector<std::string>& needles) {
  ShellResult r = run("fit " + file + " --bootstrap 0 " + extra);
  EXPECT_EQ(r.code, 2) << r.out;
  // One line, starting with the program's error prefix.
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_EQ(r.out.rfind("scalinglab: error: ", 0), 0u) << r.out;
  for (const auto& n : needles) EXPECT_NE(r.out.find(n), std::string::npos) << "missing '" << n << "' in: " << r.out;
}

}  // namespace

TEST(CliBadInput, EmptyFile) { expect_input_error(temp_file("empty.csv", ""), "", {"empty.csv", "empty file"}); }

TEST(CliBadInput, MisspeltColumnSuggestsTheClosest) {
  expect_input_error(temp_file("runs.csv", valid_runs()), "--col-loss los", {"runs.csv:1", "'los'", "did you mean 'loss'"});
}

TEST(CliBadInput, MissingLossColumn) {
  expect_input_error(temp_file("noloss.csv", "N,D,los\n1,2,3\n"), "", {"noloss.csv", "'loss'", "did you mean 'los'"});
}

TEST(CliBadInput, NonNumericCellNamesLineAndColumn) {
  std::string s = valid_runs();
  s += "1e6,2e7,abc\n";
  expect_input_error(temp_file("text.csv", s), "", {"text.csv:18", "column 'loss'", "'abc'"});
}

TEST(CliBadInput, NonPositiveNDC) {
  expect_input_error(temp_file("zero_n.csv", "N,D,loss\n1e6,1e7,3\n0,1e7,3\n"), "", {"zero_n.csv:3", "column 'N'"});
  expect_input_error(temp_file("neg_d.csv", "N,D,loss\n1e6,-1e7,3\n"), "", {"neg_d.csv:2", "column 'D'"});
  expect_input_error(temp_file("zero_c.csv", "N,C,loss\n1e6,0,3\n"), "", {"zero_c.csv:2", "column 'C'"});
}

TEST(CliBadInput, NanAndInfLoss) {
  expect_input_error(temp_file("nan.csv", "N,D,loss\n1e6,1e7,3\n1e7,1e8,nan\n"), "", {"nan.csv:3", "column 'loss'"});
  expect_input_error(temp_file("inf.jsonl", "{\"N\":1e6,\"D\":1e7,\"loss\":\"inf\"}\n"), "", {"inf.jsonl:1", "'loss'"});
}

TEST(CliBadInput, FewerRowsThanParameters) {
  expect_input_error(temp_file("few.csv", "N,D,loss\n1e6,1e7,3\n1e7,1e8,2.8\n1e8,1e9,2.5\n"), "",
                     {"few.csv", "3 runs", "5 free parameters"});
}

TEST(CliBadInput, LawNeedsAColumnTheTableLacks) {
  expect_input_error(temp_file("only_n.csv", "N,loss\n1e6,3\n1e7,2.8\n1e8,2.5\n1e9,2.3\n"), "--law chinchilla",
                     {"only_n.csv", "needs D"});
}

TEST(CliBadInput, BadFitFileForPredict) {
  ShellResult r = run("predict --law " + temp_file("bad.json", "{\"schema\": \"other\"}") + " --n 1e9 --d 2e10");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("schema"), std::string::npos) << r.out;
}

TEST(Cli, FitJsonThenPredictRoundTrips) {
  std::string data = temp_file("good.csv", valid_runs());
  std::string json_path = temp_file("fit.json", "");
  ShellResult r = run("fit " + data + " --bootstrap 50 --json " + json_path + " -q");
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(std::ifstream(json_path));
  for (const char* key : {"law", "params", "se", "ci95", "objective", "points", "converged_starts", "derived", "holdout"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["points"], 16);
  EXPECT_NEAR(j["params"]["alpha"].get<double>(), 0.34, 1e-4);  // exact data
  ShellResult p = run("predict --law " + json_path + " --n 7e10 --d 1.4e12 --json");
  ASSERT_EQ(p.code, 0) << p.out;
  nlohmann::json pj = nlohmann::json::parse(p.out);
  double expect = 1.69 + 406.4 / std::pow(7e10, 0.34) + 410.7 / std::pow(1.4e12, 0.28);
  EXPECT_NEAR(pj["loss"].get<double>(), expect, 1e-3);
  EXPECT_FALSE(pj["warnings"].empty());  // 5.9e23 FLOPs is far past data that ends at ~1.2e21
}

TEST(Cli, BundledExampleIsWhatSynthGenerates) {
  std::string out = temp_file("synth.csv", "");
  ShellResult r = run("synth --design isoflop --c-min 1e17 --c-max 1e21 --budgets 9 --per-budget 9 --n-span 6 --noise 0.015 "
                 "--seed 2024 --E 1.8172 --A 482.01 --B 2085.43 --alpha 0.3478 --beta 0.3658 -o " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream a(out), b(std::string(SCALINGLAB_SOURCE_DIR) + "/data/examples/chinchilla_synthetic.csv");
  std::stringstream sa, sb;
  sa << a.rdbuf();
  sb << b.rdbuf();
  EXPECT_EQ(sa.str(), sb.str());
}

TEST(Cli, DemoWritesFitAndReportsTheHoldout) {
  auto dir = std::filesystem::temp_directory_path() / ("scalinglab-demo-" + std::to_string(::getpid()));
  ShellResult r = run("demo --synthetic --bootstrap 40 -o " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("holdout"), std::string::npos);
  nlohmann::json j = nlohmann::json::parse(std::ifstream(dir / "fit.json"));
  EXPECT_EQ(j["points"], 81);
  EXPECT_EQ(j["holdout"]["k"], 9);
  EXPECT_LT(j["holdout"]["mean_abs_rel_error"].get<double>(), 0.05);
}

TEST(Cli, ApproachTwoOnTheBundledExampleRecoversTheExponent) {
  std::string json_path = temp_file("a2.json", "");
  ShellResult r = run("fit " + std::string(SCALINGLAB_SOURCE_DIR) + "/data/examples/chinchilla_synthetic.csv --approach 2 "
                 "--bootstrap 100 --json " + json_path + " -q");
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(std::ifstream(json_path));
  // The example's truth: a = β/(α+β) = 0.3658/0.7136 = 0.5126 (1.5% noise, 9 budgets).
  EXPECT_NEAR(j["a"]["value"].get<double>(), 0.5126, 0.06);
  EXPECT_EQ(j["budgets"].size(), 9u);
}

TEST(Cli, ApproachOneOnTrainingCurves) {
  // Curves of a family of sizes: loss at every 1/8 decade of tokens, from the Chinchilla law.
  std::ostringstream s;
  s << "run,N,tokens,loss\n";
  for (int i = 0; i < 12; ++i) {
    double n = 1e6 * std::pow(10.0, i / 4.0);
    for (int k = 0; k <= 40; ++k) {
      double d = 1e7 * std::pow(10.0, k / 8.0);
      s << "m" << i << "," << n << "," << d << "," << 1.69 + 406.4 / std::pow(n, 0.34) + 410.7 / std::pow(d, 0.28) << "\n";
    }
  }
  std::string json_path = temp_file("a1.json", "");
  ShellResult r = run("fit " + temp_file("curves.csv", s.str()) + " --approach 1 --bootstrap 50 --json " + json_path + " -q");
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(std::ifstream(json_path));
  EXPECT_NEAR(j["a"]["value"].get<double>(), 0.28 / 0.62, 0.03);
}

TEST(Cli, CompareRanksTheGeneratingLawFirst) {
  std::string json_path = temp_file("cmp.json", "");
  ShellResult r = run("fit " + std::string(SCALINGLAB_SOURCE_DIR) + "/data/examples/chinchilla_synthetic.csv --compare "
                 "kaplan-c,chinchilla,kaplan-nd --irreducible --bootstrap 20 --json " + json_path);
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(std::ifstream(json_path));
  ASSERT_EQ(j["comparison"].size(), 3u);
  double aic_chinchilla = 0, best_other = 1e300;
  for (const auto& f : j["comparison"]) {
    double aic = f["quality"]["aic"].get<double>();
    if (f["law"] == "chinchilla") aic_chinchilla = aic;
    else best_other = std::min(best_other, aic);
  }
  EXPECT_LT(aic_chinchilla, best_other - 10);
}

namespace {

// An IsoFLOP table whose FLOPs are not 6ND (6ND/C drifts from 0.93 to 1.35 with N): 9 nominal
// budgets, 8 sizes each, D the tokens trained, loss from the Chinchilla law. With `budget_col`
// the nominal budget is a column of that name; without, only N, D and loss are given.
std::string drifting_isoflop_table(const std::string& budget_col) {
  const double alpha = 0.34, beta = 0.28, A = 406.4, B = 410.7;
  const double G = std::pow(alpha * A / (beta * B), 1 / (alpha + beta)), a = beta / (alpha + beta);
  auto n_opt = [&](double c) { return G * std::pow(c / 6, a); };
  const double hw = std::log(4.0), ln_min = std::log(n_opt(6e18)) - hw, ln_max = std::log(n_opt(3e21)) + hw;
  std::ostringstream s;
  s.precision(10);
  s << "N,D,loss" << (budget_col.empty() ? "" : "," + budget_col) << "\n";
  for (int i = 0; i < 9; ++i) {
    const double c = 6e18 * std::pow(3e21 / 6e18, i / 8.0);
    for (int j = 0; j < 8; ++j) {
      const double n = n_opt(c) * std::exp(-hw + 2 * hw * j / 7.0);
      const double r = 0.93 * std::pow(1.35 / 0.93, (std::log(n) - ln_min) / (ln_max - ln_min));
      const double d = r * c / (6 * n);
      s << n << "," << d << "," << 1.69 + A / std::pow(n, alpha) + B / std::pow(d, beta);
      if (!budget_col.empty()) s << "," << c;
      s << "\n";
    }
  }
  return s.str();
}

}  // namespace

TEST(CliBadInput, ApproachTwoRefusesToleranceGroupingIntoFragments) {
  // No budget column: C = 6ND scatters each budget and --c-tolerance 0.05 splits it into pieces.
  expect_input_error(temp_file("iso_nobudget.csv", drifting_isoflop_table("")), "--approach 2",
                     {"iso_nobudget.csv", "--c-tolerance", "--col-budget", "fewer than 3 runs"});
}

TEST(Cli, ApproachTwoGroupsByANominalBudgetColumnWithoutAFlag) {
  for (const std::string col : {"budget", "FLOPs_Budget"}) {
    std::string json_path = temp_file("a2b.json", "");
    ShellResult r = run("fit " + temp_file("iso_budget.csv", drifting_isoflop_table(col)) +
                        " --approach 2 --bootstrap 50 --at-compute 1.2e25 --json " + json_path);
    ASSERT_EQ(r.code, 0) << r.out;
    nlohmann::json j = nlohmann::json::parse(std::ifstream(json_path));
    EXPECT_EQ(j["grouping"]["by"], "budget") << col;
    EXPECT_EQ(j["grouping"]["groups"], 9);
    EXPECT_EQ(j["budgets_used"], 9);
    EXPECT_EQ(j["D_opt_from"], "ln D parabola");
    // 6ND/C against the nominal budget is reported with its range, and a + b departs from 1.
    std::string warnings = j["warnings"].dump();
    EXPECT_NE(warnings.find("6ND/C ranges over [0.93"), std::string::npos) << warnings;
    EXPECT_NE(warnings.find("a + b"), std::string::npos) << warnings;
    EXPECT_NE(warnings.find("orders of magnitude past"), std::string::npos) << warnings;  // 3.6 orders
    EXPECT_GT(j["a_plus_b"]["value"].get<double>(), 1.02);
    EXPECT_NE(r.out.find("9 from the budget column"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("a + b"), std::string::npos) << r.out;
  }
}

TEST(Cli, ApproachTwoListsSkippedBudgetsWithTheirReason) {
  // Exact Chinchilla runs (C = 6ND) on 5 budgets centred on their optimum, and a sixth budget
  // sampled only below its optimum: the loss still falls at its largest N.
  const double alpha = 0.34, beta = 0.28, A = 406.4, B = 410.7;
  const double G = std::pow(alpha * A / (beta * B), 1 / (alpha + beta)), a = beta / (alpha + beta);
  std::ostringstream s;
  s.precision(12);
  s << "N,D,C,loss\n";
  for (int i = 0; i < 6; ++i) {
    const double c = 1e18 * std::pow(10.0, i / 2.0), n_opt = G * std::pow(c / 6, a);
    for (int j = 0; j < 7; ++j) {
      const double n = n_opt * std::exp(i < 5 ? std::log(3.0) * (j - 3) / 3.0 : -3.0 + 0.4 * j);
      const double d = c / (6 * n);
      s << n << "," << d << "," << c << "," << 1.69 + A / std::pow(n, alpha) + B / std::pow(d, beta) << "\n";
    }
  }
  const std::string csv = s.str();
  for (const char* edge : {"drop", "keep"}) {
    std::string json_path = temp_file("a2e.json", "");
    ShellResult r = run("fit " + temp_file("iso_edge.csv", csv) + " --approach 2 --bootstrap 0 --edge-vertices " + edge +
                        " --json " + json_path);
    ASSERT_EQ(r.code, 0) << r.out;
    nlohmann::json j = nlohmann::json::parse(std::ifstream(json_path));
    const auto& last = j["budgets"].back();
    if (std::string(edge) == "drop") {
      ASSERT_EQ(j["skipped"].size(), 1u) << j["skipped"].dump();
      EXPECT_EQ(j["skipped"][0]["code"], "minimum_at_edge");
      EXPECT_FALSE(last["used"].get<bool>());
      EXPECT_TRUE(last["N_opt"].is_null());
      EXPECT_NE(r.out.find("skipped: vertex at N"), std::string::npos) << r.out;
      // Its row shows "-" for N_opt, D_opt and L_opt, never 0.
      const size_t at = r.out.find("skipped: vertex at N");
      const std::string row = r.out.substr(r.out.rfind('\n', at) + 1, at - r.out.rfind('\n', at) - 1);
      EXPECT_EQ(row.find(" 0 "), std::string::npos) << row;
      EXPECT_EQ(std::count(row.begin(), row.end(), '-'), 3) << row;
    } else {
      EXPECT_TRUE(j["skipped"].empty());
      EXPECT_TRUE(last["extrapolated"].get<bool>());
      EXPECT_NE(j["warnings"].dump().find("--edge-vertices keep"), std::string::npos) << j["warnings"].dump();
    }
  }
}
