// The `emergence` block of a sweep spec: parsing with every refusal naming its field, the JSON round
// trip, the log-spaced checkpoint rule, and what plan() does with the block.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "scalinglab/emergence/emergence_spec.h"
#include "scalinglab/sweep/sweep_spec.h"

using namespace scalinglab;
using emergence::EvalPoint;

namespace {

nlohmann::json block() {
  return nlohmann::json::parse(R"({"tasks": [{"name": "add2", "kind": "addition", "digits": 2, "n_train": 2000, "n_eval": 16},
                                             {"kind": "mod_add", "modulus": 97, "seed": 3}],
                                   "task_files": ["user.jsonl"], "mix_fraction": 0.25, "checkpoints": 3,
                                   "max_eval_examples": 8, "pass_until": true})");
}

// The message of the std::invalid_argument that parsing `j` throws ("" if none).
std::string refusal(const nlohmann::json& j) {
  try {
    emergence::emergence_from_json(j);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

nlohmann::json with(nlohmann::json j, const std::string& field, const nlohmann::json& value) {
  j[field] = value;
  return j;
}

}  // namespace

TEST(EmergenceSpec, ParsesEveryFieldWithDefaults) {
  auto s = emergence::emergence_from_json(block());
  ASSERT_EQ(s.tasks.size(), 2u);
  EXPECT_EQ(s.tasks[0].name, "add2");
  EXPECT_EQ(s.tasks[0].kind, emergence::TaskKind::kAddition);
  EXPECT_EQ(s.tasks[0].digits, 2);
  EXPECT_EQ(s.tasks[0].n_train, 2000);
  EXPECT_EQ(s.tasks[0].n_eval, 16);
  EXPECT_EQ(s.tasks[1].name, "mod_add");  // the kind's name by default
  EXPECT_EQ(s.tasks[1].kind, emergence::TaskKind::kModAdd);
  EXPECT_EQ(s.tasks[1].seed, 3u);
  const emergence::TaskConfig defaults;
  EXPECT_EQ(s.tasks[1].n_train, defaults.n_train);
  EXPECT_EQ(s.tasks[1].digits, defaults.digits);
  EXPECT_EQ(s.task_files, std::vector<std::string>{"user.jsonl"});
  EXPECT_EQ(s.mix_fraction, 0.25);
  EXPECT_EQ(s.checkpoints, 3);
  EXPECT_EQ(s.max_eval_examples, 8);
  EXPECT_TRUE(s.pass_until);
  // 2e4 is a float in JSON but an integral one: accepted for a count.
  auto f = emergence::emergence_from_json(nlohmann::json::parse(R"({"tasks": [{"kind": "copy", "n_train": 2e4}], "mix_fraction": 1})"));
  EXPECT_EQ(f.tasks[0].n_train, 20000);
  EXPECT_EQ(f.checkpoints, 4);
  EXPECT_FALSE(f.pass_until);
  // Every field of a task config, including those only some kinds use.
  auto m = emergence::task_config_from_json(
      nlohmann::json::parse(R"({"kind": "multiplication", "digits": 2, "digits_b": 1, "eval_fraction": 0.2})"), "t");
  EXPECT_EQ(m.digits_b, 1);
  EXPECT_EQ(m.eval_fraction, 0.2);
  EXPECT_EQ(emergence::to_json(m), emergence::to_json(emergence::task_config_from_json(emergence::to_json(m), "t")));
}

TEST(EmergenceSpec, RoundTripsThroughJsonAndTheSweepSpec) {
  auto s = emergence::emergence_from_json(block());
  auto j = emergence::to_json(s);
  EXPECT_EQ(emergence::to_json(emergence::emergence_from_json(j)), j);
  nlohmann::json sweep = {{"name", "em"}, {"emergence", block()}};
  auto spec = sweep::sweep_from_json(sweep);
  ASSERT_TRUE(spec.emergence);
  EXPECT_EQ(sweep::to_json(spec)["emergence"], j);
  EXPECT_EQ(sweep::to_json(sweep::sweep_from_json(sweep::to_json(spec))), sweep::to_json(spec));
  // A sweep without the block serialises without it, as before (stored specs of older sweeps match).
  EXPECT_FALSE(sweep::to_json(sweep::sweep_from_json(nlohmann::json::object())).contains("emergence"));
}

TEST(EmergenceSpec, RefusalsNameTheField) {
  const auto b = block();
  struct Case {
    nlohmann::json j;
    std::string field;
  };
  nlohmann::json bad_task = b;
  bad_task["tasks"][1]["kind"] = "subtraction";
  nlohmann::json unknown_task_field = b;
  unknown_task_field["tasks"][0]["digit"] = 2;
  nlohmann::json no_kind = b;
  no_kind["tasks"][0].erase("kind");
  nlohmann::json digits = b;
  digits["tasks"][0]["digits"] = 12;  // validate_task_config: addition takes 1..9 digits
  nlohmann::json fractional = b;
  fractional["tasks"][0]["n_train"] = 10.5;
  nlohmann::json negative_seed = b;
  negative_seed["tasks"][0]["seed"] = -1;
  nlohmann::json dup = b;
  dup["tasks"][1]["name"] = "add2";
  nlohmann::json no_mix = b;
  no_mix.erase("mix_fraction");
  nlohmann::json files_only = {{"task_files", {"a.jsonl"}}, {"mix_fraction", 0.5}};
  const Case cases[] = {
      {with(b, "mix_fraction", 0), "'emergence.mix_fraction'"},
      {with(b, "mix_fraction", 1.5), "'emergence.mix_fraction'"},
      {with(b, "mix_fraction", "half"), "'emergence.mix_fraction'"},
      {no_mix, "'emergence.mix_fraction'"},
      {files_only, "'emergence.mix_fraction'"},
      {with(b, "checkpoints", -1), "'emergence.checkpoints'"},
      {with(b, "checkpoints", 21), "'emergence.checkpoints'"},
      {with(b, "max_eval_examples", -2), "'emergence.max_eval_examples'"},
      {with(b, "pass_until", 1), "'emergence.pass_until'"},
      {with(b, "tasks", nlohmann::json::object()), "'emergence.tasks'"},
      {with(with(b, "tasks", nlohmann::json::array()), "task_files", nlohmann::json::array()), "'emergence.tasks'"},
      {with(b, "task_files", {""}), "'emergence.task_files[0]'"},
      {with(b, "checkpionts", 3), "'emergence.checkpionts'"},
      {bad_task, "'emergence.tasks[1].kind'"},
      {unknown_task_field, "'emergence.tasks[0].digit'"},
      {no_kind, "'emergence.tasks[0].kind'"},
      {fractional, "'emergence.tasks[0].n_train'"},
      {digits, "'emergence.tasks[0].digits'"},
      {negative_seed, "'emergence.tasks[0].seed'"},
      {dup, "'emergence.tasks[1].name'"},
  };
  for (const auto& c : cases) {
    const std::string msg = refusal(c.j);
    EXPECT_NE(msg.find(c.field), std::string::npos) << c.j.dump() << " -> " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;  // one line
  }
  // Within a sweep spec the block is checked the same way.
  try {
    sweep::sweep_from_json({{"emergence", with(b, "mix_fraction", 2)}});
    ADD_FAILURE() << "not refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'emergence.mix_fraction'"), std::string::npos) << e.what();
  }
}

