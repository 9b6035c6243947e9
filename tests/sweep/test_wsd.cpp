// The WSD design (Hägele et al. 2024; Hu et al. 2024): one constant-lr trunk per size with
// cooldown branches. Checked here:
//   * plan(): the branches' durations, where each cooldown starts (against train::learning_rate),
//     that trunk and branch agree on every lr before the branch step, the compute accounting, and
//     the refusals naming their field;
//   * a branch's final losses equal, bit for bit, those of an independent single WSD run of length
//     D_k (same seed, one thread), and the branch never retrained the trunk's prefix;
//   * kill -9 at several moments of a WSD sweep, then resume: every branch exactly once, final
//     losses equal to the uninterrupted sweep's.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "common/shell.h"
#include "common/cli_process.h"
#include "common/temp_dir.h"
#include "scalinglab/io/read_file.h"
#include "scalinglab/run/train_run.h"
#include "scalinglab/store/run_store.h"
#include "scalinglab/sweep/sweep_spec.h"
#include "scalinglab/train/checkpoint.h"
#include "scalinglab/train/schedule.h"

using namespace scalinglab;
using scalinglab::testing::TempDir;
namespace fs = std::filesystem;

namespace {

sweep::SweepSpec small_wsd() {
  sweep::SweepSpec s;
  s.family.ctx = 32;
  s.hyper.batch_tokens = 256;
  s.design.kind = sweep::DesignKind::kWsd;
  s.design.n_min = 1e4;
  s.design.n_max = 4e4;
  s.design.sizes = 3;
  s.design.tokens_per_param = {20, 5, 10};  // unsorted on purpose
  s.design.cooldown_frac = 0.25;
  return s;
}

std::string refusal(const sweep::SweepSpec& s) {
  try {
    sweep::plan(s);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(WsdPlan, BranchesLeaveTheTrunkWhereTheirCooldownStarts) {
  const sweep::SweepSpec s = small_wsd();
  const auto runs = sweep::plan(s);
  ASSERT_EQ(runs.size(), 9u);  // 3 sizes x 3 durations, one seed
  const std::regex key_re(R"(N\d\.\d\de\+\d\d-D\d\.\d\de\+\d\d-wsd-s1)");
  std::map<std::string, std::vector<const sweep::PlannedRun*>> by_trunk;
  std::set<std::string> keys;
  for (const auto& r : runs) {
    ASSERT_TRUE(r.wsd.has_value()) << r.key;
    EXPECT_TRUE(std::regex_match(r.key, key_re)) << r.key;
    EXPECT_TRUE(keys.insert(r.key).second) << r.key;
    by_trunk[r.wsd->trunk_key].push_back(&r);
  }
  ASSERT_EQ(by_trunk.size(), 3u);
  double independent = 0, trained = 0;
  for (const auto& [trunk_key, branches] : by_trunk) {
    ASSERT_EQ(branches.size(), 3u) << trunk_key;
    const run::RunSpec& trunk = branches[0]->wsd->trunk;
    const double n = branches[0]->n;
    const uint64_t tps = trunk.tokens_per_step();
    EXPECT_EQ(trunk.schedule.kind, train::ScheduleKind::kConstant);
    std::set<double> ratios;
    uint64_t b_max = 0;
    for (const auto* r : branches) {
      const run::RunSpec& b = r->spec;
      EXPECT_EQ(r->wsd->trunk_key, trunk_key);
      // Shared with the trunk: everything that decides the first b_k steps.
      EXPECT_EQ(b.batch, trunk.batch);
      EXPECT_EQ(b.seed, trunk.seed);
      EXPECT_EQ(b.schedule.peak_lr, trunk.schedule.peak_lr);
      EXPECT_EQ(b.resolved_schedule().warmup_steps, trunk.resolved_schedule().warmup_steps);
      EXPECT_EQ(b.schedule.kind, train::ScheduleKind::kWsd);
      EXPECT_EQ(b.schedule.cooldown_frac, 0.25);
      // D_k = r_k·N rounded up to whole steps; the run ends at exactly D_k.
      const double ratio = r->d / n;
      const uint64_t steps = b.steps();
      EXPECT_EQ(r->d, static_cast<double>(steps * tps));
      EXPECT_EQ(r->c, 6 * n * r->d);
      bool matched = false;
      for (double want : {5.0, 10.0, 20.0})
        if (static_cast<uint64_t>(std::ceil(want * n / static_cast<double>(tps))) == steps) {
          ratios.insert(want);
          matched = true;
        }
      EXPECT_TRUE(matched) << r->key << " D/N " << ratio;
      // The cooldown starts at s_k·(1 − f) (rounded as the schedule rounds it): step b_k is the
      // cooldown's first update (progress 0, lr still at peak), the lr falls from the next one on
      // and reaches 0 at the run's end.
      const uint64_t bk = r->wsd->branch_step;
      EXPECT_EQ(bk, steps - static_cast<uint64_t>(std::llround(0.25 * static_cast<double>(steps))));
      EXPECT_NEAR(static_cast<double>(bk), 0.75 * static_cast<double>(steps), 0.5 + 1e-9);
      const auto bs = b.resolved_schedule(), ts = trunk.resolved_schedule();
      EXPECT_EQ(train::learning_rate(bs, bk), b.schedule.peak_lr);
      EXPECT_LT(train::learning_rate(bs, bk + 1), b.schedule.peak_lr);
      EXPECT_EQ(train::learning_rate(bs, steps), 0.0);
      for (uint64_t step = 0; step <= bk; ++step)
        ASSERT_EQ(train::learning_rate(bs, step), train::learning_rate(ts, step)) << r->key << " step " << step;
      EXPECT_EQ(r->wsd->trunk_branch_steps.size(), 3u);
      b_max = std::max(b_max, bk);
      independent += r->c;
      trained += 6 * n * static_cast<double>((steps - bk) * tps);  // the cooldown
    }
    EXPECT_EQ(ratios.size(), 3u);
    EXPECT_EQ(trunk.steps(), b_max);  // the trunk goes no further than its last branch
    trained += 6 * n * static_cast<double>(b_max * tps);  // the trunk, once
  }
  const sweep::PlanCompute pc = sweep::plan_compute(runs);
  EXPECT_EQ(pc.trunks, 3);
  EXPECT_EQ(pc.runs, 9);
  EXPECT_NEAR(pc.independent, independent, 1e-9 * independent);
  EXPECT_NEAR(pc.trained, trained, 1e-9 * trained);
  // Durations 5, 10, 20 with f = 0.25: trunk 15·N + cooldowns 1.25+2.5+5 = 23.75·N of 35·N.
  EXPECT_NEAR(pc.trained / pc.independent, 23.75 / 35, 0.02);

  // Shortest durations first in the claim order, so that trunks of different sizes run in parallel.
  EXPECT_NE(runs[0].wsd->trunk_key, runs[1].wsd->trunk_key);
  EXPECT_LT(runs[0].d / runs[0].n, runs.back().d / runs.back().n);
}

TEST(WsdPlan, TrunkAndBranchesShareOneBeta2UnderTheRunLengthRule) {
  sweep::SweepSpec s = small_wsd();
  s.hyper.beta2_run_frac = 0.05;  // would give each duration its own beta2 if applied per branch
  s.hyper.beta2_max = 0.999;
  std::set<double> betas;
  for (const auto& r : sweep::plan(s)) {
    ASSERT_TRUE(r.wsd.has_value());
    EXPECT_EQ(r.spec.adamw.beta2, r.wsd->trunk.adamw.beta2) << r.key;
    betas.insert(r.spec.adamw.beta2);
  }
  // The shortest duration's value, per size: a branch must stay bit-identical to its trunk prefix.
  EXPECT_LE(betas.size(), 3u);
}

TEST(WsdPlan, SpecRoundTripsThroughJsonAndTheStoredRunSpec) {
  auto j = nlohmann::json::parse(R"({"design": {"kind": "wsd", "sizes": 3, "n_min": 1e4, "n_max": 4e4,
      "tokens_per_param": [5, 10, 20], "cooldown_frac": 0.3}, "family": {"ctx": 32}, "hyper": {"batch_tokens": 256}})");
  sweep::SweepSpec s = sweep::sweep_from_json(j);
  EXPECT_EQ(s.design.kind, sweep::DesignKind::kWsd);
  EXPECT_EQ(s.design.cooldown_frac, 0.3);
  sweep::SweepSpec back = sweep::sweep_from_json(sweep::to_json(s));
  EXPECT_EQ(sweep::to_json(back), sweep::to_json(s));
  // Other designs keep the spec JSON they had before WSD existed (stores made then still resume).
  EXPECT_FALSE(sweep::to_json(sweep::SweepSpec{})["design"].contains("cooldown_frac"));
  auto runs = sweep::plan(s);
  for (const auto& r : runs) {
    auto stored = sweep::stored_spec(r);
    auto w = sweep::wsd_branch_from_json(stored);
    ASSERT_TRUE(w.has_value());
    EXPECT_EQ(w->trunk_key, r.wsd->trunk_key);
    EXPECT_EQ(w->branch_step, r.wsd->branch_step);
    EXPECT_EQ(w->trunk_branch_steps, r.wsd->trunk_branch_steps);
    EXPECT_EQ(run::to_json(w->trunk), run::to_json(r.wsd->trunk));
    EXPECT_EQ(run::to_json(run::spec_from_json(stored)), run::to_json(r.spec));
  }
  sweep::SweepSpec grid;
  grid.design.kind = sweep::DesignKind::kGrid;
  EXPECT_FALSE(sweep::wsd_branch_from_json(sweep::stored_spec(sweep::plan(grid).front())).has_value());
}

TEST(WsdPlan, RefusesBadSpecsNamingTheField) {
  for (double f : {0.0, 1.0, -0.1, 1.5, double(NAN)}) {
    sweep::SweepSpec s = small_wsd();
    s.design.cooldown_frac = f;
    EXPECT_NE(refusal(s).find("design.cooldown_frac"), std::string::npos) << f << ": " << refusal(s);
  }
  {  // the cooldown of the shortest duration would start inside the warmup
    sweep::SweepSpec s = small_wsd();
    s.hyper.warmup_frac = 0.8;
    const std::string e = refusal(s);
    EXPECT_NE(e.find("design.tokens_per_param"), std::string::npos) << e;
    EXPECT_NE(e.find("warmup"), std::string::npos) << e;
  }
  {
    sweep::SweepSpec s = small_wsd();
    s.design.tokens_per_param = {5, -1};
    EXPECT_NE(refusal(s).find("design.tokens_per_param"), std::string::npos) << refusal(s);
    s.design.tokens_per_param = {};
    EXPECT_NE(refusal(s).find("design.tokens_per_param"), std::string::npos) << refusal(s);
  }
  {
    sweep::SweepSpec s = small_wsd();
    s.design.sizes = 2;
    EXPECT_NE(refusal(s).find("design.sizes"), std::string::npos) << refusal(s);
  }
  EXPECT_THROW(sweep::sweep_from_json(nlohmann::json::parse(R"({"design": {"kind": "wsd", "cooldown_frac": "x"}})")),
               std::invalid_argument);
  try {
    sweep::sweep_from_json(nlohmann::json::parse(R"({"design": {"kind": "trapezoid"}})"));
    ADD_FAILURE() << "unknown design kind accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("\"wsd\""), std::string::npos) << e.what();
  }
}

