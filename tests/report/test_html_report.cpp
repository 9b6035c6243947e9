// The page as a whole: every section for full data, omitted sections for missing data, escaping
// of every user-supplied string, nothing that would load from the network, atomic writing, and
// the adapter from fit results.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "scalinglab/report/escape.h"
#include "scalinglab/report/html_report.h"
#include "synthetic_report.h"

namespace scalinglab::report {
namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// Hand-made data with every section, some intervals missing (NaN).
ReportData full_data() {
  ReportData d;
  d.title = "Full";
  d.subtitle = "L = E + A/N^α + B/D^β";
  for (double n : {1e6, 1e7, 1e8}) {
    Curve c{"n" + std::to_string(static_cast<long>(n)), n, {}};
    for (double t : {1e6, 1e7, 1e8}) c.points.push_back({t, 6 * n * t, 2 + 100 / std::pow(n * t, 0.1)});
    d.runs.push_back(c);
  }
  for (double c : {1e17, 1e18}) {
    IsoflopCurve b;
    b.c = c;
    for (double n : {1e7, 3e7, 1e8, 3e8}) b.points.push_back({n, 3 + 0.05 * std::pow(std::log(n / 5e7), 2)});
    b.has_parabola = true;
    double u0 = std::log(5e7);
    b.c0 = 3 + 0.05 * u0 * u0, b.c1 = -0.1 * u0, b.c2 = 0.05;
    b.n_opt = 5e7, b.loss_opt = 3;
    d.isoflop.push_back(b);
  }
  Frontier f;
  f.points = {{1e17, {5e7, 4e7, 6e7}, {3e8, NAN, NAN}}, {1e18, {1.6e8, 1.2e8, 2e8}, {1e9, 8e8, 1.2e9}}};
  f.n_fit = PowerLawLine{5e7 / std::pow(1e17, 0.5), {0.5, 0.45, 0.55}, {}};
  f.d_fit = PowerLawLine{3e8 / std::pow(1e17, 0.5), {0.5, 0.45, 0.55}, {{1e17, 2e8, 4e8}, {1e18, 8e8, 1.3e9}}};
  d.frontier = f;
  d.held_out = {{"big", 1e19, 2.9, 2.8, 3.0, 2.95}, {"bigger", 1e20, 2.7, 2.65, 2.75, 2.8}};
  d.residuals = Residuals{};
  d.residuals->points = {{1e17, 0.01, "a"}, {1e18, -0.02, "b"}};
  d.params = {{"E", 1.7, 0.05, 1.6, 1.8}, {"alpha", 0.34, NAN, NAN, NAN}};
  d.planner = {{1e21, {1e9, 8e8, 1.2e9}, {1.6e11, NAN, NAN}, {2.1, 2.0, 2.2}}};
  d.notes = {"a note"};
  d.warnings = {"a warning"};
  return d;
}

TEST(HtmlReport, SkippedIsoflopBudgetsAreDrawnApartAndListedWithTheirReason) {
  ReportData d = full_data();
  std::string before = render_html(d);
  EXPECT_FALSE(has(before, "Budgets not used"));
  EXPECT_FALSE(has(before, "skipped budget (not fitted)"));
  IsoflopCurve& b = d.isoflop[1];
  b.used = false;
  b.n_opt = b.loss_opt = NAN;
  b.note = "minimum outside the sampled N (or D) range: vertex at N = 3e9 lies outside [1e7, 3e8]";
  std::string html = render_html(d);
  // The list names the budget and its reason; the plot's legend explains the grey dashed marks.
  EXPECT_TRUE(has(html, "Budgets not used (grey squares, dashed parabola)"));
  EXPECT_TRUE(has(html, "<li>C = " + format_number(1e18, 3) +
                            ": minimum outside the sampled N (or D) range: vertex at N = 3e9"))
      << html;
  EXPECT_TRUE(has(html, "skipped budget (not fitted)"));
  EXPECT_GT(count(html, "stroke-dasharray=\"4 3\""), count(before, "stroke-dasharray=\"4 3\""));
  EXPECT_GT(count(html, "<rect"), count(before, "<rect"));  // square markers
  EXPECT_TRUE(has(html, "skipped: minimum outside"));       // in the tooltips
  // A kept, extrapolated vertex is used (a diamond) and listed separately.
  d = full_data();
  d.isoflop[0].extrapolated = true;
  d.isoflop[0].note = "extrapolated: vertex at N = 3e9";
  html = render_html(d);
  EXPECT_TRUE(has(html, "extrapolated minimum (kept)"));
  EXPECT_TRUE(has(html, "<ul class=\"extrapolated\"><li>C = " + format_number(1e17, 3) + ": extrapolated: vertex at N = 3e9"));
}

TEST(HtmlReport, FullDataHasEverySectionAndPlot) {
  std::string html = render_html(full_data());
  for (const char* id : {"sec-warnings", "sec-runs", "sec-isoflop", "sec-frontier", "sec-holdout", "sec-residuals",
                         "sec-params", "sec-planner", "sec-notes"}) {
    EXPECT_EQ(count(html, std::string("id=\"") + id + "\""), 1u) << id;
    EXPECT_TRUE(has(html, std::string("href=\"#") + id + "\"")) << id;  // and in the navigation
  }
  for (const char* id : {"plot-loss-tokens", "plot-loss-flops", "plot-isoflop", "plot-n-opt", "plot-d-opt",
                         "plot-holdout", "plot-residuals"}) {
    EXPECT_EQ(count(html, std::string("<svg class=\"plot\" id=\"") + id + "\""), 1u) << id;
  }
  EXPECT_EQ(count(html, "<svg"), 7u);
  // The things each plot is about.
  EXPECT_TRUE(has(html, "Chinchilla slope 0.5"));
  EXPECT_TRUE(has(html, "y = x"));
  EXPECT_TRUE(has(html, "class=\"colorbar\""));
  EXPECT_TRUE(has(html, "class=\"band\""));
  EXPECT_TRUE(has(html, "class=\"errorbars\""));
  EXPECT_TRUE(has(html, "data-tip="));
  // "bigger" was predicted 2.7 [2.65, 2.75] but reached 2.8: flagged as missed.
  EXPECT_TRUE(has(html, "interval misses actual"));
  EXPECT_TRUE(has(html, "interval covers actual"));
  // Missing numbers print as a dash, never as nan or inf.
  EXPECT_FALSE(has(html, "nan"));
  EXPECT_FALSE(has(html, "inf"));
}

TEST(HtmlReport, ApproachOneAndTheApproachTableAppearWhenGiven) {
  ReportData d = testing::synthetic_report();
  std::string html = render_html(d);
  EXPECT_EQ(count(html, "id=\"sec-approaches\""), 1u);
  EXPECT_TRUE(has(html, "href=\"#sec-approaches\""));
  EXPECT_TRUE(has(html, "Approach 1: training-curve envelope"));
  EXPECT_TRUE(has(html, "&lt;b&gt;not bold&lt;/b&gt;"));  // notes are text
  ASSERT_TRUE(d.frontier);
  EXPECT_FALSE(d.frontier->envelope_points.empty());
  EXPECT_LE(d.frontier->envelope_points.size(), 120u);  // thinned from 1,500 samples
  // Both frontier plots carry the envelope's points and its fitted line.
  EXPECT_GE(count(html, "envelope (approach 1)"), 2u);  // in each plot (and its legend)
  EXPECT_GE(count(html, "approach 1 ∝ C^"), 2u);
  EXPECT_TRUE(has(html, "#2e8b57"));  // drawn, in its own colour
  d.approaches.clear();
  d.frontier->envelope_points.clear();
  d.frontier->envelope_n_fit.reset();
  d.frontier->envelope_d_fit.reset();
  html = render_html(d);
  EXPECT_FALSE(has(html, "sec-approaches"));
  EXPECT_FALSE(has(html, "envelope (approach 1)"));
  EXPECT_FALSE(has(html, "approach 1 ∝ C^"));
}

TEST(HtmlReport, BacktestSectionHasARowPerCandidateWithTheChoiceMarked) {
  ReportData d;
  d.backtest_rule = "fit the lower budgets, predict the top one";
  d.backtest = {{"chinchilla", 0.031, 0.03, false, ""},
                {"kaplan-nd", 0.0123, -0.011, true, ""},
                {"mean of chinchilla and kaplan-nd", NAN, NAN, false, "rollout 1: a law of the combination failed"}};
  std::string html = render_html(d);
  ASSERT_TRUE(has(html, "id=\"sec-backtest\"")) << html;
  EXPECT_TRUE(has(html, "fit the lower budgets, predict the top one"));
  EXPECT_TRUE(has(html, "<td>kaplan-nd</td><td>1.23%</td><td>-1.1%</td><td><strong>chosen</strong></td>")) << html;
  EXPECT_TRUE(has(html, "<td>chinchilla</td><td>3.1%</td><td>3%</td><td></td>")) << html;
  EXPECT_TRUE(has(html, "no score: rollout 1: a law of the combination failed"));
  EXPECT_EQ(count(html, "<strong>chosen</strong>"), 1u);
  EXPECT_FALSE(has(render_html(ReportData{}), "sec-backtest"));
}

TEST(HtmlReport, MissingSectionsAreOmitted) {
  std::string empty = render_html(ReportData{});
  EXPECT_EQ(count(empty, "<svg"), 0u);
  EXPECT_FALSE(has(empty, "<section"));
  EXPECT_TRUE(has(empty, "No data to show"));

  ReportData only;
  only.params = {{"E", 1.7, 0.1, 1.5, 1.9}};
  std::string html = render_html(only);
  EXPECT_TRUE(has(html, "id=\"sec-params\""));
  EXPECT_EQ(count(html, "<section"), 1u);
  EXPECT_EQ(count(html, "<svg"), 0u);

  // A frontier without fitted lines or planner still plots its points; held-out runs without
  // finite numbers produce no empty plot.
  ReportData f;
  f.frontier = Frontier{};
  f.frontier->points = {{1e17, {5e7}, {3e8}}, {1e18, {1.5e8}, {1e9}}};
  f.held_out = {{"x", NAN, NAN, NAN, NAN, NAN}};
  html = render_html(f);
  EXPECT_TRUE(has(html, "id=\"plot-n-opt\""));
  EXPECT_FALSE(has(html, "sec-holdout"));
}

TEST(HtmlReport, UserStringsAreEscapedEverywhere) {
  const std::string evil = "<script>alert(1)</script>";
  const std::string escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
  ReportData d = full_data();
  d.title = evil;
  d.subtitle = evil;
  d.runs[0].name = evil;
  d.held_out[0].name = evil;
  d.residuals->points[0].label = evil;
  d.params[0].name = evil;
  d.notes = {evil};
  d.warnings = {evil};
  d.isoflop[0].note = evil;
  d.residuals->x_label = evil;
  std::string html = render_html(d);
  // Exactly one script element: the report's own tooltip script.
  EXPECT_EQ(count(html, "<script"), 1u);
  EXPECT_FALSE(has(html, "alert(1)</script>"));
  EXPECT_GE(count(html, escaped), 9u);
  // Quotes cannot break out of an attribute either.
  d = full_data();
  d.runs[0].name = "\" onmouseover=\"alert(2)";
  html = render_html(d);
  EXPECT_FALSE(has(html, "\" onmouseover=\"alert(2)"));
  EXPECT_TRUE(has(html, "&quot; onmouseover=&quot;alert(2)"));
}

TEST(HtmlReport, LoadsNothingFromTheNetwork) {
  std::string html = render_html(full_data());
  // The SVG namespace is an identifier, not a fetch; nothing else may name a URL.
  const std::string ns = "http://www.w3.org/2000/svg";
  for (size_t p; (p = html.find(ns)) != std::string::npos;) html.erase(p, ns.size());
  for (const char* bad : {"http:", "https:", "//cdn", "<link", "src=", "@import", "@font-face", "<iframe", "<img"}) {
    EXPECT_FALSE(has(html, bad)) << bad;
  }
  for (size_t p = html.find("url("); p != std::string::npos; p = html.find("url(", p + 1)) {
    EXPECT_EQ(html.compare(p, 5, "url(#"), 0) << html.substr(p, 40);  // only in-document references
  }
  EXPECT_TRUE(has(html, "Content-Security-Policy\" content=\"default-src 'none'"));
}

TEST(HtmlReport, WriteReportReplacesTheFileAtomically) {
  auto dir = std::filesystem::temp_directory_path() / ("scalinglab-report-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "report.html").string();
  { std::ofstream(path) << "old"; }
  ReportData d = full_data();
  write_report(d, path);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), render_html(d));
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator{}), 1);
  std::filesystem::remove_all(dir);
  EXPECT_THROW(write_report(d, "/nonexistent-dir/x/report.html"), std::runtime_error);
}

TEST(FromFit, SyntheticFitFillsEverySection) {
  ReportData d = testing::synthetic_report();
  EXPECT_EQ(d.params.size(), 5u + 3u);  // E, A, B, alpha, beta and the derived a, b, G
  EXPECT_EQ(d.held_out.size(), 4u);
  EXPECT_EQ(d.planner.size(), 3u);
  ASSERT_TRUE(d.frontier);
  EXPECT_EQ(d.isoflop.size(), 5u);
  ASSERT_TRUE(d.frontier->n_fit);
  // N_opt ∝ C^a for L = E + A/N^α + B/D^β has a = β/(α+β) = 0.45 for the truth used here.
  EXPECT_NEAR(d.frontier->n_fit->exponent.value, 0.28 / 0.62, 0.08);
  EXPECT_FALSE(d.frontier->n_fit->band.empty());
  ASSERT_TRUE(d.residuals);
  EXPECT_GT(d.residuals->points.size(), 20u);
  std::string html = render_html(d);
  EXPECT_EQ(count(html, "<svg"), 7u);
  EXPECT_FALSE(has(html, "nan"));
}

}  // namespace
}  // namespace scalinglab::report
