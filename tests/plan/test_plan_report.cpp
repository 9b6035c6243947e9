#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/temp_dir.h"
#include "scalinglab/plan/plan_report.h"

using namespace scalinglab;

namespace {

plan::PlanReport sample(bool with_replicates) {
  plan::PlanReport r;
  r.law.point = plan::preset_surface("epoch");
  r.law.name = "epoch";
  if (with_replicates)
    for (int i = 0; i < 100; ++i) {
      auto q = plan::preset_surface("epoch");
      q.chinchilla.alpha *= 1 + 0.02 * std::sin(i * 1.7);
      q.chinchilla.beta *= 1 + 0.02 * std::cos(i * 2.3);
      r.law.replicates.push_back(q);
    }
  r.hardware = plan::Hardware{989.5e12, 0.4, 256, 2.0};
  plan::BudgetPlan p;
  p.origin = "compute";
  p.allocation = plan::optimal_allocation(r.law, 1e23);
  p.cost = plan::hardware_cost(*r.hardware, 1e23);
  p.inference = plan::inference_aware(r.law.point, 1e23, 1e12);
  r.plans.push_back(p);
  r.frontier = plan::frontier(r.law, 1e19, 1e25, 13);
  return r;
}

// The polyline of a plot's first series (the frontier curve): its number of points.
size_t polyline_points(const std::string& doc, const std::string& plot_id) {
  const size_t at = doc.find("id=\"" + plot_id + "\"");
  if (at == std::string::npos) return 0;
  const size_t pl = doc.find("<polyline", at), pts = doc.find("points=\"", pl);
  const std::string list = doc.substr(pts + 8, doc.find('"', pts + 8) - pts - 8);
  size_t n = 0;
  for (char ch : list) n += ch == ',';
  return n;
}

}  // namespace

TEST(PlanReport, JsonHasEveryPartOfThePlan) {
  auto j = plan::to_json(sample(true));
  EXPECT_EQ(j["schema"], "scalinglab.plan/1");
  EXPECT_EQ(j["law"]["form"], "chinchilla");
  EXPECT_DOUBLE_EQ(j["law"]["params"]["E"].get<double>(), 1.8172);
  EXPECT_EQ(j["law"]["replicates"], 100);
  EXPECT_DOUBLE_EQ(j["hardware"]["mfu"].get<double>(), 0.4);
  ASSERT_EQ(j["plans"].size(), 1u);
  const auto& p = j["plans"][0];
  for (const char* k : {"C", "N_opt", "D_opt", "tokens_per_param", "loss", "hardware", "inference", "warnings"})
    EXPECT_TRUE(p.contains(k)) << k;
  EXPECT_TRUE(p["N_opt"]["ci95"][0].is_number());
  EXPECT_LT(p["N_opt"]["ci95"][0].get<double>(), p["N_opt"]["value"].get<double>());
  EXPECT_GT(p["hardware"]["gpu_hours"].get<double>(), 0);
  EXPECT_LT(p["inference"]["inference_aware"]["N"].get<double>(), p["inference"]["training_only"]["N"].get<double>());
  EXPECT_EQ(j["frontier"].size(), 13u);
  EXPECT_TRUE(j["frontier"][0]["hardware"]["cost_usd"].is_number());
}

TEST(PlanReport, HtmlPageHasTheThreePlotsWithBands) {
  const std::string html = plan::render_frontier_html(sample(true));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);  // nothing to run, nothing fetched
  for (const char* id : {"plot-n-opt", "plot-d-opt", "plot-loss"}) {
    EXPECT_EQ(polyline_points(html, id), 13u) << id;  // one vertex per frontier budget
  }
  // A band per plot (the replicates give intervals), and the planned budget as a marker with values.
  size_t bands = 0;
  for (size_t at = html.find("class=\"band\""); at != std::string::npos; at = html.find("class=\"band\"", at + 1)) ++bands;
  EXPECT_EQ(bands, 3u);
  EXPECT_NE(html.find("planned (compute)"), std::string::npos);
  EXPECT_NE(html.find("id=\"frontier-table\""), std::string::npos);
  // Without replicates, no bands.
  const std::string bare = plan::render_frontier_html(sample(false));
  EXPECT_EQ(bare.find("class=\"band\""), std::string::npos);
}

TEST(PlanReport, SvgFileIsOneStandaloneDocument) {
  const std::string svg = plan::render_frontier_svg(sample(true));
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(svg.find("<svg x=\"0\" y=\"400\" class=\"plot\" id=\"plot-d-opt\""), std::string::npos);
  EXPECT_NE(svg.find("<svg x=\"0\" y=\"800\" class=\"plot\" id=\"plot-loss\""), std::string::npos);
  EXPECT_EQ(polyline_points(svg, "plot-loss"), 13u);
  // Balanced <svg> elements: one outer plus three plots.
  size_t open = 0, close = 0;
  for (size_t at = svg.find("<svg"); at != std::string::npos; at = svg.find("<svg", at + 1)) ++open;
  for (size_t at = svg.find("</svg>"); at != std::string::npos; at = svg.find("</svg>", at + 1)) ++close;
  EXPECT_EQ(open, 4u);
  EXPECT_EQ(close, 4u);
}

TEST(PlanReport, WriteFrontierPicksTheFormatByExtensionAndReplacesWhole) {
  scalinglab::testing::TempDir dir;
  const std::string html = dir / "f.html", svg = dir / "f.svg";
  dir.file("f.html", std::string(1 << 20, 'x'));  // an old, larger file is replaced, not overwritten in place
  plan::write_frontier(sample(false), html);
  plan::write_frontier(sample(false), svg);
  std::ifstream a(html), b(svg);
  std::string sa((std::istreambuf_iterator<char>(a)), {}), sb((std::istreambuf_iterator<char>(b)), {});
  EXPECT_EQ(sa.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(sa.find('x' + std::string(100, 'x')), std::string::npos);
  EXPECT_EQ(sb.rfind("<?xml", 0), 0u);
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path)) ++files, (void)e;
  EXPECT_EQ(files, 2u);  // no temporary left behind
}
