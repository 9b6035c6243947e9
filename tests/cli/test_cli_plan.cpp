#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/shell.h"
#include "common/temp_dir.h"

using scalinglab::testing::scalinglab_cli;
using scalinglab::testing::TempDir;

namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);  // throws (failing the test) when missing or malformed
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// A chinchilla fit document as `scalinglab fit --json` writes it (the fields the planner reads),
// with bootstrap replicates scattered around the Epoch law and the data range of a pilot sweep.
std::string chinchilla_fit_json() {
  nlohmann::json j;
  j["schema"] = "scalinglab.fit/1";
  j["law"] = "chinchilla";
  j["law_options"] = {{"irreducible", false}};
  auto theta = [](double scale_a, double scale_b) {
    return std::vector<double>{std::log(482.01), std::log(2085.43), std::log(1.8172), 0.3478 * scale_a, 0.3658 * scale_b};
  };
  auto t = theta(1, 1);
  j["internal"] = {{"a", t[0]}, {"b", t[1]}, {"e", t[2]}, {"alpha", t[3]}, {"beta", t[4]}};
  std::vector<std::vector<double>> samples;
  for (int i = 0; i < 200; ++i) samples.push_back(theta(1 + 0.02 * std::sin(i * 1.7), 1 + 0.02 * std::cos(i * 2.3)));
  j["bootstrap"] = {{"requested", 200}, {"done", 200}, {"failed", 0}, {"seed", 1}, {"internal_samples", samples}};
  j["data_range"] = {{"N", {1e7, 2e9}}, {"D", {1e8, 1e11}}, {"C", {1e17, 1e21}}, {"x", {nullptr, nullptr}},
                     {"tokens_per_param", {5, 100}}, {"loss", {2.0, 4.0}}};
  return j.dump();
}

}  // namespace

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