TEST(WsdPlan, SweepPlanReportsTheComputeSaved) {
  TempDir d;
  const std::string spec = d.file("spec.json", R"({"family": {"ctx": 32}, "hyper": {"batch_tokens": 256},
      "design": {"kind": "wsd", "n_min": 1e4, "n_max": 4e4, "sizes": 3, "tokens_per_param": [5, 10, 20], "cooldown_frac": 0.25}})");
  const auto pc = sweep::plan_compute(sweep::plan(sweep::sweep_from_json(nlohmann::json::parse(io::read_file(spec)))));
  auto r = scalinglab::testing::scalinglab_cli("sweep plan " + spec + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["runs"].size(), 9u);
  EXPECT_DOUBLE_EQ(j["compute"]["trained"].get<double>(), pc.trained);
  EXPECT_DOUBLE_EQ(j["compute"]["independent"].get<double>(), pc.independent);
  EXPECT_EQ(j["compute"]["trunks"], 3);
  double d_trained = 0;
  for (const auto& run : j["runs"]) {
    EXPECT_TRUE(run.contains("wsd")) << run["key"];
    d_trained += 6 * run["N"].get<double>() * run["D_trained"].get<double>();
  }
  EXPECT_NEAR(d_trained, pc.trained, 1e-9 * pc.trained);  // the per-run shares add up to the total
  r = scalinglab::testing::scalinglab_cli("sweep plan " + spec + " --no-estimate");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("3 trunk(s) trained once + 9 cooldown branches"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("% saved"), std::string::npos) << r.out;
  // A refused spec: one line naming the file and the field, exit code 2.
  const std::string bad = d.file("bad.json", R"({"design": {"kind": "wsd", "cooldown_frac": 1.2}})");
  r = scalinglab::testing::scalinglab_cli("sweep plan " + bad);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("bad.json"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("design.cooldown_frac"), std::string::npos) << r.out;
}

