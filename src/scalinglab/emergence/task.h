#pragma once
// Tasks of the emergence lab: prompt → target pairs in a text format a byte-level model learns
// ("123+456=" → "579\n"), generated from a seed with disjoint train and eval sets, or read from a
// user's JSONL file. (Contract; implemented in task.cpp / task_jsonl.cpp.)
#include <cstdint>
#include <string>
#include <vector>

namespace scalinglab::emergence {

struct TaskExample {
  std::string prompt;                // e.g. "123+456="
  std::string target;                // e.g. "579\n" (what the model must produce after the prompt)
  std::vector<std::string> choices;  // multiple choice: the candidate targets (empty otherwise)
  int answer = -1;                   // index of the correct choice (multiple choice only)
};

// Built-in generators. Every kind states its answer length (tokens of the target, byte tokens).
enum class TaskKind { kAddition, kMultiplication, kModAdd, kModMul, kCopy, kCompose };

struct TaskConfig {
  std::string name;          // unique within a sweep, e.g. "add3"; defaults to the kind's name
  TaskKind kind = TaskKind::kAddition;
  int digits = 3;            // addition/multiplication operand digits (addition: k configurable)
  int modulus = 97;          // modular arithmetic p
  int span = 8;              // copy: length of the span to repeat
  std::uint64_t seed = 1;
  int n_train = 20000;       // training examples (mixed into the corpus)
  int n_eval = 500;          // held-out examples, disjoint from the training ones
};

struct Task {
  std::string name;
  TaskConfig config;                 // for generated tasks
  std::string source;                // "generated" or the JSONL path
  int answer_len = 0;                // L: target length in tokens (the longest target when they vary)
  bool multiple_choice = false;
  std::vector<TaskExample> train, eval;
};

// Throws std::invalid_argument naming the field for a bad config (digits outside [1, 9], modulus
// < 2, more examples requested than the problem space holds disjointly, ...).
Task make_task(const TaskConfig& cfg);

// User tasks: one JSON object per line with "prompt", "target" (strings) and optional "choices"
// (array of strings, the target among them). All lines are eval examples. Throws io::InputError
// "file:line: what" for a malformed line.
Task load_task_jsonl(const std::string& path, const std::string& name = "");

}  // namespace scalinglab::emergence