TEST(CliPlan, GpuHoursAndDollarsBuyTheSameComputeAsCompute) {
  TempDir dir;
  // 1e6 H100-hours at 40% MFU: C = 1e6 · 3600 · 989.5e12 · 0.4 = 1.42488e24 FLOPs (by hand).
  auto r = scalinglab_cli("plan --law epoch --gpu h100 --gpu-hours 1e6 --json " + (dir / "h.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  auto h = read_json(dir / "h.json")["plans"][0];
  EXPECT_NEAR(h["C"].get<double>() / 1.42488e24, 1, 1e-12);
  EXPECT_NEAR(h["hardware"]["gpu_hours"].get<double>(), 1e6, 1e-6);
  r = scalinglab_cli("plan --law epoch --gpu h100 --budget-usd 2.5e6 --usd-per-gpu-hour 2.5 --json " + (dir / "u.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  auto u = read_json(dir / "u.json")["plans"][0];
  EXPECT_NEAR(u["C"].get<double>() / 1.42488e24, 1, 1e-12);
  EXPECT_NEAR(u["hardware"]["cost_usd"].get<double>(), 2.5e6, 1e-3);
  r = scalinglab_cli("plan --law epoch --compute 1.42488e24 --json " + (dir / "c.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  auto c = read_json(dir / "c.json")["plans"][0];
  EXPECT_NEAR(h["N_opt"]["value"].get<double>() / c["N_opt"]["value"].get<double>(), 1, 1e-9);
  EXPECT_NEAR(u["D_opt"]["value"].get<double>() / c["D_opt"]["value"].get<double>(), 1, 1e-9);
  // Wall time on 512 GPUs, by hand: 1e6 / 512 h = 81.4 days.
  r = scalinglab_cli("plan --law epoch --gpu h100 --gpus 512 --compute 1.42488e24 --usd-per-gpu-hour 2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("81.38 days"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$2.00e+06"), std::string::npos) << r.out;
}

TEST(CliPlan, FrontierPageSvgAndJson) {
  TempDir dir;
  auto r = scalinglab_cli("plan --law " + dir.file("fit.json", chinchilla_fit_json()) +
                          " --compute 1e22 --gpu a100 --frontier " + (dir / "f.html") +
                          " --frontier-points 17 --json " + (dir / "p.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  // Intervals from the fit's bootstrap, and warnings: 1e22 is one order past the data (no
  // warning) but N_opt ≈ 9e9 lies past the fitted N range [1e7, 2e9].
  EXPECT_NE(r.out.find("200 bootstrap replicates"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("outside the fitted range of N"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("orders of magnitude"), std::string::npos) << r.out;

  auto j = read_json(dir / "p.json");
  EXPECT_EQ(j["schema"], "scalinglab.plan/1");
  EXPECT_EQ(j["law"]["replicates"], 200);
  EXPECT_EQ(j["hardware"]["gpu"], "a100");
  const auto& p = j["plans"][0];
  EXPECT_TRUE(p["N_opt"]["ci95"][0].is_number());
  EXPECT_TRUE(p["loss"]["ci95"][1].is_number());
  EXPECT_EQ(p["warnings"].size(), 1u);
  ASSERT_EQ(j["frontier"].size(), 17u);
  // Default range: from the fitted data's smallest budget to 100 × the plan.
  EXPECT_NEAR(j["frontier"][0]["C"].get<double>(), 1e17, 1e5);
  EXPECT_NEAR(j["frontier"][16]["C"].get<double>() / 1e24, 1, 1e-9);
  for (const auto& f : j["frontier"]) EXPECT_TRUE(f["D_opt"]["ci95"][0].is_number());

  const std::string html = read_text(dir / "f.html");
  for (const char* id : {"plot-n-opt", "plot-d-opt", "plot-loss"}) EXPECT_NE(html.find(id), std::string::npos) << id;
  EXPECT_EQ(count(html, "class=\"band\""), 3u);
  EXPECT_EQ(count(html, "<polyline"), 3u);
  EXPECT_GE(count(html, "<circle"), 3u * 17);  // a marker per frontier budget in each plot

  r = scalinglab_cli("plan --law kaplan --compute 1e21 --frontier " + (dir / "f.svg"));
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string svg = read_text(dir / "f.svg");
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_EQ(count(svg, "<svg"), 4u);
  EXPECT_EQ(count(svg, "class=\"band\""), 0u);  // a preset: no intervals
  // Nothing but the three outputs in the directory (atomic writes leave no temporaries).
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path)) ++files, (void)e;
  EXPECT_EQ(files, 4u);  // fit.json, p.json, f.html, f.svg
}

TEST(CliPlan, JsonToStandardOutputIsJsonAlone) {
  auto r = scalinglab_cli("plan --law epoch --compute 1e21 --json - 2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["plans"][0]["origin"], "compute");
}

TEST(CliPlan, KaplanPresetIsPlannedNumericallyWithItsCaveat) {
  auto r = scalinglab_cli("plan --law kaplan --compute 1e21 --target-loss 2.5");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("numeric optimum"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("non-embedding"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("target loss 2.5 needs at least C ="), std::string::npos) << r.out;
}

TEST(CliPlan, KaplanNdFitBringsItsReplicates) {
  // A kaplan-nd fit (internal θ = ln N_c, ln D_c, α_N, α_D): numeric optimum per replicate.
  TempDir dir;
  nlohmann::json j = {{"schema", "scalinglab.fit/1"}, {"law", "kaplan-nd"}};
  j["internal"] = {{"ln_N_c", std::log(8.8e13)}, {"ln_D_c", std::log(5.4e13)}, {"alpha_N", 0.076}, {"alpha_D", 0.095}};
  std::vector<std::vector<double>> samples;
  for (int i = 0; i < 50; ++i)
    samples.push_back({std::log(8.8e13), std::log(5.4e13), 0.076 * (1 + 0.03 * std::sin(i * 1.3)), 0.095});
  j["bootstrap"] = {{"internal_samples", samples}};
  auto r = scalinglab_cli("plan --law " + dir.file("k.json", j.dump()) + " --compute 1e21 --json " + (dir / "p.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  auto p = read_json(dir / "p.json");
  EXPECT_EQ(p["law"]["form"], "kaplan");
  EXPECT_EQ(p["law"]["closed_form"], false);
  const auto& n = p["plans"][0]["N_opt"];
  EXPECT_LT(n["ci95"][0].get<double>(), n["value"].get<double>());
  EXPECT_GT(n["ci95"][1].get<double>(), n["value"].get<double>());
  // The point value is the kaplan preset's (same constants, up to exp(ln x) rounding on a flat minimum).
  r = scalinglab_cli("plan --law kaplan --compute 1e21 --json " + (dir / "q.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NEAR(read_json(dir / "q.json")["plans"][0]["N_opt"]["value"].get<double>() / n["value"].get<double>(), 1, 1e-6);
}

TEST(CliPlan, InferenceAwarePlanSideBySide) {
  TempDir dir;
  auto r = scalinglab_cli("plan --law chinchilla --compute 1e23 --inference-tokens 2e12 --json " + (dir / "i.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("training-only"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("inference-aware"), std::string::npos) << r.out;
  auto x = read_json(dir / "i.json")["plans"][0]["inference"];
  EXPECT_LT(x["inference_aware"]["N"].get<double>(), x["training_only"]["N"].get<double>());
  EXPECT_GT(x["inference_aware"]["D_train"].get<double>(), x["training_only"]["D_train"].get<double>());
  EXPECT_LE(x["inference_aware"]["total_flops"].get<double>(), x["training_only"]["total_flops"].get<double>());
  EXPECT_NEAR(x["inference_aware"]["loss"].get<double>(), x["training_only"]["loss"].get<double>(), 1e-9);
}

TEST(CliPlan, DataConstrainedFromPresetFlagsAndFit) {
  TempDir dir;
  // huggingface/datablations README: C = 1e22 with 25e9 unique tokens → 7.02e9 params, 9.49 epochs.
  auto r = scalinglab_cli("plan --law muennighoff --compute 1e22 --unique-tokens 25e9 --json " + (dir / "a.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  auto a = read_json(dir / "a.json")["plans"][0];
  EXPECT_NEAR(a["N_opt"]["value"].get<double>() / 7.02e9, 1, 5e-3);
  EXPECT_NEAR(a["data_constrained"]["epochs"].get<double>(), 9.49, 0.05);
  EXPECT_GT(a["data_constrained"]["unconstrained"]["epochs"].get<double>(), 7.2);  // 180.8e9 / 25e9
  EXPECT_GT(a["data_constrained"]["unconstrained"]["N_opt"].get<double>(), a["N_opt"]["value"].get<double>());  // paper: more epochs, fewer parameters

  // --r-d-star overrides: repeated data worth less → a still larger model, fewer tokens.
  r = scalinglab_cli("plan --law muennighoff --compute 1e22 --unique-tokens 25e9 --r-d-star 5 --json " + (dir / "b.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  auto b = read_json(dir / "b.json");
  EXPECT_DOUBLE_EQ(b["law"]["params"]["R_D_star"].get<double>(), 5);
  EXPECT_GT(b["plans"][0]["N_opt"]["value"].get<double>(), a["N_opt"]["value"].get<double>());

  // A data-constrained fit, read by the public names of its params (R* taken from it).
  nlohmann::json fit = {{"schema", "scalinglab.fit/1"},
                        {"law", "data-constrained"},
                        {"params", {{"E", 1.869}, {"A", 520.8}, {"B", 1487.7}, {"alpha", 0.3527}, {"beta", 0.3527},
                                    {"R_D_star", 20.0}, {"R_N_star", 4.0}}},
                        {"data_range", {{"C", {1e18, 1e21}}, {"N", {1e7, 1e9}}, {"tokens_per_param", {2, 400}}}}};
  r = scalinglab_cli("plan --law " + dir.file("dc.json", fit.dump()) + " --compute 1e22 --unique-tokens 25e9 --json " +
                     (dir / "c.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  auto c = read_json(dir / "c.json");
  EXPECT_DOUBLE_EQ(c["law"]["params"]["R_D_star"].get<double>(), 20);
  EXPECT_DOUBLE_EQ(c["law"]["params"]["R_N_star"].get<double>(), 4);
  EXPECT_NE(r.out.find("outside the fitted range of N"), std::string::npos) << r.out;
  // A missing parameter is named.
  fit["params"].erase("R_N_star");
  r = scalinglab_cli("plan --law " + dir.file("bad.json", fit.dump()) + " --compute 1e22");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("params.R_N_star"), std::string::npos) << r.out;
  // An unbounded R_N* is written as null (FIT_JSON.md): the planner says why and how to refit.
  fit["params"]["R_N_star"] = nullptr;
  fit["identification_reason"] = {{"R_N_star", "unbounded: no run tests it"}};
  r = scalinglab_cli("plan --law " + dir.file("null.json", fit.dump()) + " --compute 1e22");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("unbounded: no run tests it"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--fix R_N_star="), std::string::npos) << r.out;
}

TEST(CliPlan, BadInputIsOneLineAndExitTwoWithNoOutputWritten) {
  TempDir dir;
  const std::string kaplan_n = dir.file("kn.json", R"({"schema": "scalinglab.fit/1", "law": "kaplan-n", "params": {}})");
  const std::string approach2 = dir.file("a2.json", R"({"approach": 2, "method": "isoflop", "a": {"value": 0.5}})");
  const std::string out = " --json " + (dir / "out.json") + " --frontier " + (dir / "out.html");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--law epoch --compute 1e22 --gpu v100", "unknown GPU 'v100'"},
      {"--law epoch --compute 1e22 --gpu h100 --mfu -0.1", "--mfu"},
      {"--law epoch --compute 1e22 --gpu h100 --mfu 1.5", "--mfu: must be in (0, 1]"},
      {"--law epoch --compute 1e22 --mfu 0", "--mfu: must be in (0, 1]"},
      {"--law epoch", "missing budget"},
      {"--law epoch --gpu h100", "missing budget"},
      {"--law " + kaplan_n + " --compute 1e22", "this fit is kaplan-n"},
      {"--law " + approach2 + " --compute 1e22", "approach 1/2 fit"},
      {"--law epoch --budget-usd 1e6 --gpu h100", "--usd-per-gpu-hour"},
      {"--law epoch --gpu-hours 1e6", "--gpu NAME or --peak-flops"},
      {"--law epoch --compute 1e22 --gpu-hours 10 --gpu a100", "one budget"},
      {"--law kaplan --compute 1e22 --unique-tokens 1e9", "Chinchilla form"},
      {"--law epoch --compute 1e22 --r-d-star 3", "--r-d-star: needs --unique-tokens"},
      {"--law muennighoff --unique-tokens 1e9 --target-loss 1.9", "cannot be reached"},
      {"--law epoch --compute 1e22 --usd-per-gpu-hour -2 --gpu a100", "--usd-per-gpu-hour"},
  };
  for (const auto& [args, expect] : cases) {
    auto r = scalinglab_cli("plan " + args + out);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(expect), std::string::npos) << args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << "\n" << r.out;
    EXPECT_FALSE(std::filesystem::exists(dir / "out.json")) << args;
    EXPECT_FALSE(std::filesystem::exists(dir / "out.html")) << args;
  }
}
