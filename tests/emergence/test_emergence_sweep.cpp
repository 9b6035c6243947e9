// The emergence sweep: the mixed corpus (deterministic, at the stated share, every train example
// once and whole, no eval prompt), scoring a run's checkpoints once across interruptions, a tiny
// sweep end to end through the CLI (an evaluation for every run × checkpoint × task × metric, and
// the exported long table equal to the store), kill -9 then resume (every evaluation exactly once,
// values equal to an uninterrupted sweep's), and the CLI's refusals. Nothing here depends on how
// well the tiny models learn.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "common/cli_process.h"
#include "common/emergence_sweep.h"
#include "common/shell.h"
#include "common/temp_dir.h"
#include "scalinglab/emergence/emergence_spec.h"
#include "scalinglab/emergence/mixed_corpus.h"
#include "scalinglab/emergence/results_export.h"
#include "scalinglab/emergence/run_scoring.h"
#include "scalinglab/emergence/score.h"
#include "scalinglab/emergence/task.h"
#include "scalinglab/io/read_file.h"
#include "scalinglab/io/table.h"
#include "scalinglab/run/train_run.h"
#include "scalinglab/store/run_store.h"
#include "scalinglab/sweep/sweep_spec.h"

namespace fs = std::filesystem;
using namespace scalinglab;
using scalinglab::testing::TempDir;
using scalinglab::testing::wait_exit;
using scalinglab::testing::corpus_text;
using scalinglab::testing::kEmergenceSpec;
using scalinglab::testing::emergence_spec_file;
using scalinglab::testing::start_sweep_cli;