TEST(EmergenceSpec, CheckpointsAreLogSpacedByTwoPlusTheEnd) {
  // 100 steps, K = 4: 1/16, 1/8, 1/4, 1/2 of the run, rounded half away from zero, then the end.
  const auto p = emergence::eval_points(100, 4);
  ASSERT_EQ(p.size(), 5u);
  const uint64_t steps[] = {6, 13, 25, 50, 100};  // round(6.25), round(12.5), 25, 50, 100
  const double fractions[] = {0.0625, 0.125, 0.25, 0.5, 1};
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_EQ(p[i].step, steps[i]) << i;
    EXPECT_EQ(p[i].progress, fractions[i]) << i;
  }
  // Consecutive fractions double: equally spaced in log compute.
  for (size_t i = 1; i < p.size(); ++i) EXPECT_EQ(p[i].progress / p[i - 1].progress, 2.0);
  // K = 0: the end only; the shortest run that holds K points has 2^K steps.
  ASSERT_EQ(emergence::eval_points(7, 0).size(), 1u);
  EXPECT_EQ(emergence::eval_points(7, 0)[0].step, 7u);
  const auto tight = emergence::eval_points(8, 3);
  ASSERT_EQ(tight.size(), 4u);
  for (size_t i = 0; i < tight.size(); ++i) EXPECT_EQ(tight[i].step, uint64_t{1} << i);
  try {
    emergence::eval_points(7, 3);
    ADD_FAILURE() << "7 steps cannot hold 3 log-spaced checkpoints";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'emergence.checkpoints'"), std::string::npos);
  }
}