// ---- Training: the CLI sweep against independent runs and against a killed-and-resumed sweep ----

namespace {

const char* kSpec = R"({"name": "wsd-test", "corpus": "CORPUS", "family": {"ctx": 32},
 "hyper": {"batch_tokens": 256, "lr_base": 3e-3},
 "design": {"kind": "wsd", "n_min": 1e4, "n_max": 3e4, "sizes": 3, "tokens_per_param": [4, 8, 16], "cooldown_frac": 0.25},
 "eval_windows": 8})";

using scalinglab::testing::wait_exit;
pid_t start(const std::vector<std::string>& args) { return scalinglab::testing::start_cli(args); }

struct Final {
  double train = NAN, eval = NAN;
};

std::map<std::string, Final> finals(const std::string& path, size_t* count) {
  auto st = store::RunStore::open(path, {store::OpenMode::kReadOnly});
  auto sweeps = st.sweeps();
  EXPECT_EQ(sweeps.size(), 1u);
  std::map<std::string, Final> out;
  auto runs = st.runs(sweeps[0].id);
  *count = runs.size();
  for (const auto& r : runs) {
    EXPECT_EQ(r.status, store::RunStatus::kDone) << r.key << ": " << r.message;
    out[r.key] = {r.train_loss.value_or(NAN), r.eval_loss.value_or(NAN)};
  }
  return out;
}