namespace {

emergence::TaskConfig cfg(const std::string& name, emergence::TaskKind kind, int n_train, int n_eval) {
  emergence::TaskConfig c;
  c.name = name;
  c.kind = kind;
  c.digits = 2;
  c.modulus = 97;
  c.n_train = n_train;
  c.n_eval = n_eval;
  return c;
}

std::vector<emergence::Task> two_tasks(int n_train = 3000, int n_eval = 12) {
  return {emergence::make_task(cfg("add2", emergence::TaskKind::kAddition, n_train, n_eval)),
          emergence::make_task(cfg("mod97", emergence::TaskKind::kModAdd, n_train, n_eval))};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

using EvalKey = std::tuple<std::string, uint64_t, std::string, std::string>;  // run key, step, task, metric

std::map<EvalKey, store::Evaluation> stored_evals(const std::string& path) {
  auto st = store::RunStore::open(path, {store::OpenMode::kReadOnly});
  const auto sw = store::select_sweep(st, "");
  std::map<int64_t, std::string> keys;
  for (const auto& r : st.runs(sw.id)) keys[r.id] = r.key;
  std::map<EvalKey, store::Evaluation> out;
  for (const auto& [run, e] : st.sweep_evals(sw.id)) {
    const bool fresh = out.emplace(EvalKey{keys[run], e.step, e.task, e.metric}, e).second;
    EXPECT_TRUE(fresh) << "duplicate evaluation";
  }
  return out;
}

// Every run done, and an evaluation for every run × planned checkpoint × task × metric (the metric
// set of a task being whatever score_task returns for it, the same at every checkpoint and run).
size_t check_complete(const std::string& path, int checkpoints, const std::vector<std::string>& tasks) {
  auto st = store::RunStore::open(path, {store::OpenMode::kReadOnly});
  const auto sw = store::select_sweep(st, "");
  const auto runs = st.runs(sw.id);
  EXPECT_EQ(runs.size(), 3u);
  std::map<std::string, std::set<std::string>> metrics_of;  // task -> metrics seen anywhere
  size_t rows = 0;
  for (const auto& r : runs) {
    EXPECT_EQ(r.status, store::RunStatus::kDone) << r.key << ": " << r.message;
    const run::RunSpec spec = run::spec_from_json(r.spec);
    std::map<std::pair<uint64_t, std::string>, std::set<std::string>> got;
    for (const auto& e : st.evals(r.id)) {
      got[{e.step, e.task}].insert(e.metric);
      metrics_of[e.task].insert(e.metric);
      // Each row's scale is that of its checkpoint: D = step · tokens per step, C = 6·N·D.
      EXPECT_EQ(e.tokens, static_cast<double>(e.step * spec.tokens_per_step()));
      EXPECT_EQ(e.flops, 6.0 * static_cast<double>(r.params_total) * e.tokens);
      EXPECT_GT(e.n, 0);
      ++rows;
    }
    const auto points = emergence::eval_points(spec.steps(), checkpoints);
    std::set<std::pair<uint64_t, std::string>> want;
    for (const auto& p : points) {
      EXPECT_TRUE(fs::exists(run::snapshot_path(r.run_dir, p.step))) << r.key << " step " << p.step;
      for (const auto& t : tasks) want.insert({p.step, t});
    }
    std::set<std::pair<uint64_t, std::string>> have;
    for (const auto& [k, m] : got) have.insert(k);
    EXPECT_EQ(have, want) << r.key;
    for (const auto& e : st.evals(r.id)) {
      auto it = std::find_if(points.begin(), points.end(), [&](const auto& p) { return p.step == e.step; });
      if (it != points.end()) {
        EXPECT_EQ(e.progress, it->progress);
      }
    }
    for (const auto& [k, m] : got) EXPECT_EQ(m, metrics_of[k.second]) << r.key << " step " << k.first << " " << k.second;
  }
  for (const auto& t : tasks)
    for (const char* m : {"exact_match", "token_accuracy", "edit_distance", "loglik_per_token", "loglik_sum"})
      EXPECT_TRUE(metrics_of[t].count(m)) << t << " " << m;
  size_t per_run = 0;
  for (const auto& t : tasks) per_run += metrics_of[t].size();
  EXPECT_EQ(rows, runs.size() * static_cast<size_t>(checkpoints + 1) * per_run);
  return rows;
}

}  // namespace

// ---- the mixed corpus ------------------------------------------------------------------------

TEST(MixedCorpus, IsDeterministicAtTheSharePutsEveryTrainExampleOnceAndNoEvalPrompt) {
  const auto tasks = two_tasks();
  const std::string corpus = corpus_text();
  const auto m = emergence::mix_corpus(corpus, "corpus", tasks, 0.25);
  const auto again = emergence::mix_corpus(corpus, "corpus", two_tasks(), 0.25);
  EXPECT_EQ(m.text, again.text);  // a function of its inputs alone

  // The share: all task text, and corpus text for (1 - f)/f of it, overshooting by under one line.
  uint64_t task_bytes = 0;
  for (const auto& t : tasks) task_bytes += emergence::training_text(t).size();
  EXPECT_EQ(m.task_bytes, task_bytes);
  EXPECT_EQ(m.bytes_by_task, (std::vector<uint64_t>{emergence::training_text(tasks[0]).size(),
                                                    emergence::training_text(tasks[1]).size()}));
  EXPECT_EQ(m.text.size(), m.task_bytes + m.corpus_bytes);
  const double need = static_cast<double>(task_bytes) * 3;
  EXPECT_GE(static_cast<double>(m.corpus_bytes), need);
  EXPECT_LT(static_cast<double>(m.corpus_bytes), need + 100);  // corpus lines are ~50 bytes
  EXPECT_NEAR(m.task_fraction(), 0.25, 1e-3);

  // The lines: each train example exactly once, whole, on a line of its own; the corpus lines are
  // the corpus's first lines in order; nothing else.
  std::map<std::string, int> task_lines;
  for (const auto& t : tasks)
    for (const auto& e : t.train) task_lines[e.prompt + e.target.substr(0, e.target.size() - 1)] = 0;
  std::vector<std::string> corpus_seen;
  for (const auto& l : lines_of(m.text)) {
    auto it = task_lines.find(l);
    if (it != task_lines.end())
      ++it->second;
    else
      corpus_seen.push_back(l);
  }
  for (const auto& [line, n] : task_lines) EXPECT_EQ(n, 1) << line;
  const auto corpus_lines = lines_of(corpus);
  ASSERT_LE(corpus_seen.size(), corpus_lines.size());
  EXPECT_TRUE(std::equal(corpus_seen.begin(), corpus_seen.end(), corpus_lines.begin()));

  // No eval example's prompt occurs anywhere in the text (make_task keeps them out of the train
  // sets; the formats are fixed-width, so a prompt cannot hide inside a longer line either).
  for (const auto& t : tasks)
    for (const auto& e : t.eval) EXPECT_EQ(m.text.find(e.prompt), std::string::npos) << t.name << ": " << e.prompt;

  // Interleaved, not concatenated: every 4096-byte chunk (the unit of the train/validation split)
  // is mixed at about the share.
  auto is_task_line = [&](const std::string& l) { return task_lines.count(l) > 0; };
  for (size_t start = 0; start + 4096 <= m.text.size(); start += 4096) {
    size_t task = 0;
    for (const auto& l : lines_of(m.text.substr(start, 4096)))
      if (is_task_line(l)) task += l.size() + 1;
    EXPECT_NEAR(static_cast<double>(task) / 4096, 0.25, 0.05) << "chunk at " << start;
  }

  // Written once under a name from its content; writing it again leaves it as it is.
  TempDir d;
  const std::string path = emergence::write_mixed_corpus(m, (d.path / "mix").string());
  EXPECT_EQ(path, emergence::mixed_corpus_path(m, (d.path / "mix").string()));
  EXPECT_EQ(io::read_file(path), m.text);
  const auto mtime = fs::last_write_time(path);
  EXPECT_EQ(emergence::write_mixed_corpus(again, (d.path / "mix").string()), path);
  EXPECT_EQ(fs::last_write_time(path), mtime);
  EXPECT_NE(emergence::mixed_corpus_path(emergence::mix_corpus(corpus, "corpus", tasks, 0.5), "x"),
            emergence::mixed_corpus_path(m, "x"));
}

TEST(MixedCorpus, TaskTextAloneLineCutsAndRefusals) {
  const auto tasks = two_tasks(500, 8);
  // Fraction 1: the tasks' text alone (the corpus is not read).
  const auto alone = emergence::mix_corpus("", "unused", tasks, 1.0);
  EXPECT_EQ(alone.corpus_bytes, 0u);
  EXPECT_EQ(alone.text.size(), emergence::training_text(tasks[0]).size() + emergence::training_text(tasks[1]).size());
  // A corpus without newlines is cut every 512 bytes with a newline added, so that every task
  // example still starts a line (score_task puts "\n" before each prompt).
  const std::string flat(200000, 'x');
  const auto m = emergence::mix_corpus(flat, "flat", tasks, 0.5);
  for (const auto& t : tasks)
    for (const auto& e : t.train) {
      const size_t at = m.text.find(e.prompt + e.target);
      ASSERT_NE(at, std::string::npos);
      EXPECT_TRUE(at == 0 || m.text[at - 1] == '\n') << e.prompt;
    }
  for (const auto& l : lines_of(m.text)) EXPECT_LE(l.size(), 512u);
  // A corpus too short for the share: refused, naming the field and the corpus.
  try {
    emergence::mix_corpus("a few words\n", "tiny.txt", tasks, 0.1);
    ADD_FAILURE() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'emergence.mix_fraction'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tiny.txt"), std::string::npos) << e.what();
  }
  // One task's training prompt that is another's eval prompt would leak the answer: refused.
  emergence::Task a, b;
  a.name = "a";
  a.train = {{"1+1=", "2\n", {}, -1}, {"1+2=", "3\n", {}, -1}};
  a.eval = {{"2+2=", "4\n", {}, -1}};
  b.name = "b";
  b.eval = {{"1+2=", "3\n", {}, -1}};
  try {
    emergence::mix_corpus(corpus_text(), "corpus", {a, b}, 0.5);
    ADD_FAILURE() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'emergence.tasks'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1+2="), std::string::npos) << e.what();
  }
  // Targets without a final newline (user tasks) are followed by one, as training_text writes them.
  a.eval.clear();
  a.train = {{"k1=", "abc", {}, -1}, {"k2=", "de\n", {}, -1}};
  const auto u = emergence::mix_corpus(corpus_text(), "corpus", {a}, 0.5);
  EXPECT_NE(u.text.find("k1=abc\n"), std::string::npos);
  EXPECT_NE(u.text.find("k2=de\n"), std::string::npos);
  EXPECT_EQ(u.task_bytes, 7u + 6u);
}

// ---- scoring a run ---------------------------------------------------------------------------

TEST(RunScoring, ScoresEachCheckpointAndTaskOnceAcrossInterruptions) {
  TempDir d;
  const auto tasks = two_tasks(2000, 6);
  const auto mixed = emergence::mix_corpus(corpus_text(), "corpus", tasks, 0.5);
  run::RunSpec spec;
  spec.model = {256, 32, 32, 1, 1, false};
  spec.batch = 8;
  spec.tokens = 24 * 8 * 32;  // 24 steps
  spec.schedule.peak_lr = 3e-3;
  spec.evals = 2;
  spec.eval_windows = 4;
  spec.threads = 1;
  spec.corpus = emergence::write_mixed_corpus(mixed, (d.path / "mix").string());
  spec.cache_dir = (d.path / "cache").string();
  for (const auto& p : emergence::eval_points(spec.steps(), 2)) spec.snapshot_steps.push_back(p.step);  // 6, 12, 24
  const std::string run_dir = (d.path / "run").string();
  ASSERT_EQ(run::train_run(spec, run_dir, util::ProgressMode::kQuiet, [] { return false; }).status, "done");

  auto st = store::RunStore::open((d.path / "s.db").string());
  const auto sw = st.create_sweep("s", nlohmann::json::object());
  store::NewRun nr;
  nr.key = "r";
  nr.spec = run::to_json(spec);
  const int64_t id = st.add_run(sw.id, nr);
  const auto opts = emergence::ScoreOptions{};
  emergence::check_tasks_fit(tasks, 32, opts);

  auto pairs = [&] {
    std::set<std::pair<uint64_t, std::string>> p;
    for (const auto& e : st.evals(id)) p.insert({e.step, e.task});
    return p;
  };
  // Stopped in the middle of the third pair (a few examples into it, through score_task's progress
  // callback): the two pairs before it are recorded whole, the third not at all.
  int polls_in_third = 0;
  auto first = emergence::score_run(st, id, spec, run_dir, tasks, 2, emergence::CheckpointSpacing::kLog, opts,
                                    [&] { return pairs().size() >= 2 && ++polls_in_third > 3; });
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(first.scored, 2);
  EXPECT_GT(polls_in_third, 3);
  EXPECT_EQ(pairs(), (std::set<std::pair<uint64_t, std::string>>{{6, "add2"}, {6, "mod97"}}));
  const auto before = st.evals(id);
  // The next call scores only the four pairs missing; a third finds nothing to do.
  auto second = emergence::score_run(st, id, spec, run_dir, tasks, 2, emergence::CheckpointSpacing::kLog, opts, [] { return false; });
  EXPECT_FALSE(second.interrupted);
  EXPECT_EQ(second.skipped, 2);
  EXPECT_EQ(second.scored, 4);
  auto third = emergence::score_run(st, id, spec, run_dir, tasks, 2, emergence::CheckpointSpacing::kLog, opts, [] { return false; });
  EXPECT_EQ(third.scored, 0);
  EXPECT_EQ(third.skipped, 6);
  // Independent reference: each recorded value is score_task on the snapshot's weights.
  const auto all = st.evals(id);
  EXPECT_EQ(all.size(), 3 * before.size());  // one metric set per pair, every pair once
  for (uint64_t step : {6u, 24u}) {
    model::Gpt g(spec.model, 5);
    g.load_weights(run::snapshot_path(run_dir, step));
    for (const auto& v : emergence::score_task(g, tasks[1], opts)) {
      auto it = std::find_if(all.begin(), all.end(),
                             [&](const auto& e) { return e.step == step && e.task == "mod97" && e.metric == v.metric; });
      ASSERT_NE(it, all.end()) << v.metric;
      EXPECT_EQ(it->value, v.value) << v.metric;
      EXPECT_EQ(it->n, v.n);
      EXPECT_EQ(it->higher_is_better, v.higher_is_better);
      EXPECT_EQ(it->answer_len, tasks[1].answer_len);
    }
  }
  // A snapshot deleted before its pair was scored is an error naming the file, not a silent gap.
  const int64_t id2 = st.add_run(sw.id, [&] { store::NewRun n = nr; n.key = "r2"; return n; }());
  fs::remove(run::snapshot_path(run_dir, 12));
  try {
    emergence::score_run(st, id2, spec, run_dir, tasks, 2, emergence::CheckpointSpacing::kLog, opts, [] { return false; });
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("step_12.bin"), std::string::npos) << e.what();
  }
  // Tasks that do not fit the context are refused before any work, naming the context.
  try {
    emergence::check_tasks_fit(tasks, 8, opts);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("family.ctx"), std::string::npos) << e.what();
  }
}

