// Task generators and the JSONL reader (emergence/task.h). Answers are recomputed here from the
// prompt text with plain integer arithmetic (an independent parse, not the generator's code).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/temp_dir.h"
#include "scalinglab/emergence/score.h"
#include "scalinglab/emergence/task.h"
#include "scalinglab/io/input_error.h"

using namespace scalinglab::emergence;
using scalinglab::io::InputError;

namespace {

TaskConfig config(TaskKind kind, int n_train, int n_eval, std::uint64_t seed = 7) {
  TaskConfig c;
  c.kind = kind;
  c.n_train = n_train;
  c.n_eval = n_eval;
  c.seed = seed;
  return c;
}

// The canonical problem behind a prompt, parsed from its text: operands (sorted when the
// operation commutes) or the copy span.
using Key = std::tuple<unsigned long long, unsigned long long, unsigned long long, std::string>;

std::string printf_str(const char* fmt, auto... args) {
  char buf[128];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

// Parses a prompt, rebuilds prompt and target with the printf formats documented in task.h
// (zero-padded widths) from integer arithmetic on the parsed operands, compares both strings
// exactly, and returns the problem's canonical key.
Key check_example(const TaskConfig& c, const TaskExample& e, int L) {
  EXPECT_EQ(static_cast<int>(e.target.size()), L) << e.prompt << " -> " << e.target;
  unsigned long long x = 0, y = 0, z = 0;
  const int d = c.digits;
  switch (c.kind) {
    case TaskKind::kAddition:
      EXPECT_EQ(std::sscanf(e.prompt.c_str(), "%llu+%llu", &x, &y), 2) << e.prompt;
      EXPECT_EQ(e.prompt, printf_str("%0*llu+%0*llu=", d, x, d, y));
      EXPECT_EQ(e.target, printf_str("%0*llu\n", d + 1, x + y));
      return {std::min(x, y), std::max(x, y), 0, ""};
    case TaskKind::kMultiplication: {
      const int db = c.digits_b == 0 ? d : c.digits_b;
      EXPECT_EQ(std::sscanf(e.prompt.c_str(), "%llu*%llu", &x, &y), 2) << e.prompt;
      EXPECT_EQ(e.prompt, printf_str("%0*llu*%0*llu=", d, x, db, y));
      EXPECT_EQ(e.target, printf_str("%0*llu\n", d + db, x * y));
      if (db == d) return {std::min(x, y), std::max(x, y), 0, ""};
      return {x, y, 0, ""};
    }
    case TaskKind::kModAdd:
    case TaskKind::kModMul: {
      const bool add = c.kind == TaskKind::kModAdd;
      const unsigned long long p = static_cast<unsigned long long>(c.modulus);
      const int w = static_cast<int>(std::to_string(p - 1).size());
      EXPECT_EQ(std::sscanf(e.prompt.c_str(), add ? "%llu+%llu%%%llu" : "%llu*%llu%%%llu", &x, &y, &z), 3) << e.prompt;
      EXPECT_EQ(z, p);
      EXPECT_LT(x, p);
      EXPECT_LT(y, p);
      EXPECT_EQ(e.prompt, printf_str(add ? "%0*llu+%0*llu%%%llu=" : "%0*llu*%0*llu%%%llu=", w, x, w, y, p));
      EXPECT_EQ(e.target, printf_str("%0*llu\n", w, add ? (x + y) % p : (x * y) % p));
      return {std::min(x, y), std::max(x, y), 0, ""};
    }
    case TaskKind::kCopy: {
      EXPECT_EQ(e.prompt.rfind("copy: ", 0), 0u) << e.prompt;
      const std::string span = e.prompt.substr(6, static_cast<std::size_t>(c.span));
      for (char ch : span) EXPECT_TRUE(ch >= 'a' && ch <= 'z') << e.prompt;
      EXPECT_EQ(e.prompt, "copy: " + span + "|");
      EXPECT_EQ(e.target, span + "\n");
      return {0, 0, 0, span};
    }
    case TaskKind::kCompose:
      EXPECT_EQ(std::sscanf(e.prompt.c_str(), "(%llu+%llu)*%llu", &x, &y, &z), 3) << e.prompt;
      EXPECT_GE(z, 2u);
      EXPECT_LE(z, 9u);
      EXPECT_EQ(e.prompt, printf_str("(%0*llu+%0*llu)*%llu=", d, x, d, y, z));
      EXPECT_EQ(e.target, printf_str("%0*llu\n", d + 2, (x + y) * z));
      return {std::min(x, y), std::max(x, y), z, ""};
  }
  return {};
}

std::vector<TaskConfig> all_kinds() {
  std::vector<TaskConfig> v;
  TaskConfig a = config(TaskKind::kAddition, 3000, 300);
  v.push_back(a);
  a.digits = 5;  // 10^10 problems: the sampled path
  v.push_back(a);
  TaskConfig m = config(TaskKind::kMultiplication, 500, 50);
  m.digits = 2, m.digits_b = 1;  // 1,000 problems
  v.push_back(m);
  m.digits_b = 0;  // 2-digit × 2-digit, commutative
  m.n_train = 2000, m.n_eval = 200;
  v.push_back(m);
  TaskConfig ma = config(TaskKind::kModAdd, 3000, 300);
  ma.modulus = 97;
  v.push_back(ma);
  TaskConfig mm = config(TaskKind::kModMul, 3000, 300);
  mm.modulus = 113;
  v.push_back(mm);
  TaskConfig cp = config(TaskKind::kCopy, 2000, 200);
  cp.span = 8;
  v.push_back(cp);
  cp.span = 3;  // 17,576 problems: enumerated
  v.push_back(cp);
  TaskConfig co = config(TaskKind::kCompose, 3000, 300);
  co.digits = 2;
  v.push_back(co);
  return v;
}

}  // namespace

TEST(Tasks, AnswersAreCorrectAndLIsTheTargetLength) {
  const std::vector<int> expected_L = {5, 7, 4, 5, 3, 4, 9, 4, 5};  // k+2, a+b+1, w+1, span+1, d+3
  const auto kinds = all_kinds();
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const Task t = make_task(kinds[i]);
    SCOPED_TRACE(t.name + " digits=" + std::to_string(kinds[i].digits) + " span=" + std::to_string(kinds[i].span));
    EXPECT_EQ(t.answer_len, expected_L[i]);
    EXPECT_EQ(t.answer_len, answer_len(kinds[i]));
    EXPECT_EQ(t.train.size(), static_cast<std::size_t>(kinds[i].n_train));
    EXPECT_EQ(t.eval.size(), static_cast<std::size_t>(kinds[i].n_eval));
    EXPECT_FALSE(t.multiple_choice);
    for (const auto& e : t.train) check_example(kinds[i], e, t.answer_len);
    for (const auto& e : t.eval) check_example(kinds[i], e, t.answer_len);
  }
}