// One uninterrupted WSD sweep shared by the tests below (it takes a few seconds).
class WsdSweep : public ::testing::Test {
 protected:
  // Made by the first test that needs it (TempDir names itself after the running test).
  void SetUp() override {
    if (dir_) return;
    dir_ = new TempDir();
    std::string text;
    for (int i = 0; i < 4000; ++i) text += "and the scaling law held for every size " + std::to_string(i % 89) + "\n";
    std::string s = kSpec;
    s.replace(s.find("CORPUS"), 6, dir_->file("corpus.txt", text));
    spec_path_ = dir_->file("spec.json", s);
    fs::create_directories(dir_->path / "ref");
    ref_store_ = (dir_->path / "ref" / "store.db").string();
    ref_rc_ = wait_exit(start(args({"sweep", "run", spec_path_, "--store", ref_store_})));
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::vector<std::string> args(std::vector<std::string> a) {
    for (const char* x : {"--workers", "2", "--threads", "1"}) a.push_back(x);
    a.push_back("--cache");
    a.push_back((dir_->path / "cache").string());
    return a;
  }
  static inline TempDir* dir_ = nullptr;
  static inline std::string spec_path_, ref_store_;
  static inline int ref_rc_ = -1;
};

}  // namespace

TEST_F(WsdSweep, BranchEqualsAnIndependentWsdRunAndNeverRetrainsTheTrunk) {
  ASSERT_EQ(ref_rc_, 0);
  size_t n = 0;
  auto ref = finals(ref_store_, &n);
  const auto planned = sweep::plan(sweep::sweep_from_json(nlohmann::json::parse(io::read_file(spec_path_))));
  ASSERT_EQ(n, planned.size());  // branches only: the trunks are not runs of the store
  auto st = store::RunStore::open(ref_store_, {store::OpenMode::kReadOnly});
  const int64_t sweep_id = st.sweeps()[0].id;
  const fs::path runs_dir = dir_->path / "ref" / "runs";

  // Every branch started from its trunk's state at its branch step (nothing before it retrained)
  // and its stored curve holds the trunk's points before the cooldown and its own up to D_k.
  std::map<std::string, uint64_t> trunk_end;
  for (const auto& p : planned) {
    auto res = nlohmann::json::parse(io::read_file((runs_dir / p.key / "result.json").string()));
    EXPECT_EQ(res["resumed_from"].get<uint64_t>(), p.wsd->branch_step) << p.key;
    EXPECT_EQ(res["steps"].get<uint64_t>(), p.spec.steps()) << p.key;
    auto rec = st.run(sweep_id, p.key);
    ASSERT_TRUE(rec.has_value());
    EXPECT_EQ(rec->tokens, p.d) << p.key;
    auto pts = st.points(rec->id);
    ASSERT_FALSE(pts.empty()) << p.key;
    EXPECT_LT(pts.front().step, p.wsd->branch_step) << p.key;
    EXPECT_EQ(pts.back().step, p.spec.steps()) << p.key;
    trunk_end[p.wsd->trunk_key] = p.wsd->trunk_branch_steps.back();
  }
  // Each trunk trained once, to its last branch step, leaving one snapshot per branch.
  for (const auto& [key, b_max] : trunk_end) {
    const fs::path t = runs_dir / key;
    EXPECT_EQ(train::load_checkpoint((t / "checkpoint.bin").string()).step, b_max) << key;
    EXPECT_FALSE(st.run(sweep_id, key).has_value()) << key;
  }
  for (const auto& p : planned)
    EXPECT_TRUE(fs::exists(runs_dir / p.wsd->trunk_key / ("branch-" + std::to_string(p.wsd->branch_step) + ".bin")));

  // The correctness test of branching: the branches of the smallest size (each a different
  // branch step of one trunk) against single WSD runs of the same length, seed and thread count.
  const double n_min = planned.front().n;
  int compared = 0;
  for (const auto& p : planned) {
    if (p.n != n_min) continue;
    run::RunSpec spec = p.spec;
    spec.threads = 1;
    spec.cache_dir = (dir_->path / "cache").string();
    run::RunOutcome o = run::train_run(spec, (dir_->path / "independent" / p.key).string(), util::ProgressMode::kQuiet,
                                       [] { return false; });
    ASSERT_EQ(o.status, "done");
    EXPECT_EQ(o.resumed_from, 0u);
    EXPECT_EQ(o.eval_loss, ref[p.key].eval) << p.key;  // bit for bit
    EXPECT_EQ(o.train_loss, ref[p.key].train) << p.key;
    // A worker killed after a run's final checkpoint but before its result was recorded finds the
    // run complete on resume: the outcome must still be the full one, not NaN losses.
    run::RunOutcome again = run::train_run(spec, (dir_->path / "independent" / p.key).string(),
                                           util::ProgressMode::kQuiet, [] { return false; });
    EXPECT_EQ(again.resumed_from, spec.steps());
    EXPECT_EQ(again.eval_loss, o.eval_loss) << p.key;
    EXPECT_EQ(again.train_loss, o.train_loss) << p.key;
    ++compared;
  }
  EXPECT_EQ(compared, 3);
}

