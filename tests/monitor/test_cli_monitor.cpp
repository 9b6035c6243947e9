// `scalinglab monitor` end to end: exit codes (0 on track, 3 flagged, 2 bad input), outputs
// (--json, --html), law mode, and --follow on a file another thread is still writing.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/shell.h"
#include "common/temp_dir.h"
#include "monitor/tfevents_writer.h"
#include "scalinglab/fit/fit_json.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/synthetic.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/io/read_file.h"

using scalinglab::testing::scalinglab_cli;
using scalinglab::testing::TempDir;
namespace st = scalinglab::testing;

namespace {

// The eval loss of a run following L(D) = 2.46 + 410.7·D^-0.28 with ±0.2% deterministic
// wiggle, times `bend` from evaluation `bend_at` on.
double curve(int i, double tokens, int bend_at = 0, double bend = 1.0) {
  double l = (2.46 + 410.7 * std::pow(tokens, -0.28)) * (1 + 0.002 * std::sin(1.7 * i));
  return bend_at > 0 && i >= bend_at ? l * bend : l;
}

// llm.c train_gpt2.cu stdout: 400 steps of 65,536 tokens, val loss every 10 steps.
std::string llmc_log(int bend_at = 0, double bend = 1.0) {
  std::string s = "total desired batch size: 65536\n=> calculated gradient accumulation steps: 1\n";
  char buf[200];
  for (int step = 0; step <= 400; ++step) {
    if (step % 10 == 0 && step > 0) {
      std::snprintf(buf, sizeof buf, "val loss %f\n", curve(step / 10, step * 65536.0, bend_at, bend));
      s += buf;
    }
    if (step == 400) break;
    std::snprintf(buf, sizeof buf, "step %4d/400: train loss %f norm 1.2345 lr 6.00e-04 (120.50 ms, 543876 tok/s)\n", step + 1,
                  curve(step, (step + 1) * 65536.0) * 1.05);
    s += buf;
  }
  return s;
}

std::string csv_run(int evals, int bend_at = 0, double bend = 1.0) {
  std::string s = "step,tokens,val_loss\n";
  for (int i = 1; i <= evals; ++i) {
    double t = i * 1.2e8;
    s += std::to_string(i * 100) + "," + std::to_string(static_cast<long long>(t)) + "," + std::to_string(curve(i, t, bend_at, bend)) + "\n";
  }
  return s;
}

nlohmann::json load(const std::string& path) { return nlohmann::json::parse(scalinglab::io::read_file(path)); }

}  // namespace