// ---- the sweep through the CLI -------------------------------------------------------------------

TEST(EmergenceSweep, StoresAnEvaluationForEveryRunCheckpointTaskAndMetricAndExportsThem) {
  TempDir d;
  const std::string spec = emergence_spec_file(d);
  const std::string st = (d.path / "store.db").string();
  ASSERT_EQ(wait_exit(start_sweep_cli({"emergence", "run", spec, "--store", st, "--out", (d.path / "out").string()}, d)), 0);
  const size_t rows = check_complete(st, 3, {"add2", "mod97"});

  // The runs trained on the mixed corpus the store records, and no eval prompt is in it.
  std::string mixed_path;
  {
    auto s = store::RunStore::open(st, {store::OpenMode::kReadOnly});
    const auto sw = store::select_sweep(s, "");
    auto art = s.artifact(sw.id, "emergence_corpus");
    ASSERT_TRUE(art);
    mixed_path = (*art)["path"];
    EXPECT_EQ(fs::path(mixed_path).parent_path(), d.path / "out" / "emergence");
    for (const auto& r : s.runs(sw.id)) EXPECT_EQ(r.spec["corpus"], mixed_path) << r.key;
    EXPECT_NEAR((*art)["task_fraction"].get<double>(), 0.5, 1e-3);
  }
  const std::string mixed = io::read_file(mixed_path);
  for (const auto& t : two_tasks())
    for (const auto& e : t.eval) EXPECT_EQ(mixed.find(e.prompt), std::string::npos) << e.prompt;

  // results.csv beside the runs and `emergence export` are the same table, and it is the store's.
  const std::string results = io::read_file((d.path / "out" / "results.csv").string());
  const std::string exported = (d.path / "export.csv").string(), with_step = (d.path / "with_step.csv").string();
  ASSERT_EQ(wait_exit(scalinglab::testing::start_cli({"emergence", "export", "--store", st, "--csv", exported})), 0);
  ASSERT_EQ(wait_exit(scalinglab::testing::start_cli({"emergence", "export", "--store", st, "--csv", with_step, "--with-step"})),
            0);
  EXPECT_EQ(io::read_file(exported), results);
  const std::vector<std::string> columns{"model",  "params", "compute", "task",  "metric",           "value",      "n_examples",
                                         "stderr", "ci_lo",  "ci_hi",   "higher_is_better", "answer_len", "progress"};
  const io::Table plain = io::read_table(exported);
  EXPECT_EQ(plain.columns, columns);
  const io::Table t = io::read_table(with_step);
  EXPECT_EQ(t.columns, emergence::results_columns({.with_step = true}));
  EXPECT_EQ(t.columns.back(), "step");
  ASSERT_EQ(t.rows.size(), rows);
  ASSERT_EQ(plain.rows.size(), rows);
  for (size_t i = 0; i < rows; ++i)  // the same rows, less the step
    EXPECT_EQ(plain.rows[i], std::vector<std::string>(t.rows[i].begin(), t.rows[i].end() - 1));
  const auto evals = stored_evals(st);
  std::map<std::string, int64_t> params;
  {
    auto s = store::RunStore::open(st, {store::OpenMode::kReadOnly});
    for (const auto& r : s.runs(store::select_sweep(s, "").id)) params[r.key] = r.params_total;
  }
  auto col = [&](const char* name) { return *t.find(name); };
  const auto tasks = two_tasks();
  std::set<EvalKey> exported_keys;
  for (const auto& row : t.rows) {
    const EvalKey k{row[col("model")], std::stoull(row[col("step")]), row[col("task")], row[col("metric")]};
    exported_keys.insert(k);
    auto it = evals.find(k);
    ASSERT_NE(it, evals.end()) << row[0] << " " << std::get<1>(k) << " " << row[3] << " " << row[4];
    const store::Evaluation& e = it->second;
    EXPECT_EQ(std::stod(row[col("params")]), static_cast<double>(params[row[0]]));
    EXPECT_EQ(std::stod(row[col("compute")]), e.flops);  // doubles written with 17 digits read back exactly
    EXPECT_EQ(std::stod(row[col("value")]), e.value);
    EXPECT_EQ(std::stoll(row[col("n_examples")]), e.n);
    EXPECT_EQ(row[col("higher_is_better")], e.higher_is_better ? "1" : "0");
    EXPECT_EQ(std::stoi(row[col("answer_len")]), (row[col("task")] == "add2" ? tasks[0] : tasks[1]).answer_len);
    EXPECT_EQ(std::stod(row[col("progress")]), e.progress);
    for (const auto& [name, v] : {std::pair{"stderr", e.stderr}, {"ci_lo", e.ci_lo}, {"ci_hi", e.ci_hi}}) {
      if (row[col(name)].empty())
        EXPECT_FALSE(std::isfinite(v)) << name;
      else
        EXPECT_EQ(std::stod(row[col(name)]), v) << name;
    }
  }
  EXPECT_EQ(exported_keys.size(), evals.size());  // every evaluation, once
  // Progress values are the nominal fractions, equal across model sizes: each task × metric ×
  // progress is one curve over the three sizes.
  std::map<std::tuple<std::string, std::string, std::string>, std::set<std::string>> curves;
  for (const auto& row : plain.rows) curves[{row[3], row[4], row[12]}].insert(row[0]);
  std::set<std::string> progress;
  for (const auto& [k, models] : curves) {
    progress.insert(std::get<2>(k));
    EXPECT_EQ(models.size(), 3u);
  }
  EXPECT_EQ(progress, (std::set<std::string>{"0.125", "0.25", "0.5", "1"}));
}