TEST(Tasks, CoversTheOperandRanges) {
  // The draws reach both ends of each operand range (zero and the largest value), so the
  // padding is exercised and no operand range is cut short.
  TaskConfig c = config(TaskKind::kAddition, 60, 2);
  c.digits = 1;
  std::set<char> first;
  const Task t = make_task(c);
  for (const auto& e : t.train) first.insert(e.prompt[0]);
  EXPECT_TRUE(first.count('0') && first.count('9'));
  TaskConfig m = config(TaskKind::kModMul, 4000, 100);
  m.modulus = 101;  // w = 3: operands 000..100
  bool low = false, high = false;
  for (const auto& e : make_task(m).train) low |= e.prompt.rfind("000*", 0) == 0, high |= e.prompt.rfind("100*", 0) == 0;
  EXPECT_TRUE(low && high);
}

TEST(Tasks, DeterministicPerSeed) {
  for (const TaskConfig& c : all_kinds()) {
    const Task a = make_task(c), b = make_task(c);
    ASSERT_EQ(a.eval.size(), b.eval.size());
    for (std::size_t i = 0; i < a.eval.size(); ++i) EXPECT_EQ(a.eval[i].prompt, b.eval[i].prompt);
    for (std::size_t i = 0; i < a.train.size(); ++i) EXPECT_EQ(a.train[i].prompt, b.train[i].prompt);
    EXPECT_EQ(training_text(a), training_text(b));
    TaskConfig other = c;
    other.seed = c.seed + 1;
    const Task o = make_task(other);
    int same = 0;
    for (std::size_t i = 0; i < a.eval.size(); ++i) same += a.eval[i].prompt == o.eval[i].prompt;
    EXPECT_LT(same, static_cast<int>(a.eval.size()) / 2) << a.name << ": another seed gives the same draw";
  }
}