TEST(CliMonitor, OnTrackLlmcLogExitsZero) {
  TempDir dir;
  std::string log = dir.file("main.out", llmc_log());
  auto r = scalinglab_cli("monitor " + log + " --json " + (dir / "m.json") + " --html " + (dir / "m.html"));
  EXPECT_EQ(r.code, 0) << r.out;
  // The log states its length (step k/400): the window is its first 30%, evaluations at steps 10…120.
  EXPECT_NE(r.out.find("calibrated on 12 evaluations"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("on track"), std::string::npos) << r.out;
  auto j = load(dir / "m.json");
  EXPECT_EQ(j["schema"], "scalinglab.monitor/2");
  EXPECT_EQ(j["schedule"]["lr"], "log");
  EXPECT_EQ(j["schedule"]["planned_steps"], 400);
  EXPECT_EQ(j["reference"]["law"], "lr-annealing");
  EXPECT_GE(j["reference"]["alpha"].get<double>(), 0.02);  // a physical curve: positive exponent, floor ≥ 0
  EXPECT_GE(j["reference"]["L0"].get<double>(), 0.0);
  // The final estimate (at step 400, the log's stated end) brackets the last evaluation.
  const double last = j["points"].back()["loss"].get<double>();
  EXPECT_LE(j["final_estimate"]["pi"][0].get<double>(), last);
  EXPECT_GE(j["final_estimate"]["pi"][1].get<double>(), last);
  EXPECT_EQ(j["metric"], "eval");
  EXPECT_EQ(j["format"], "log");
  EXPECT_EQ(j["points"].size(), 40u);
  EXPECT_EQ(j["evaluated"], 28);
  EXPECT_FALSE(j["flagged"].get<bool>());
  EXPECT_DOUBLE_EQ(j["points"][9]["tokens"].get<double>(), 100 * 65536.0);  // val after step 100/400
  std::string html = scalinglab::io::read_file(dir / "m.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("on track"), std::string::npos);
  EXPECT_EQ(html.find("http-equiv=\"refresh\""), std::string::npos);  // not following: a final page
  EXPECT_EQ(html.find("<script"), std::string::npos);  // nothing runs, nothing is fetched
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
}

TEST(CliMonitor, BentRunIsFlaggedWithExitCodeThree) {
  TempDir dir;
  std::string log = dir.file("run.csv", csv_run(50, 30, 1.02));
  auto r = scalinglab_cli("monitor " + log + " --final-tokens 6e9 --json " + (dir / "m.json"));
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("warning: " + log + ":"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("off track: 3 consecutive evaluations above"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("OFF TRACK (exit code 3)"), std::string::npos) << r.out;
  auto j = load(dir / "m.json");
  EXPECT_TRUE(j["flagged"].get<bool>());
  ASSERT_FALSE(j["warnings"].empty());
  EXPECT_EQ(j["warnings"][0]["kind"], "off-track");
  EXPECT_EQ(j["warnings"][0]["line"], 33);  // evaluation 32 is the 3rd after the bend; line 1 is the header
  EXPECT_FALSE(j["final_estimate"].is_null());
}

TEST(CliMonitor, DivergedRunIsFlagged) {
  TempDir dir;
  std::string log = dir.file("run.csv", "step,tokens,loss\n1,100,5\n2,200,4.8\n3,300,nan\n");
  auto r = scalinglab_cli("monitor " + log + " --calibrate-points 6");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("diverged"), std::string::npos) << r.out;
}

TEST(CliMonitor, LawModeAgainstAFittedLaw) {
  TempDir dir;
  // A law fitted by the engine to synthetic runs with 0.5% scatter, as `scalinglab fit --json` writes it.
  scalinglab::fit::ChinchillaParams truth{1.69, 406.4, 410.7, 0.34, 0.28};
  scalinglab::fit::SyntheticDesign d;
  d.c_min = 1e18;
  d.c_max = 1e20;
  d.noise = 0.005;
  scalinglab::fit::FitOptions o;
  o.method = scalinglab::fit::Method::kVarPro;
  o.bootstrap = 100;
  o.threads = 1;
  auto rep = scalinglab::fit::fit(*scalinglab::fit::make_law("chinchilla"), scalinglab::fit::make_synthetic(truth, d), o);
  std::string law = dir / "fit.json";
  scalinglab::io::write_file_atomic(law, scalinglab::fit::to_json(rep).dump());
  std::string ok = "step,tokens,val_loss\n", bent = ok;
  for (int i = 1; i <= 40; ++i) {
    double t = 6e9 * i / 40, l = truth.loss(3e8, t) * (1 + 0.002 * std::sin(1.3 * i));
    ok += std::to_string(i) + "," + std::to_string(t) + "," + std::to_string(l) + "\n";
    bent += std::to_string(i) + "," + std::to_string(t) + "," + std::to_string(i >= 20 ? 1.03 * l : l) + "\n";
  }
  auto r = scalinglab_cli("monitor " + dir.file("ok.csv", ok) + " --law " + law + " --params 3e8 --final-tokens 6e9");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("the law predicts"), std::string::npos) << r.out;
  r = scalinglab_cli("monitor " + dir.file("bent.csv", bent) + " --law " + law + " --params 3e8 --summary");
  EXPECT_EQ(r.code, 3) << r.out;
  r = scalinglab_cli("monitor " + (dir / "ok.csv") + " --law " + law);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--params"), std::string::npos) << r.out;
  // A law predicts at tokens: a log without them needs --tokens-per-step (the curve mode does not).
  r = scalinglab_cli("monitor " + dir.file("b.log", "s:10 tel:4.2\ns:20 tel:4.1\n") + " --law " + law + " --params 3e8");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("b.log:1: no token count"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--tokens-per-step"), std::string::npos) << r.out;
  r = scalinglab_cli("monitor " + (dir / "b.log") + " --summary");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("summary: 2 evaluations of the eval loss"), std::string::npos) << r.out;
}

TEST(CliMonitor, BadInputExitsTwoWithOneLine) {
  TempDir dir;
  auto r = scalinglab_cli("monitor " + dir.file("a.csv", "step,tokens,loss\n1,100,5\n2,200,x5\n"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("a.csv:3: column 'loss': expected a number, got 'x5'"), std::string::npos) << r.out;
  // A corrupted event file.
  std::string f = st::record(st::file_version_event(1.0)) + st::record(st::event(1.0, 10, {st::simple_value("val/loss", 4.f)}));
  f[f.size() - 9] ^= 1;
  r = scalinglab_cli("monitor " + dir.file("events.out.tfevents.1.h", f) + " --tokens-per-step 1000");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("record 2 at byte offset"), std::string::npos) << r.out;
  // Nothing the monitor recognises.
  r = scalinglab_cli("monitor " + dir.file("c.log", "hello\nworld\n"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("loss values found (format log)"), std::string::npos) << r.out;
  r = scalinglab_cli("monitor " + dir.file("d.csv", "step,loss\n1,2\n") + " --format parquet");
  EXPECT_EQ(r.code, 2) << r.out;
  // A truncated last line is a warning, the rest is monitored.
  r = scalinglab_cli("monitor " + dir.file("e.jsonl", "{\"tokens\": 1e6, \"val_loss\": 5}\n{\"tokens\": 2e6, \"val_lo") +
                     " --calibrate-points 6");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("warning: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("e.jsonl:2:"), std::string::npos) << r.out;
}

TEST(CliMonitor, FollowReadsAGrowingFileUntilTheTimeout) {
  TempDir dir;
  std::string path = dir / "live.log";
  std::string html = dir / "live.html", json = dir / "live.json";
  // nanoGPT-style log written in bursts by another thread; one line is written in two halves.
  std::thread writer([&] {
    std::ofstream out(path, std::ios::binary);
    out << "tokens per iteration will be: 1,000,000\n" << std::flush;
    for (int i = 1; i <= 24; ++i) {
      char line[160];
      std::snprintf(line, sizeof line, "step %d: train loss %.4f, val loss %.4f\n", i * 10, 1.05 * curve(i, i * 1e7),
                    curve(i, i * 1e7));
      std::string s = line;
      if (i == 12) {
        out << s.substr(0, 17) << std::flush;  // "step 120: train l"
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        out << s.substr(17) << std::flush;
      } else {
        out << s << std::flush;
      }
      if (i % 4 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(150));
    }
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r = scalinglab_cli("monitor " + path + " --follow --follow-timeout 1.5 --poll 0.05 --calibrate-points 8 --html " +
                          html + " --json " + json);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  writer.join();
  EXPECT_EQ(r.code, 0) << r.out;
  auto j = load(json);
  EXPECT_EQ(j["points"].size(), 24u) << r.out;
  EXPECT_EQ(j["points"][11]["step"], 120);
  EXPECT_DOUBLE_EQ(j["points"][11]["tokens"].get<double>(), 120e6);
  for (const auto& w : j["warnings"]) ADD_FAILURE() << w.dump();
  EXPECT_EQ(r.out.find("no newline"), std::string::npos) << r.out;  // the half line was waited for
  EXPECT_GE(elapsed, 1.5 + 1.0);  // ≥ 1 s of writing, then the timeout without growth
  EXPECT_LT(elapsed, 20);
  EXPECT_NE(scalinglab::io::read_file(html).find("<svg"), std::string::npos);
}

// `--json -` prints only the JSON (it parses whole), with the series, restarts and ignored lines;
// control bytes from a log never reach the terminal raw.
TEST(CliMonitor, JsonOnStdoutIsOnlyJsonAndControlBytesAreEscaped) {
  TempDir dir;
  std::string text = "config line with a bell \a and an escape \x1b[2J\n";
  for (int s = 10; s <= 200; s += 10) text += "s:" + std::to_string(s) + " tel:" + std::to_string(3.0 + 20.0 / s) + "\n";
  for (int s = 150; s <= 300; s += 10) text += "s:" + std::to_string(s) + " tel:" + std::to_string(3.0 + 20.0 / s) + "\n";
  std::string log = dir.file("main.log", text);
  auto r = scalinglab_cli("monitor " + log + " --json -");
  EXPECT_EQ(r.code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["schema"], "scalinglab.monitor/2");
  ASSERT_EQ(j["restarts"].size(), 1u);
  EXPECT_EQ(j["restarts"][0]["to"], 150);
  EXPECT_EQ(j["restarts"][0]["points_replaced"], 6);  // 150 … 200
  EXPECT_EQ(j["points"].size(), 30u);                 // 10 … 140, then 150 … 300
  EXPECT_GE(j["ignored"]["lines"].get<long>(), 1);
  // The human summary names the restart and the ignored line, escaped.
  r = scalinglab_cli("monitor " + log + " --summary");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("restart at line 22"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "a raw ESC reached the terminal";
  EXPECT_EQ(r.out.find('\a'), std::string::npos) << "a raw BEL reached the terminal";
  // An error quoting a bad line: escaped too.
  r = scalinglab_cli("monitor " + dir.file("bad.csv", "step,loss\n1,4.\x1b[31m5\n"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("\\x1b"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
}
