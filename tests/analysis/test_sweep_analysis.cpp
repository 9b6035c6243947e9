// analyze_store on a store filled with runs whose losses follow a known Chinchilla law: the three
// approaches recover the law's exponent a = β/(α+β), and summary_json carries what the demo promises.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "common/temp_dir.h"
#include "scalinglab/analysis/sweep_analysis.h"
#include "scalinglab/fit/frontier.h"
#include "scalinglab/fit/synthetic.h"
#include "scalinglab/store/run_store.h"
#include "scalinglab/sweep/sweep_spec.h"

#include <map>

using scalinglab::testing::TempDir;
namespace store = scalinglab::store;
namespace fit = scalinglab::fit;

namespace {

// Besiroglu et al. 2024's refit: a = 0.3658 / (0.3478 + 0.3658) = 0.5126.
const fit::ChinchillaParams kLaw{1.8172, 482.01, 2085.43, 0.3478, 0.3658};

double law(double n, double d) { return kLaw.E + kLaw.A / std::pow(n, kLaw.alpha) + kLaw.B / std::pow(d, kLaw.beta); }

// IsoFLOP budgets 1e17..1e19, 7 sizes per budget around the optimum; every run logs 12 points of
// its curve (the law at the tokens so far: a run whose schedule fits every length) and finishes
// with a loss perturbed by a deterministic ±0.5% pattern.
std::string make_store(const TempDir& d, int64_t* sweep_id) {
  const std::string path = (d.path / "store.db").string();
  auto st = store::RunStore::open(path);
  *sweep_id = st.create_sweep("synthetic", {{"kind", "test"}}).id;
  int k = 0;
  for (double c : {1e17, 1e18, 1e19}) {
    const double n_opt = fit::chinchilla_n_opt(kLaw, c);
    for (int i = -3; i <= 3; ++i, ++k) {
      const double n = n_opt * std::pow(2.0, i * 0.5);
      const double tokens = c / (6 * n);
      store::NewRun nr{"run" + std::to_string(k), {{"k", k}}, 1, static_cast<int64_t>(n), static_cast<int64_t>(n), tokens, c, ""};
      const int64_t id = st.add_run(*sweep_id, nr);
      EXPECT_TRUE(st.claim_next(*sweep_id, "test"));
      std::vector<store::Point> pts;
      for (int j = 1; j <= 12; ++j) {
        store::Point p;
        p.step = j;
        p.tokens = static_cast<uint64_t>(tokens * j / 12);
        p.flops = 6 * n * p.tokens;
        p.train_loss = law(n, p.tokens);
        p.eval_loss = law(n, p.tokens);
        pts.push_back(p);
      }
      st.record_points(id, pts);
      store::RunResult res;
      res.eval_loss = law(n, tokens) * (1 + 0.005 * std::sin(1.7 * k));
      res.train_loss = res.eval_loss;
      st.finish_run(id, res);
    }
  }
  return path;
}

}  // namespace