TEST(Tasks, TrainAndEvalAreDisjointProblemsForEverySeed) {
  for (const TaskConfig& c : all_kinds()) {
    SCOPED_TRACE(task_kind_name(c.kind) + " digits=" + std::to_string(c.digits));
    std::set<Key> train_keys, eval_keys;
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      TaskConfig s = c;
      s.seed = seed;
      const Task t = make_task(s);
      std::set<std::string> train_prompts, eval_prompts;
      for (const auto& e : t.train) {
        train_keys.insert(check_example(s, e, t.answer_len));
        EXPECT_TRUE(train_prompts.insert(e.prompt).second) << "duplicate train example " << e.prompt;
      }
      for (const auto& e : t.eval) {
        eval_keys.insert(check_example(s, e, t.answer_len));
        EXPECT_TRUE(eval_prompts.insert(e.prompt).second) << "duplicate eval example " << e.prompt;
      }
    }
    // Across all three seeds (commuted operands count as one problem), not one shared problem.
    int shared = 0;
    for (const Key& k : eval_keys) shared += static_cast<int>(train_keys.count(k));
    EXPECT_EQ(shared, 0);
    EXPECT_GT(eval_keys.size(), static_cast<std::size_t>(c.n_eval));  // the seeds drew different problems
  }
}

TEST(Tasks, EvalSetDoesNotDependOnNTrainAndIsPrefixStable) {
  TaskConfig c = config(TaskKind::kModAdd, 100, 300);
  const Task a = make_task(c);
  c.n_train = 5000;
  const Task b = make_task(c);
  c.n_eval = 50;
  const Task p = make_task(c);
  for (std::size_t i = 0; i < a.eval.size(); ++i) EXPECT_EQ(a.eval[i].prompt, b.eval[i].prompt);
  for (std::size_t i = 0; i < p.eval.size(); ++i) EXPECT_EQ(a.eval[i].prompt, p.eval[i].prompt);
  for (std::size_t i = 0; i < a.train.size(); ++i) EXPECT_EQ(a.train[i].prompt, b.train[i].prompt);
}

TEST(Tasks, RefusesMoreExamplesThanTheDisjointSpaceHolds) {
  // 1-digit addition: 100 ordered problems. Find the largest eval set it grants, then check that
  // train gets exactly the rest: the two regions tile the space and neither can be overdrawn.
  TaskConfig c = config(TaskKind::kAddition, 0, 1);
  c.digits = 1;
  c.eval_fraction = 0.3;
  EXPECT_EQ(problem_space_size(c), 100.0);
  int max_eval = 0;
  for (int n = 1; n <= 100; ++n) {
    c.n_eval = n;
    try {
      make_task(c);
      max_eval = n;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind("n_eval:", 0), 0u) << e.what();
      break;
    }
  }
  ASSERT_GT(max_eval, 10);
  ASSERT_LT(max_eval, 60);
  c.n_eval = max_eval;
  c.n_train = 100 - max_eval;
  const Task full = make_task(c);
  std::set<std::string> all;
  for (const auto* set : {&full.train, &full.eval})
    for (const auto& e : *set) all.insert(e.prompt);
  EXPECT_EQ(all.size(), 100u) << "the whole space, each problem once";
  c.n_train = 101 - max_eval;
  try {
    make_task(c);
    ADD_FAILURE() << "n_train beyond the train region was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("n_train:", 0), 0u) << e.what();
  }
  // Sampled spaces refuse more than half of a region: copy span 5 has 26^5 ≈ 1.19e7 problems.
  TaskConfig cp = config(TaskKind::kCopy, 0, 700000);
  cp.span = 5;
  EXPECT_THROW(make_task(cp), std::invalid_argument);
}

