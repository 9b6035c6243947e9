// From a sweep to the planner: the files a sweep leaves beside its summary (fits/<law>.json,
// runs.csv), `fit STORE.db` reading a store directly, and `plan --law` / `predict --law` reading
// those fits. The store holds runs whose losses follow a known Chinchilla law, so every number the
// commands print can be held against the library's own closed forms and predictions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/shell.h"
#include "common/temp_dir.h"
#include "scalinglab/analysis/store_runs.h"
#include "scalinglab/analysis/sweep_analysis.h"
#include "scalinglab/fit/dataset.h"
#include "scalinglab/fit/fit_json.h"
#include "scalinglab/fit/frontier.h"
#include "scalinglab/fit/synthetic.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/io/table.h"
#include "scalinglab/store/run_store.h"

using scalinglab::testing::scalinglab_cli;
using scalinglab::testing::TempDir;
namespace analysis = scalinglab::analysis;
namespace fit = scalinglab::fit;
namespace store = scalinglab::store;

namespace {

const fit::ChinchillaParams kLaw{1.8172, 482.01, 2085.43, 0.3478, 0.3658};  // Besiroglu et al. 2024

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// Two sweeps in one store: "pilot" (3 IsoFLOP budgets x 7 sizes with training curves, losses
// perturbed by a deterministic +-0.7% pattern) and "other" (a few runs, so that a store with two
// sweeps needs --sweep). One pilot run stays queued: only finished runs are fitted.
std::string make_store(const TempDir& d) {
  const std::string path = (d.path / "store.db").string();
  auto st = store::RunStore::open(path);
  const int64_t pilot = st.create_sweep("pilot", {{"kind", "test"}}).id;
  const int64_t other = st.create_sweep("other", {{"kind", "test2"}}).id;
  int k = 0;
  for (double c : {1e17, 1e18, 1e19}) {
    const double n_opt = fit::chinchilla_n_opt(kLaw, c);
    for (int i = -3; i <= 3; ++i, ++k) {
      const double n = std::round(n_opt * std::pow(2.0, i * 0.5));
      const double tokens = c / (6 * n);
      store::NewRun nr{"pilot/run" + std::to_string(k), {{"k", k}}, 1, static_cast<int64_t>(n),
                       static_cast<int64_t>(n), tokens, c, ""};
      const int64_t id = st.add_run(pilot, nr);
      EXPECT_TRUE(st.claim_next(pilot, "test"));
      std::vector<store::Point> pts;
      for (int j = 1; j <= 10; ++j) {
        store::Point p;
        p.step = j;
        p.tokens = static_cast<uint64_t>(tokens * j / 10);
        p.flops = 6 * n * static_cast<double>(p.tokens);
        p.train_loss = kLaw.loss(n, static_cast<double>(p.tokens));
        p.eval_loss = p.train_loss;
        pts.push_back(p);
      }
      st.record_points(id, pts);
      store::RunResult res;
      res.eval_loss = kLaw.loss(n, tokens) * (1 + 0.007 * std::sin(1.7 * k));
      res.train_loss = res.eval_loss;
      st.finish_run(id, res);
    }
  }
  st.add_run(pilot, store::NewRun{"pilot/queued", {{"k", 99}}, 1, 1000000, 1000000, 1e9, 6e15, ""});
  for (int i = 0; i < 3; ++i) {
    const int64_t id = st.add_run(other, store::NewRun{"other/" + std::to_string(i), {{"i", i}}, 1, 2000000 << i,
                                                       2000000 << i, 1e9, 1.2e16, ""});
    EXPECT_TRUE(st.claim_next(other, "test"));
    store::RunResult res;
    res.eval_loss = res.train_loss = 3.0 - 0.1 * i;
    st.finish_run(id, res);
  }
  return path;
}

// The store, its analysis (sweep "pilot"), and what a sweep writes beside its summary.
struct Sweep {
  TempDir dir;
  std::string store_path;
  analysis::SweepAnalysis a;
  std::vector<std::string> files;