TEST(SweepAnalysis, ApproachesRecoverTheLawAndTheSummaryHasEveryField) {
  TempDir d;
  int64_t sweep_id = 0;
  const std::string path = make_store(d, &sweep_id);
  scalinglab::analysis::AnalysisOptions o;
  o.bootstrap = 60;
  auto a = scalinglab::analysis::analyze_store(path, o);
  EXPECT_EQ(a.final_losses.runs.size(), 21u);
  EXPECT_EQ(a.curves.size(), 21u);
  EXPECT_NEAR(std::log10(a.c_max / a.c_min), 2, 1e-6);
  ASSERT_TRUE(a.chinchilla);
  ASSERT_TRUE(a.isoflop);
  ASSERT_TRUE(a.envelope);
  ASSERT_TRUE(a.kaplan_nd);
  const double truth = kLaw.beta / (kLaw.alpha + kLaw.beta);
  EXPECT_NEAR(a.chinchilla->derived[0].estimate.value, truth, 0.05);
  EXPECT_NEAR(a.isoflop->scaling.a.value, truth, 0.05);
  // The envelope samples curves that follow the law exactly: near the truth too, though the
  // family's coarse sizes quantise N_opt.
  EXPECT_NEAR(a.envelope->scaling.a.value, truth, 0.1);
  EXPECT_FALSE(a.validation);

  // A validation recorded in the store shows up in the analysis and the summary.
  scalinglab::sweep::ValidationResult v;
  v.key = "heldout-x";
  v.compute = 4e19;
  v.predicted = {2.5, NAN, NAN, 2.45, 2.55};
  v.pi95 = {2.4, 2.6};
  v.actual = 2.52;
  v.rel_error = (2.5 - 2.52) / 2.52;
  v.inside_pi95 = true;
  v.status = "done";
  store::RunStore::open(path).put_artifact(sweep_id, scalinglab::sweep::kValidationArtifact, scalinglab::sweep::to_json(v));
  a = scalinglab::analysis::analyze_store(path, o);
  ASSERT_TRUE(a.validation);
  auto s = scalinglab::analysis::summary_json(a);
  EXPECT_EQ(s["runs"]["done"], 21);
  EXPECT_EQ(s["runs"]["planned"], 21);
  EXPECT_NEAR(s["compute_range"]["orders_of_magnitude"].get<double>(), 2, 1e-6);
  EXPECT_NEAR(s["fits"]["approach3"]["params"]["alpha"]["value"].get<double>(), a.chinchilla->params[3].value, 1e-12);
  EXPECT_EQ(s["fits"]["approach3"]["params"]["alpha"]["ci95"].size(), 2u);
  EXPECT_TRUE(s["fits"]["approach1"]["a"]["value"].is_number());
  EXPECT_TRUE(s["fits"]["approach2"]["b"]["ci95"].is_array());
  EXPECT_EQ(s["heldout"]["compute"], 4e19);
  EXPECT_NEAR(s["heldout"]["compute_factor"].get<double>(), 4, 1e-6);
  EXPECT_EQ(s["heldout"]["predicted_loss"], 2.5);
  EXPECT_EQ(s["heldout"]["ci95"], (nlohmann::json{2.4, 2.6}));
  EXPECT_EQ(s["heldout"]["ci95_law"], (nlohmann::json{2.45, 2.55}));
  EXPECT_EQ(s["heldout"]["actual_loss"], 2.52);
  EXPECT_NEAR(s["heldout"]["rel_error"].get<double>(), v.rel_error, 1e-15);
  EXPECT_EQ(s["frontier"].size(), 3u);  // 10x, 100x, 1000x the largest run
  EXPECT_TRUE(s["heldout"]["backtest"].is_null());  // recorded without one (an earlier version)

  // With the rollout backtest on record, summary.json carries it as recorded.
  scalinglab::sweep::Backtest b;
  b.grouping = "budget";
  b.budgets = 3;
  b.rollouts = {{1e19, 2, 14, 7}};
  b.by_law = {{"chinchilla", 0.004, 0.001, {0.004}, ""}, {"kaplan-nd", 0.03, -0.03, {0.03}, ""}};
  b.chosen = "chinchilla";
  v.backtest = b;
  v.headline = "chinchilla";
  v.headline_reason = "lowest rollout-backtest error";
  store::RunStore::open(path).put_artifact(sweep_id, scalinglab::sweep::kValidationArtifact, scalinglab::sweep::to_json(v));
  s = scalinglab::analysis::summary_json(scalinglab::analysis::analyze_store(path, o));
  EXPECT_EQ(s["heldout"]["backtest"], scalinglab::sweep::to_json(b));
  EXPECT_EQ(s["heldout"]["backtest"]["chosen"], "chinchilla");
  EXPECT_EQ(s["heldout"]["backtest"]["by_law"][1]["mean_abs_rel_error"], 0.03);
  EXPECT_EQ(s["heldout"]["headline_reason"], "lowest rollout-backtest error");
}

TEST(SweepAnalysis, TooFewRunsIsAWarningNotAnError) {
  TempDir d;
  const std::string path = (d.path / "s.db").string();
  {
    auto st = store::RunStore::open(path);
    st.create_sweep("empty", {{"kind", "test"}});
  }
  auto a = scalinglab::analysis::analyze_store(path);
  EXPECT_FALSE(a.chinchilla);
  ASSERT_EQ(a.warnings.size(), 1u);
  auto s = scalinglab::analysis::summary_json(a);
  EXPECT_TRUE(s["heldout"].is_null());
  EXPECT_EQ(s["runs"]["fitted"], 0);
}