TEST(EmergenceSweep, KilledThenResumedHoldsEveryEvaluationOnceWithTheUninterruptedValues) {
  TempDir d;
  const std::string spec = emergence_spec_file(d);
  fs::create_directories(d.path / "ref");
  fs::create_directories(d.path / "killed");
  const std::string ref = (d.path / "ref" / "store.db").string();
  ASSERT_EQ(wait_exit(start_sweep_cli({"emergence", "run", spec, "--store", ref}, d)), 0);

  // kill -9 of the whole process group (driver and workers) once the first evaluation row is in
  // the store, then at a later evaluation of the resumed sweep, then resume to the end.
  const std::string path = (d.path / "killed" / "store.db").string();
  auto evals_in_store = [&]() -> int64_t {
    if (!fs::exists(path)) return 0;
    try {
      auto s = store::RunStore::open(path, {store::OpenMode::kReadOnly});
      auto sweeps = s.sweeps();
      return sweeps.empty() ? 0 : s.count_evals(sweeps[0].id);
    } catch (const std::exception&) {
      return 0;  // the store is still being created
    }
  };
  pid_t pid = start_sweep_cli({"emergence", "run", spec, "--store", path}, d);
  ASSERT_TRUE(scalinglab::testing::wait_for([&] { return evals_in_store() > 0; })) << "no evaluation ever recorded";
  kill(-pid, SIGKILL);
  wait_exit(pid);
  const int64_t after_first = evals_in_store();
  EXPECT_GT(after_first, 0);
  pid = start_sweep_cli({"emergence", "resume", "--store", path}, d);
  ASSERT_TRUE(scalinglab::testing::wait_for([&] { return evals_in_store() > after_first; })) << "the resumed sweep scored nothing";
  kill(-pid, SIGKILL);
  wait_exit(pid);
  {
    auto s = store::RunStore::open(path, {store::OpenMode::kReadOnly});
    EXPECT_GT(s.counts(s.sweeps()[0].id).running + s.counts(s.sweeps()[0].id).queued, 0);  // really cut short
  }
  EXPECT_EQ(wait_exit(start_sweep_cli({"emergence", "resume", "--store", path}, d)), 0);

  const size_t n_ref = check_complete(ref, 3, {"add2", "mod97"});
  const size_t n_killed = check_complete(path, 3, {"add2", "mod97"});
  EXPECT_EQ(n_killed, n_ref);
  const auto a = stored_evals(ref), b = stored_evals(path);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, e] : a) {
    auto it = b.find(k);
    ASSERT_NE(it, b.end()) << std::get<0>(k) << " " << std::get<1>(k) << " " << std::get<2>(k) << " " << std::get<3>(k);
    // Bit for bit: training resumed from checkpoints reproduces the snapshots, scoring is deterministic.
    EXPECT_EQ(it->second.value, e.value) << std::get<0>(k) << " " << std::get<3>(k);
    EXPECT_EQ(it->second.stderr, e.stderr);
    EXPECT_EQ(it->second.n, e.n);
    EXPECT_EQ(it->second.flops, e.flops);
  }
  // The exported tables are identical too.
  const std::string ea = (d.path / "a.csv").string(), eb = (d.path / "b.csv").string();
  ASSERT_EQ(wait_exit(scalinglab::testing::start_cli({"emergence", "export", "--store", ref, "--csv", ea})), 0);
  ASSERT_EQ(wait_exit(scalinglab::testing::start_cli({"emergence", "export", "--store", path, "--csv", eb})), 0);
  EXPECT_EQ(io::read_file(ea), io::read_file(eb));
}