  Sweep() {
    store_path = make_store(dir);
    analysis::AnalysisOptions o;
    o.sweep = "pilot";
    o.bootstrap = 40;
    o.seed = 5;
    a = analysis::analyze_store(store_path, o);
    files = analysis::write_sweep_files(a, dir.path.string());
    scalinglab::io::write_file_atomic((dir.path / "summary.json").string(), analysis::summary_json(a).dump(2));
  }
};

}  // namespace

TEST(SweepFiles, EveryFitAndTheRunsTableAreWrittenBesideTheSummary) {
  Sweep s;
  const auto& dir = s.dir.path;
  ASSERT_TRUE(s.a.chinchilla && s.a.kaplan_nd && s.a.isoflop && s.a.envelope);
  for (const char* f : {"fits/chinchilla.json", "fits/kaplan-nd.json", "fits/approach1.json", "fits/approach2.json", "runs.csv"})
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  EXPECT_EQ(s.files.back(), (dir / "runs.csv").string());
  // The fit files are exactly the fit JSON of the analysis's fits.
  EXPECT_EQ(read_json((dir / "fits/chinchilla.json").string()), fit::to_json(*s.a.chinchilla));
  EXPECT_EQ(read_json((dir / "fits/approach2.json").string()), fit::to_json(*s.a.isoflop));
  // runs.csv reads back to the very doubles the analysis fitted (21 finished runs, not the queued one).
  fit::Dataset back = fit::load_runs(scalinglab::io::read_table((dir / "runs.csv").string()), {});
  ASSERT_EQ(back.runs.size(), 21u);
  ASSERT_EQ(s.a.final_losses.runs.size(), 21u);
  for (size_t i = 0; i < back.runs.size(); ++i) {
    EXPECT_EQ(back.runs[i].n, s.a.final_losses.runs[i].n);
    EXPECT_EQ(back.runs[i].d, s.a.final_losses.runs[i].d);
    EXPECT_EQ(back.runs[i].c, s.a.final_losses.runs[i].c);
    EXPECT_EQ(back.runs[i].loss, s.a.final_losses.runs[i].loss);
  }
  auto table = scalinglab::io::read_table((dir / "runs.csv").string());
  ASSERT_TRUE(table.find("key"));
  EXPECT_EQ(table.rows[0][*table.find("key")], s.a.run_keys[0]);
}

TEST(SweepFiles, FitReadsAStoreAsItReadsItsRunsTable) {
  Sweep s;
  const std::string dir = s.dir.path.string();
  // Two sweeps: the store needs --sweep, and the error names the flag and the sweeps.
  auto r = scalinglab_cli("fit " + s.store_path + " -q");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--sweep"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pilot"), std::string::npos) << r.out;
  r = scalinglab_cli("fit " + s.store_path + " --sweep nope -q");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("nope"), std::string::npos) << r.out;

  for (int approach : {3, 2}) {
    const std::string common = " --approach " + std::to_string(approach) + " --bootstrap 20 --seed 3 -q --json ";
    r = scalinglab_cli("fit " + s.store_path + " --sweep pilot" + common + dir + "/from_store.json");
    ASSERT_EQ(r.code, 0) << r.out;
    r = scalinglab_cli("fit " + dir + "/runs.csv" + common + dir + "/from_csv.json");
    ASSERT_EQ(r.code, 0) << r.out;
    auto a = read_json(dir + "/from_store.json"), b = read_json(dir + "/from_csv.json");
    if (approach == 3) {
      EXPECT_EQ(a["points"], 21);
      EXPECT_EQ(a["params"], b["params"]);
      EXPECT_EQ(a["internal"], b["internal"]);
      EXPECT_EQ(a["ci95"], b["ci95"]);
      // ... and the same optimum the sweep analysis found (its bootstrap differs, its θ not).
      for (size_t i = 0; i < s.a.chinchilla->param_names.size(); ++i) {
        const double v = a["params"][s.a.chinchilla->param_names[i]].get<double>();
        EXPECT_NEAR(v, s.a.chinchilla->params[i].value, 1e-6 * std::fabs(v)) << s.a.chinchilla->param_names[i];
      }
    } else {
      EXPECT_EQ(a["a"], b["a"]);
      EXPECT_EQ(a["b"], b["b"]);
      EXPECT_NEAR(a["a"]["value"].get<double>(), s.a.isoflop->scaling.a.value, 1e-12);
    }
  }
  // Approach 1 from the store's own training curves gives the analysis's exponent.
  r = scalinglab_cli("fit " + s.store_path + " --sweep pilot --approach 1 --bootstrap 0 -q --json " + dir + "/a1.json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NEAR(read_json(dir + "/a1.json")["a"]["value"].get<double>(), s.a.envelope->scaling.a.value, 1e-12);
  // --sweep on a table is an error, not silently ignored.
  r = scalinglab_cli("fit " + dir + "/runs.csv --sweep pilot -q");
  EXPECT_EQ(r.code, 2) << r.out;
}