TEST(Tasks, ValidationNamesTheField) {
  auto field_of = [](TaskConfig c) -> std::string {
    try {
      make_task(c);
    } catch (const std::invalid_argument& e) {
      const std::string w = e.what();
      return w.substr(0, w.find(':'));
    }
    return "(accepted)";
  };
  TaskConfig c = config(TaskKind::kAddition, 10, 10);
  c.digits = 0;
  EXPECT_EQ(field_of(c), "digits");
  c.digits = 10;
  EXPECT_EQ(field_of(c), "digits");
  c = config(TaskKind::kMultiplication, 10, 10);
  c.digits_b = 10;
  EXPECT_EQ(field_of(c), "digits_b");
  c = config(TaskKind::kModMul, 10, 10);
  c.modulus = 1;
  EXPECT_EQ(field_of(c), "modulus");
  c = config(TaskKind::kCopy, 10, 10);
  c.span = 0;
  EXPECT_EQ(field_of(c), "span");
  c = config(TaskKind::kCompose, 10, 10);
  c.digits = 9;
  EXPECT_EQ(field_of(c), "digits");
  c = config(TaskKind::kAddition, 10, 0);
  EXPECT_EQ(field_of(c), "n_eval");
  c = config(TaskKind::kAddition, -1, 10);
  EXPECT_EQ(field_of(c), "n_train");
  c = config(TaskKind::kAddition, 10, 10);
  c.eval_fraction = 1.0;
  EXPECT_EQ(field_of(c), "eval_fraction");
  EXPECT_EQ(parse_task_kind("mod_mul"), TaskKind::kModMul);
  for (TaskKind k : {TaskKind::kAddition, TaskKind::kMultiplication, TaskKind::kModAdd, TaskKind::kModMul,
                     TaskKind::kCopy, TaskKind::kCompose})
    EXPECT_EQ(parse_task_kind(task_kind_name(k)), k);
  try {
    parse_task_kind("mod_ad");
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'mod_add'"), std::string::npos) << e.what();
  }
}

TEST(Tasks, TrainingTextIsTheTrainExamplesInOrder) {
  TaskConfig c = config(TaskKind::kCompose, 50, 10);
  const Task t = make_task(c);
  const std::string text = training_text(t);
  std::size_t at = 0;
  for (const auto& e : t.train) {
    ASSERT_EQ(text.compare(at, e.prompt.size(), e.prompt), 0);
    at += e.prompt.size();
    ASSERT_EQ(text.compare(at, e.target.size(), e.target), 0);
    at += e.target.size();
  }
  EXPECT_EQ(at, text.size());
  for (const auto& e : t.eval) EXPECT_EQ(text.find(e.prompt), std::string::npos) << "eval prompt in training text";
  Task user;
  user.train = {{"a", "b", {}, -1}, {"c", "d\n", {}, -1}};
  EXPECT_EQ(training_text(user), "ab\ncd\n");
}

// ---- JSONL user tasks ----

