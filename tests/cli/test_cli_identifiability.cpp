// `scalinglab fit` shows identifiability: an "identified" column with footnoted reasons in the
// terminal, verdicts in the JSON, fixed parameters with SE exactly 0, and unbounded numbers
// printed as "unbounded" rather than 1.7887e+308.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/format.h"
#include "common/shell.h"
#include "scalinglab/fit/synthetic.h"

namespace {

std::string temp_file(const std::string& name, const std::string& contents) {
  auto dir = std::filesystem::temp_directory_path() / ("scalinglab-cli-ident-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / name).string();
  std::ofstream(path) << contents;
  return path;
}

// Chinchilla runs with 1% noise over N in [n_min, n_max] and the given tokens-per-parameter ratios.
std::string runs_csv(double n_min, double n_max, int sizes, std::vector<double> tpp) {
  scalinglab::fit::NormalStream rng(7);
  scalinglab::fit::ChinchillaParams t;
  std::ostringstream s;
  s.precision(10);
  s << "N,D,loss\n";
  for (int i = 0; i < sizes; ++i) {
    const double n = n_min * std::pow(n_max / n_min, sizes == 1 ? 0.0 : i / (sizes - 1.0));
    for (double r : tpp) s << n << "," << r * n << "," << t.loss(n, r * n) * std::exp(0.01 * rng.next()) << "\n";
  }
  return s.str();
}

}  // namespace

TEST(CliIdentifiability, FormatPrintsUnboundedNotTheLargestDouble) {
  using scalinglab::cli::fmt;
  EXPECT_EQ(fmt(1.7887e308), "unbounded");
  EXPECT_EQ(fmt(INFINITY), "unbounded");
  EXPECT_EQ(fmt(-INFINITY), "-unbounded");
  EXPECT_EQ(fmt(NAN), "-");
  EXPECT_EQ(fmt(1e299, 3), "1.00e+299");  // large but a number
  scalinglab::fit::Estimate e;
  e.value = 1.7887e308;
  e.lo = 1.26e20;
  e.hi = 1.789e308;
  EXPECT_EQ(scalinglab::cli::fmt_ci(e), "[1.260e+20, unbounded]");
}

TEST(CliIdentifiability, NarrowDesignGetsFootnotedVerdictsAndFixedParametersSEZero) {
  const std::string data = temp_file("narrow.csv", runs_csv(1e7, 3e7, 3, {15, 20, 25}));
  const std::string json_path = temp_file("narrow.json", "");
  auto r = scalinglab::testing::scalinglab_cli("fit " + data + " --bootstrap 60 --json " + json_path);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("identified"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no [1]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  [1] "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would be determined by"), std::string::npos) << r.out;
  nlohmann::json j = nlohmann::json::parse(std::ifstream(json_path));
  int no = 0;
  for (const auto& [name, v] : j["identified"].items()) no += v == "no";
  EXPECT_GT(no, 0) << j["identified"].dump();

  const std::string wide = temp_file("wide.csv", runs_csv(1e7, 1e10, 8, {5, 10, 20, 40, 80}));
  const std::string fixed_json = temp_file("fixed.json", "");
  auto f = scalinglab::testing::scalinglab_cli("fit " + wide + " --bootstrap 30 --fix E=1.69 --json " + fixed_json);
  ASSERT_EQ(f.code, 0) << f.out;
  nlohmann::json fj = nlohmann::json::parse(std::ifstream(fixed_json));
  EXPECT_EQ(fj["se"]["E"].get<double>(), 0.0);
  EXPECT_EQ(fj["ci95"]["E"][0].get<double>(), 1.69);
  EXPECT_EQ(fj["ci95"]["E"][1].get<double>(), 1.69);
  EXPECT_EQ(fj["identified"]["E"], "fixed");
  // The terminal row of E says fixed.
  const size_t row = f.out.find("\nE ");
  ASSERT_NE(row, std::string::npos) << f.out;
  const std::string line = f.out.substr(row + 1, f.out.find('\n', row + 1) - row - 1);
  EXPECT_NE(line.find("fixed"), std::string::npos) << line;
}