TEST(SweepFiles, PlanAndPredictReadTheSweepsFitsAndAgreeWithTheLibrary) {
  Sweep s;
  const std::string dir = s.dir.path.string();
  const auto& f = *s.a.chinchilla;
  const fit::ChinchillaParams p{f.params[0].value, f.params[1].value, f.params[2].value, f.params[3].value,
                                f.params[4].value};
  const double c = 1e21;
  auto r = scalinglab_cli("plan --law " + dir + "/fits/chinchilla.json --compute 1e21 --json -");
  ASSERT_EQ(r.code, 0) << r.out;
  auto plan = nlohmann::json::parse(r.out);
  const auto& alloc = plan["plans"][0];
  // Hoffmann et al. 2022 eq. 4 on the fitted parameters.
  EXPECT_NEAR(alloc["N_opt"]["value"].get<double>(), fit::chinchilla_n_opt(p, c), 1e-9 * fit::chinchilla_n_opt(p, c));
  const double n = fit::chinchilla_n_opt(p, c), d = fit::chinchilla_d_opt(p, c);
  EXPECT_NEAR(alloc["loss"]["value"].get<double>(), p.loss(n, d), 1e-9);
  EXPECT_EQ(plan["law"]["replicates"].get<size_t>(), f.bootstrap_theta.size());
  EXPECT_TRUE(alloc["N_opt"]["ci95"][0].is_number());

  r = scalinglab_cli("predict --law " + dir + "/fits/chinchilla.json --n 3e8 --d 6e9 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto pred = nlohmann::json::parse(r.out);
  auto law = fit::make_law("chinchilla");
  const fit::Run at{3e8, 6e9, 6 * 3e8 * 6e9, 0, 1, 0, 0};
  const fit::Estimate e = fit::predict_loss(*law, f.theta, f.bootstrap_theta, at);
  EXPECT_NEAR(pred["loss"].get<double>(), p.loss(3e8, 6e9), 1e-12);
  EXPECT_NEAR(pred["loss"].get<double>(), e.value, 1e-12);
  EXPECT_NEAR(pred["ci95"][0].get<double>(), e.lo, 1e-12);
  EXPECT_NEAR(pred["ci95"][1].get<double>(), e.hi, 1e-12);

  // A kaplan-nd fit plans too (numeric optimum), and an approach-2 fit is refused with its reason.
  r = scalinglab_cli("plan --law " + dir + "/fits/kaplan-nd.json --compute 1e21");
  EXPECT_EQ(r.code, 0) << r.out;
  r = scalinglab_cli("plan --law " + dir + "/fits/approach2.json --compute 1e21");
  EXPECT_EQ(r.code, 2) << r.out;

  // summary.json is not a fit: one line that points at the fits beside it.
  for (const std::string cmd : {"plan --law " + dir + "/summary.json --compute 1e21",
                                "predict --law " + dir + "/summary.json --n 3e8 --d 6e9"}) {
    r = scalinglab_cli(cmd);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find(dir + "/fits/chinchilla.json"), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  }
}