TEST(TaskJsonl, ReadsPlainAndMultipleChoice) {
  scalinglab::testing::TempDir dir;
  const std::string plain = dir.file("capitals.jsonl",
                                     "{\"prompt\": \"France:\", \"target\": \"Paris\\n\", \"id\": 3}\n"
                                     "\n"
                                     "{\"prompt\": \"Peru:\", \"target\": \"Lima\\n\"}\n");
  const Task t = load_task_jsonl(plain);
  EXPECT_EQ(t.name, "capitals");
  EXPECT_EQ(t.source, plain);
  EXPECT_FALSE(t.multiple_choice);
  ASSERT_EQ(t.eval.size(), 2u);
  EXPECT_TRUE(t.train.empty());
  EXPECT_EQ(t.eval[1].prompt, "Peru:");
  EXPECT_EQ(t.eval[1].target, "Lima\n");
  EXPECT_EQ(t.answer_len, 6);  // the longest target, "Paris\n"

  const std::string mc = dir.file("mc.jsonl",
                                  "{\"prompt\": \"2+2=\", \"target\": \"4\", \"choices\": [\"3\", \"4\", \"5\"]}\r\n"
                                  "{\"prompt\": \"1+1=\", \"target\": \"2\", \"choices\": [\"2\", \"11\"]}\n");
  const Task m = load_task_jsonl(mc, "arith_mc");
  EXPECT_EQ(m.name, "arith_mc");
  EXPECT_TRUE(m.multiple_choice);
  ASSERT_EQ(m.eval.size(), 2u);
  EXPECT_EQ(m.eval[0].answer, 1);
  EXPECT_EQ(m.eval[1].answer, 0);
  EXPECT_EQ(m.eval[1].choices[1], "11");
  EXPECT_EQ(m.answer_len, 1);
}

TEST(TaskJsonl, MalformedLinesNameFileAndLine) {
  scalinglab::testing::TempDir dir;
  const std::string good = "{\"prompt\": \"a\", \"target\": \"b\"}\n";
  const std::string good_mc = "{\"prompt\": \"a\", \"target\": \"b\", \"choices\": [\"b\", \"c\"]}\n";
  struct Case {
    std::string name, second_line, expect;
    std::string first_line;
  };
  const std::vector<Case> cases = {
      {"bad_json", "{\"prompt\": \"a\", \"target\": }", "invalid JSON", good},
      {"not_object", "[\"a\", \"b\"]", "expected a JSON object", good},
      {"no_prompt", "{\"target\": \"b\"}", "missing field 'prompt'", good},
      {"number_target", "{\"prompt\": \"a\", \"target\": 4}", "field 'target': expected a non-empty string, got a number", good},
      {"empty_prompt", "{\"prompt\": \"\", \"target\": \"b\"}", "field 'prompt': empty string", good},
      {"choices_string", "{\"prompt\": \"a\", \"target\": \"b\", \"choices\": \"b\"}", "field 'choices': expected an array", good_mc},
      {"one_choice", "{\"prompt\": \"a\", \"target\": \"b\", \"choices\": [\"b\"]}", "at least 2 choices", good_mc},
      {"choice_number", "{\"prompt\": \"a\", \"target\": \"b\", \"choices\": [\"b\", 3]}", "element 1 is a number", good_mc},
      {"dup_choice", "{\"prompt\": \"a\", \"target\": \"b\", \"choices\": [\"b\", \"b\"]}", "appears twice", good_mc},
      {"target_absent", "{\"prompt\": \"a\", \"target\": \"x\", \"choices\": [\"b\", \"c\"]}", "is not among the choices", good_mc},
      {"mixed_mc", "{\"prompt\": \"a\", \"target\": \"b\", \"choices\": [\"b\", \"c\"]}", "has 'choices' but line 1 lacks them", good},
      {"mixed_plain", "{\"prompt\": \"a\", \"target\": \"b\"}", "lacks 'choices' but line 1 has them", good_mc},
      {"typo", "{\"prompt\": \"a\", \"target\": \"b\", \"choice\": [\"b\", \"c\"]}", "unknown field 'choice' (did you mean 'choices'?)", good},
  };
  for (const Case& c : cases) {
    // The bad line is line 3 (a blank line 2 in between: numbering counts it).
    const std::string path = dir.file(c.name + ".jsonl", c.first_line + "\n" + c.second_line + "\n" + good);
    try {
      load_task_jsonl(path);
      ADD_FAILURE() << c.name << " was accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(e.line(), 3) << c.name << ": " << e.what();
      EXPECT_EQ(std::string(e.what()).rfind(path + ":3: ", 0), 0u) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << c.name << ": " << e.what();
    }
  }
  const std::string empty = dir.file("empty.jsonl", "\n  \n");
  try {
    load_task_jsonl(empty);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no examples"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_task_jsonl(dir / "missing.jsonl"), InputError);
}