TEST(EmergenceSweep, CliRefusesWithOneLineNamingTheFieldAndRecordsNothing) {
  TempDir d;
  using scalinglab::testing::scalinglab_cli;
  const std::string corpus = d.file("corpus.txt", corpus_text(200));  // ~10 KB: too little for the share
  // No emergence block.
  const std::string plain = d.file("plain.json", R"({"name": "p", "corpus": "kjv"})");
  auto r = scalinglab_cli("emergence run " + plain + " --store " + d / "a.db");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find(plain + ": field 'emergence'"), std::string::npos) << r.out;
  // A bad field of the block, named with the file.
  std::string s = kEmergenceSpec;
  s.replace(s.find("CORPUS"), 6, corpus);
  nlohmann::json j = nlohmann::json::parse(s);
  j["emergence"]["tasks"][1]["kind"] = "mod_sub";
  const std::string bad = d.file("bad.json", j.dump());
  r = scalinglab_cli("emergence run " + bad + " --store " + d / "b.db");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find(bad + ": sweep spec: field 'emergence.tasks[1].kind'"), std::string::npos) << r.out;
  // A corpus too small for the mixing fraction: refused before the sweep is recorded.
  const std::string small = d.file("small.json", s);
  const std::string st = d / "c.db";
  r = scalinglab_cli("emergence run " + small + " --store " + st + " --cache " + d / "cache");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("'emergence.mix_fraction'"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_TRUE(store::RunStore::open(st, {store::OpenMode::kReadOnly}).sweeps().empty());
  // resume of a plain sweep's store, export of no store.
  {
    auto plain_store = store::RunStore::open(d / "plain.db");
    plain_store.create_sweep("p", {{"name", "p"}});
  }
  r = scalinglab_cli("emergence resume --store " + d / "plain.db");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("not an emergence sweep"), std::string::npos) << r.out;
  r = scalinglab_cli("emergence export --store " + d / "none.db" + " --csv " + d / "x.csv");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_FALSE(fs::exists(d.path / "x.csv"));
}