TEST(SweepAnalysis, IsoflopSweepsGroupApproachTwoByTheirPlannedBudgets) {
  // Whole optimizer steps move each run's 6ND off its budget; the sweep's plan knows the budget,
  // so approach 2 groups by it exactly instead of by C within a tolerance.
  TempDir d;
  const nlohmann::json spec = nlohmann::json::parse(R"({"name": "iso", "corpus": "unused.txt", "family": {"ctx": 32},
    "hyper": {"batch_tokens": 256, "lr_base": 3e-3, "min_steps": 100},
    "design": {"kind": "isoflop", "c_min": 2e10, "c_max": 2e11, "budgets": 3, "per_budget": 5, "span": 3}})");
  const auto planned = scalinglab::sweep::plan(scalinglab::sweep::sweep_from_json(spec));
  const std::string path = (d.path / "store.db").string();
  {
    auto st = store::RunStore::open(path);
    const int64_t sweep_id = st.create_sweep("iso", spec).id;
    for (const auto& p : planned) {
      store::NewRun nr{p.key, scalinglab::sweep::stored_spec(p), 1, static_cast<int64_t>(p.n), static_cast<int64_t>(p.n),
                       p.d, p.c, ""};
      const int64_t id = st.add_run(sweep_id, nr);
      EXPECT_TRUE(st.claim_next(sweep_id, "test"));
      store::RunResult res;
      res.eval_loss = res.train_loss = law(p.n, p.d);
      st.finish_run(id, res);
    }
  }
  scalinglab::analysis::AnalysisOptions o;
  o.bootstrap = 20;
  const auto a = scalinglab::analysis::analyze_store(path, o);
  ASSERT_TRUE(a.isoflop) << (a.warnings.empty() ? "" : a.warnings[0]);
  EXPECT_EQ(a.isoflop->grouping, "budget");
  ASSERT_EQ(a.isoflop->budgets.size(), 3u);
  std::map<double, size_t> runs_per_budget;  // the model family may merge sizes, so count the plan's
  for (const auto& p : planned) ++runs_per_budget[p.budget];
  size_t i = 0;
  for (const auto& [budget, runs] : runs_per_budget) {
    EXPECT_EQ(a.isoflop->budgets[i].c, budget);
    EXPECT_EQ(a.isoflop->budgets[i].members.size(), runs);
    ++i;
  }
}

TEST(SweepAnalysis, SummaryCarriesVerdictsAndTheAgreementOnA) {
  TempDir d;
  int64_t sweep_id = 0;
  const std::string path = make_store(d, &sweep_id);
  scalinglab::analysis::AnalysisOptions o;
  o.bootstrap = 60;
  auto a = scalinglab::analysis::analyze_store(path, o);
  ASSERT_TRUE(a.chinchilla && a.isoflop && a.envelope);
  auto s = scalinglab::analysis::summary_json(a);
  const std::set<std::string> verdicts{"yes", "weak", "no", "fixed", "not assessed"};
  for (const auto& [name, p] : s["fits"]["approach3"]["params"].items()) {
    ASSERT_TRUE(p.contains("identified")) << name;
    EXPECT_TRUE(verdicts.count(p["identified"].get<std::string>())) << name;
    EXPECT_FALSE(p["identification_reason"].get<std::string>().empty()) << name;
  }
  for (const char* ap : {"approach1", "approach2"})
    EXPECT_EQ(s["fits"][ap]["a"]["identified"], fit::to_string(ap == std::string("approach1") ? a.envelope->scaling.a.ident.verdict
                                                                                               : a.isoflop->scaling.a.ident.verdict));
  EXPECT_EQ(s["frontier"][0]["N_opt"]["identified"], fit::to_string(a.chinchilla->at_compute[0].n_opt.ident.verdict));
  // The agreement verdict, recomputed here from the three intervals of a.
  const fit::Estimate* as[] = {&a.envelope->scaling.a, &a.isoflop->scaling.a, &a.chinchilla->derived[0].estimate};
  std::vector<const fit::Estimate*> taking_part;
  for (const auto* e : as)
    if (e->ident.verdict != fit::Identified::kNo && e->has_interval()) taking_part.push_back(e);
  std::string expect = taking_part.size() < 2 ? "not assessed" : "agree";
  for (size_t i = 0; i < taking_part.size(); ++i)
    for (size_t j = i + 1; j < taking_part.size(); ++j)
      if (taking_part[i]->hi < taking_part[j]->lo || taking_part[j]->hi < taking_part[i]->lo) expect = "disagree";
  EXPECT_EQ(s["agreement_on_a"]["verdict"], expect) << s["agreement_on_a"].dump();
  EXPECT_EQ(s["agreement_on_a"]["approaches"].size(), 3u);
  EXPECT_EQ(a.agreement.verdict, expect);
}
