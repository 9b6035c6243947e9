// The emergence section of `scalinglab report STORE`: on a store with hand-made scores whose
// verdicts follow from the rule in emergence/analyze.h (a p^L exact match beside a straight token
// accuracy is "sharp but explained by the metric", a straight exact match is "smooth"), only the
// finished runs' scores in it; a note instead of a section when there are no scores or no curve
// yet; no section for a plain sweep; and through the CLI on a real tiny emergence sweep, the page
// holds exactly the section that the export → analysis → rendering pieces give on their own.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "common/emergence_sweep.h"
#include "common/shell.h"
#include "common/temp_dir.h"
#include "scalinglab/emergence/analysis_html.h"
#include "scalinglab/emergence/analyze.h"
#include "scalinglab/emergence/report_section.h"
#include "scalinglab/emergence/results_export.h"
#include "scalinglab/io/read_file.h"
#include "scalinglab/report/html_report.h"
#include "scalinglab/store/run_store.h"

using namespace scalinglab;
using scalinglab::testing::TempDir;

namespace {

bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// The text from `open` (the first occurrence of it) to the next `close`; empty when absent.
std::string between(const std::string& s, const std::string& open, const std::string& close) {
  const size_t a = s.find(open);
  if (a == std::string::npos) return "";
  const size_t b = s.find(close, a);
  return s.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

// The rows (<tr>…</tr>) of the table with id `id`, header row excluded.
std::vector<std::string> table_rows(const std::string& html, const std::string& id) {
  const std::string body = between(between(html, std::string("id=\"").append(id).append("\""), "</table>"), "<tbody>", "</tbody>");
  std::vector<std::string> rows;
  for (size_t p = body.find("<tr>"); p != std::string::npos; p = body.find("<tr>", p + 4))
    rows.push_back(body.substr(p, body.find("</tr>", p) - p));
  return rows;
}

struct Score {
  std::string task, metric;
  double value;
  int answer_len;
};

// A run of N = `n` parameters scored once, at its end (progress 1), at compute `c`; done unless
// `finish` is false (then it stays queued, its scores recorded anyway).
void add_run(store::RunStore& st, int64_t sweep, const std::string& key, int64_t n, double c,
             const std::vector<Score>& scores, bool finish = true) {
  const int64_t id = st.add_run(sweep, store::NewRun{key, {{"key", key}}, 1, n, n, c / (6.0 * n), c, ""});
  std::vector<store::Evaluation> evals;
  for (const auto& s : scores) {
    store::Evaluation e;
    e.step = 10;
    e.tokens = c / (6.0 * n);
    e.flops = c;
    e.progress = 1;
    e.task = s.task;
    e.metric = s.metric;
    e.value = s.value;
    e.n = 100;
    e.higher_is_better = true;
    e.answer_len = s.answer_len;
    evals.push_back(e);
  }
  st.record_evals(id, evals);
  if (!finish) return;
  EXPECT_TRUE(st.claim_next(sweep, "test"));
  store::RunResult r;
  r.eval_loss = r.train_loss = 4.0 - 0.1 * std::log10(c);
  st.finish_run(id, r);
}

// Eight finished runs, compute 10^18 … 10^21.5: task "jump" with token accuracy p = 0.2 + 0.1·i
// (a straight line: sharpness 1), exact match p^8 at L = 8 (sharp, and p^L tracks it exactly) and
// the per-token log-likelihood ln p; task "ramp" with exact match 0.05 + 0.05·i (straight: smooth,
// not flat). A ninth run, still queued, has scores that would make "ramp" a step if they counted.
std::string known_store(const TempDir& d, const nlohmann::json& spec) {
  const std::string path = d / "known.db";
  auto st = store::RunStore::open(path);
  const int64_t sw = st.create_sweep("known", spec).id;
  for (int i = 0; i < 8; ++i) {
    const double p = 0.2 + 0.1 * i;
    add_run(st, sw, std::string("m").append(std::to_string(i)), 100000 << i, std::pow(10.0, 18 + 0.5 * i),
            {{"jump", "token_accuracy", p, 8},
             {"jump", "exact_match", std::pow(p, 8), 8},
             {"jump", "loglik_per_token", std::log(p), 8},
             {"ramp", "exact_match", 0.05 + 0.05 * i, 1}});
  }
  add_run(st, sw, "queued-giant", 100000 << 9, 1e23, {{"ramp", "exact_match", 1.0, 1}}, false);
  return path;
}

const nlohmann::json kEmergenceSpecJson = {{"name", "known"}, {"emergence", {{"tasks", nlohmann::json::array()}}}};

}  // namespace

TEST(ReportEmergence, KnownScoresGiveTheSectionWithTheirVerdictsFitsAndEmergencePoint) {
  TempDir d;
  const std::string path = known_store(d, kEmergenceSpecJson);
  report::ReportData data;
  EXPECT_EQ(emergence::add_emergence_report(data, path, ""), emergence::EmergenceReport::kSection);
  ASSERT_EQ(data.sections.size(), 1u);
  EXPECT_EQ(data.sections[0].id, "sec-emergence");
  EXPECT_TRUE(data.notes.empty());
  const std::string& s = data.sections[0].html;
  EXPECT_TRUE(has(s, "<section id=\"sec-emergence\">")) << s.substr(0, 200);

  // The verdict table: one row per task (one progress value), each with the verdict the rule gives.
  const auto verdicts = table_rows(s, "emergence-verdicts");
  ASSERT_EQ(verdicts.size(), 2u);
  int seen = 0;
  for (const auto& row : verdicts) {
    if (has(row, "task=jump")) {
      ++seen;
      EXPECT_TRUE(has(row, emergence::kVerdictExplained)) << row;
    }
    if (has(row, "task=ramp")) {
      ++seen;
      EXPECT_TRUE(has(row, std::string(">").append(emergence::kVerdictSmooth).append("<"))) << row;
    }
  }
  EXPECT_EQ(seen, 2);

  // Each metric against compute: the discrete plot (logistic fits, p^L, emergence points) beside
  // the continuous one (q with its power-law fit) for "jump"; "ramp" has no continuous metric.
  const std::string jump = between(s, "<h3>task=jump", "</div>");
  EXPECT_TRUE(has(jump, "<div class=\"grid2\">")) << jump.substr(0, 300);
  EXPECT_TRUE(has(jump, "-discrete")) << "no discrete plot";
  EXPECT_TRUE(has(jump, "-continuous")) << "no continuous plot beside it";
  for (const char* legend : {"logistic fit", "p^L (mirage prediction)", "emergence point", "power-law fit"})
    EXPECT_TRUE(has(jump, legend)) << legend;
  EXPECT_TRUE(has(s, "Compute C (FLOPs)"));  // the exported table has compute: it is the scale
  const std::string ramp = between(s, "<h3>task=ramp", "</div>");
  EXPECT_TRUE(has(ramp, "-discrete"));
  EXPECT_FALSE(has(ramp, "-continuous"));

  // Only finished runs: the queued run's step would have made "ramp" sharp and added a scale.
  EXPECT_FALSE(has(s, "queued-giant"));
  for (const auto& row : table_rows(s, "emergence-curves"))
    EXPECT_TRUE(has(row, "<td>8</td>")) << "curve not over the 8 finished runs: " << row;
  EXPECT_EQ(table_rows(s, "emergence-curves").size(), 4u);

  // The same store gives the same section (seeded bootstrap).
  report::ReportData again;
  emergence::add_emergence_report(again, path, "known");
  EXPECT_EQ(again.sections.at(0).html, s);
  // And the page links it in its navigation.
  EXPECT_TRUE(has(report::render_html(data), "<a href=\"#sec-emergence\">Emergence</a>"));
}

TEST(ReportEmergence, NoScoresOrNoCurveYetGiveANoteAndAPlainSweepNothing) {
  TempDir d;
  {
    auto st = store::RunStore::open(d / "s.db");
    // An emergence sweep whose only scored run is not finished: no scores to export.
    const int64_t early = st.create_sweep("early", kEmergenceSpecJson).id;
    add_run(st, early, "r0", 100000, 1e18, {{"t", "exact_match", 0.5, 2}}, false);
    // One finished run: scores, but a curve needs more model sizes.
    const int64_t one = st.create_sweep("one", kEmergenceSpecJson).id;
    add_run(st, one, "r0", 100000, 1e18, {{"t", "exact_match", 0.5, 2}});
    // A plain sweep, scores or not, has no emergence section.
    const int64_t plain = st.create_sweep("plain", {{"name", "plain"}}).id;
    for (int i = 0; i < 4; ++i) add_run(st, plain, std::string("p").append(std::to_string(i)), 100000 << i, std::pow(10.0, 18 + i), {{"t", "exact_match", 0.2 * i, 2}});
  }
  report::ReportData a;
  EXPECT_EQ(emergence::add_emergence_report(a, d / "s.db", "early"), emergence::EmergenceReport::kNote);
  EXPECT_TRUE(a.sections.empty());
  ASSERT_EQ(a.notes.size(), 1u);
  EXPECT_TRUE(has(a.notes[0], "no finished run has task scores")) << a.notes[0];

  report::ReportData b;
  EXPECT_EQ(emergence::add_emergence_report(b, d / "s.db", "one"), emergence::EmergenceReport::kNote);
  EXPECT_TRUE(b.sections.empty());
  ASSERT_EQ(b.notes.size(), 1u);
  EXPECT_TRUE(has(b.notes[0], "1 finished run(s) have task scores")) << b.notes[0];

  report::ReportData c;
  c.notes.push_back("kept");
  EXPECT_EQ(emergence::add_emergence_report(c, d / "s.db", "plain"), emergence::EmergenceReport::kNotEmergence);
  EXPECT_TRUE(c.sections.empty());
  EXPECT_EQ(c.notes, std::vector<std::string>{"kept"});

  // A missing sweep is named as the option field.
  report::ReportData e;
  try {
    emergence::add_emergence_report(e, d / "s.db", "nope");
    ADD_FAILURE() << "accepted";
  } catch (const std::invalid_argument& err) {
    EXPECT_TRUE(std::string(err.what()).starts_with("sweep: ")) << err.what();
  }
}

TEST(ReportEmergence, CliReportOfARealEmergenceSweepHoldsTheRecomputedSectionAndAPlainOneNone) {
  TempDir d;
  const std::string spec = scalinglab::testing::emergence_spec_file(d);
  const std::string st = d / "store.db";
  ASSERT_EQ(scalinglab::testing::wait_exit(scalinglab::testing::start_sweep_cli({"sweep", "run", spec, "--store", st}, d)), 0);
  auto r = scalinglab::testing::scalinglab_cli("report " + st + " -o " + d / "r.html");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string html = io::read_file(d / "r.html");

  // Independent recomputation from the library's pieces: export, analysis, rendering.
  std::set<std::string> tasks;
  {
    const auto s = store::RunStore::open(st, {store::OpenMode::kReadOnly});
    const io::Table t = emergence::export_results(s, store::select_sweep(s, "").id);
    ASSERT_FALSE(t.rows.empty());
    for (const auto& row : t.rows) tasks.insert(row[*t.find("task")]);
    const std::string want = emergence::render_emergence_section(emergence::analyze_table(t));
    EXPECT_TRUE(has(html, want)) << "the page's emergence section differs from the recomputed one";
  }
  EXPECT_EQ(tasks, (std::set<std::string>{"add2", "mod97"}));
  const auto verdicts = table_rows(html, "emergence-verdicts");
  EXPECT_EQ(verdicts.size(), 8u);  // 2 tasks x 4 checkpoints (1/8, 1/4, 1/2, 1)
  for (const auto& task : tasks) {
    int rows = 0;
    for (const auto& row : verdicts) rows += has(row, std::string("task=").append(task).append(" "));
    EXPECT_EQ(rows, 4) << task;
  }
  EXPECT_TRUE(has(html, "<a href=\"#sec-emergence\">Emergence</a>"));
  EXPECT_TRUE(has(html, "id=\"sec-runs\""));  // the scaling-law part is still there

  // A plain sweep's report (the same store file layout, no emergence block) has no such section.
  const std::string plain = d / "plain.db";
  {
    auto s = store::RunStore::open(plain);
    const int64_t sw = s.create_sweep("plain", {{"name", "plain"}}).id;
    for (int i = 0; i < 4; ++i) add_run(s, sw, std::string("p").append(std::to_string(i)), 100000 << i, std::pow(10.0, 18 + i), {{"t", "exact_match", 0.2 * i, 2}});
  }
  r = scalinglab::testing::scalinglab_cli("report " + plain + " -o " + d / "p.html");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string p = io::read_file(d / "p.html");
  EXPECT_FALSE(has(p, "sec-emergence"));
  EXPECT_FALSE(has(p, "emergence-verdicts"));
}