TEST(EmergenceSpec, LinearCheckpointsAreEquallySpacedPlusTheEnd) {
  // 100 steps, K = 9 linear: k/10 of the run for k = 1..9, then the end.
  const auto p = emergence::eval_points(100, 9, emergence::CheckpointSpacing::kLinear);
  ASSERT_EQ(p.size(), 10u);
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_EQ(p[i].step, 10 * (i + 1)) << i;
    EXPECT_DOUBLE_EQ(p[i].progress, static_cast<double>(i + 1) / 10) << i;
  }
  // 7 steps, K = 3: round(7k/4) = 2 (1.75), 4 (3.5, half up), 5 (5.25), then 7; K + 1 steps is the least.
  const auto q = emergence::eval_points(7, 3, emergence::CheckpointSpacing::kLinear);
  const uint64_t steps[] = {2, 4, 5, 7};
  ASSERT_EQ(q.size(), 4u);
  for (size_t i = 0; i < q.size(); ++i) EXPECT_EQ(q[i].step, steps[i]) << i;
  const auto tight = emergence::eval_points(4, 3, emergence::CheckpointSpacing::kLinear);
  for (size_t i = 0; i < tight.size(); ++i) EXPECT_EQ(tight[i].step, i + 1) << i;
  EXPECT_THROW(emergence::eval_points(3, 3, emergence::CheckpointSpacing::kLinear), std::invalid_argument);
  // The spec field: written only when linear (older stored specs keep matching), read back, and
  // anything but "log"/"linear" refused naming the field.
  auto b = block();
  EXPECT_FALSE(emergence::to_json(emergence::emergence_from_json(b)).contains("checkpoint_spacing"));
  b["checkpoint_spacing"] = "linear";
  const auto s = emergence::emergence_from_json(b);
  EXPECT_EQ(s.checkpoint_spacing, emergence::CheckpointSpacing::kLinear);
  EXPECT_EQ(emergence::to_json(s)["checkpoint_spacing"], "linear");
  EXPECT_EQ(emergence::to_json(emergence::emergence_from_json(emergence::to_json(s))), emergence::to_json(s));
  b["checkpoint_spacing"] = "geometric";
  try {
    emergence::emergence_from_json(b);
    ADD_FAILURE() << "not refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'emergence.checkpoint_spacing'"), std::string::npos) << e.what();
  }
}

TEST(EmergenceSpec, PlanGivesEveryRunSnapshotsAtItsCheckpoints) {
  nlohmann::json j = {{"family", {{"ctx", 32}}},
                      {"hyper", {{"batch_tokens", 256}}},
                      {"design", {{"kind", "grid"}, {"n_min", 1e4}, {"n_max", 6e4}, {"sizes", 3}, {"tokens_per_param", {1.5}}}},
                      {"emergence", block()}};
  auto spec = sweep::sweep_from_json(j);
  auto runs = sweep::plan(spec);
  ASSERT_GE(runs.size(), 3u);
  for (const auto& r : runs) {
    std::vector<uint64_t> want;
    for (const auto& p : emergence::eval_points(r.spec.steps(), 3)) want.push_back(p.step);
    EXPECT_EQ(r.spec.snapshot_steps, want) << r.key;
    EXPECT_EQ(r.spec.snapshot_steps.back(), r.spec.steps());
    // The run spec carries them (the worker and a resumed run read the stored spec).
    EXPECT_EQ(run::spec_from_json(sweep::stored_spec(r)).snapshot_steps, want);
  }
  // Without the block no run snapshots, and the stored spec has no such field.
  j.erase("emergence");
  for (const auto& r : sweep::plan(sweep::sweep_from_json(j))) {
    EXPECT_TRUE(r.spec.snapshot_steps.empty());
    EXPECT_FALSE(sweep::stored_spec(r).contains("snapshot_steps"));
  }
}

TEST(EmergenceSpec, PlanRefusesWsdAndRunsTooShortForTheCheckpoints) {
  nlohmann::json j = {{"family", {{"ctx", 32}}},
                      {"hyper", {{"batch_tokens", 256}}},
                      {"design", {{"kind", "grid"}, {"n_min", 1e4}, {"n_max", 6e4}, {"sizes", 3}, {"tokens_per_param", {1.5}}}},
                      {"emergence", with(block(), "checkpoints", 12)}};  // 4096 steps needed
  try {
    sweep::plan(sweep::sweep_from_json(j));
    ADD_FAILURE() << "runs of a few hundred steps cannot hold 12 doublings";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'emergence.checkpoints'"), std::string::npos) << e.what();
  }
  j["emergence"]["checkpoints"] = 2;
  j["design"]["kind"] = "wsd";
  j["design"]["tokens_per_param"] = {1.5, 3};
  try {
    sweep::plan(sweep::sweep_from_json(j));
    ADD_FAILURE() << "WSD branches do not train their own first steps";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'emergence'"), std::string::npos) << e.what();
  }
}