// `emergence demo` on a tiny family with linearly spaced checkpoints: the sweep's long table and
// its two views, each checked row by row against the table (the family view is its progress-1
// rows without `progress`; the training view is every row, model "<run>@<progress>", `run` added),
// and both analyses written and printed.
TEST(EmergenceDemo, WritesTheTableItsTwoViewsAndBothAnalyses) {
  TempDir d;
  std::string s = kEmergenceSpec;
  s.replace(s.find("\"checkpoints\": 3"), 16, "\"checkpoints\": 3, \"checkpoint_spacing\": \"linear\"");
  const std::string spec = emergence_spec_file(d, s);
  const std::string out = (d.path / "demo").string();
  const auto r = scalinglab::testing::scalinglab_cli("emergence demo --spec " + spec + " -o " + out +
                                                     " --workers 2 --threads 1 --bootstrap 20 --cache " + d / "cache");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("verdicts across the family"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verdicts along each run's training"), std::string::npos) << r.out;

  const io::Table results = io::read_table(out + "/results.csv");
  const io::Table family = io::read_table(out + "/family.csv");
  const io::Table training = io::read_table(out + "/training.csv");
  const size_t prog = results.require("progress"), model = results.require("model");
  EXPECT_FALSE(family.find("progress"));
  EXPECT_FALSE(training.find("progress"));
  ASSERT_TRUE(training.find("run"));
  std::set<double> progress;
  size_t finals = 0;
  for (size_t i = 0; i < results.rows.size(); ++i) {
    auto row = results.rows[i];
    const double p = std::stod(row[prog]);
    progress.insert(p);
    std::vector<std::string> expect = row;
    expect.erase(expect.begin() + static_cast<long>(prog));
    if (p == 1.0) {
      EXPECT_EQ(family.rows.at(finals++), expect) << i;
    }
    // Training view: the same cells, the model labelled with its checkpoint, the run beside it.
    auto t = training.rows.at(i);
    EXPECT_EQ(t.back(), row[model]) << i;
    char label[32];
    std::snprintf(label, sizeof label, "%.4g", p);
    expect[model] = row[model] + "@" + label;
    t.pop_back();
    EXPECT_EQ(t, expect) << i;
  }
  EXPECT_EQ(finals, family.rows.size());
  EXPECT_EQ(training.rows.size(), results.rows.size());
  EXPECT_EQ(progress, (std::set<double>{0.25, 0.5, 0.75, 1.0}));  // 3 linear checkpoints and the end
  // The analyses: the family view has one curve per task × metric, the training view one per run too.
  const auto fj = nlohmann::json::parse(io::read_file(out + "/family.json"));
  const auto tj = nlohmann::json::parse(io::read_file(out + "/training.json"));
  ASSERT_FALSE(fj["curves"].empty());
  EXPECT_EQ(tj["curves"].size(), 3 * fj["curves"].size());  // 3 runs
  for (const char* f : {"/family.html", "/training.html"})
    EXPECT_NE(io::read_file(out + f).find("sec-emergence"), std::string::npos) << f;
}