TEST_F(WsdSweep, KilledAtSeveralMomentsThenResumedEqualsUninterrupted) {
  ASSERT_EQ(ref_rc_, 0);
  fs::create_directories(dir_->path / "killed");
  const std::string store_path = (dir_->path / "killed" / "store.db").string();
  const double kill_after_s[] = {0.6, 1.1, 0.35, 1.6, 0.8};
  pid_t pid = start(args({"sweep", "run", spec_path_, "--store", store_path}));
  for (double s : kill_after_s) {
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
    kill(-pid, SIGKILL);  // driver and workers
    wait_exit(pid);
    pid = start(args({"sweep", "resume", store_path}));
  }
  EXPECT_EQ(wait_exit(pid), 0);
  size_t n_ref = 0, n_killed = 0;
  auto ref = finals(ref_store_, &n_ref);
  auto killed = finals(store_path, &n_killed);
  EXPECT_EQ(n_killed, n_ref);  // every planned branch exactly once
  {  // the kills did land mid-sweep: some branch was claimed again after its worker died
    auto st = store::RunStore::open(store_path, {store::OpenMode::kReadOnly});
    int64_t attempts = 0;
    for (const auto& r : st.runs(st.sweeps()[0].id)) attempts += r.attempts;
    std::printf("[          ] %zu branches, %lld claims\n", n_killed, static_cast<long long>(attempts));
    EXPECT_GT(attempts, static_cast<int64_t>(n_killed));
  }
  ASSERT_EQ(killed.size(), ref.size());
  for (const auto& [key, f] : ref) {
    ASSERT_TRUE(killed.count(key)) << key;
    EXPECT_EQ(killed[key].eval, f.eval) << key;
    EXPECT_EQ(killed[key].train, f.train) << key;
  }
}
