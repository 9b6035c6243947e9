#pragma once
// Tasks of the emergence lab: prompt → target pairs in a text format a byte-level model learns
// ("123+456=" → "0579\n"), generated from a seed with disjoint train and eval sets, or read from a
// user's JSONL file. (Contract; generators in task.cpp, the JSONL reader in task_jsonl.cpp.)
//
// Formats (one byte = one token; every operand and answer is zero-padded to a fixed width so the
// answer length L is the same for every example of a task, which the mirage test p^L needs):
//   kind            prompt                 target            L (tokens)
//   addition        "%0kd+%0kd="           sum, k+1 digits   k + 2        k = digits in [1, 9]
//                   "123+456="             "0579\n"
//   multiplication  "%0ad*%0bd="           product, a+b dig. a + b + 1    a = digits, b = digits_b
//                   "12*7="                "084\n"                        (each in [1, 9])
//   mod_add         "%0wd+%0wd%%p="        (x+y) mod p, w d. w + 1        w = digits of p − 1
//                   "17+40%97="            "57\n"                         p = modulus in [2, 10^6]
//   mod_mul         "%0wd*%0wd%%p="        (x·y) mod p       w + 1        "%p" reads "mod p"
//                   "17*40%97="            "01\n"
//   copy            "copy: " s "|"         s "\n"            span + 1     s: span in [1, 32]
//                   "copy: qhvbzkdw|"      "qhvbzkdw\n"                   letters a–z
//   compose         "(%0dd+%0dd)*c="       (x+y)·c, d+2 dig. d + 3        d = digits in [1, 8],
//                   "(12+34)*3="           "0138\n"                       c in [2, 9] (one digit)
// Copy is the induction task: the span appears once, earlier in the context, and the model must
// repeat it (the behaviour of induction heads, Olsson et al. 2022); every target ends in "\n",
// which is also the stop token of greedy decoding.
//
// Disjointness: a problem is its operands (the span for copy), taken as an unordered pair for the
// commutative kinds (x+y and y+x are one problem). Whether a problem is an eval problem is a fixed
// function of that canonical problem and of the task's kind and shape (digits, modulus, span) —
// a 64-bit hash below eval_fraction — and does not depend on the seed or the counts. So train and
// eval are disjoint by construction, for every seed (train of seed 1 never meets eval of seed 2),
// and never by chance. The seed only chooses which problems of each region are drawn (without
// replacement) and in which order. Spaces of at most 2^21 problems are enumerated, so the limits
// are exact; larger ones are sampled with rejection, and a request above half the expected size
// of a region is refused (it could not be met quickly; such spaces hold ≥ 10^5 problems anyway).
#include <cstdint>
#include <string>
#include <vector>

namespace scalinglab::emergence {

struct TaskExample {
  std::string prompt;                // e.g. "123+456="
  std::string target;                // e.g. "0579\n" (what the model must produce after the prompt)
  std::vector<std::string> choices;  // multiple choice: the candidate targets (empty otherwise)
  int answer = -1;                   // index of the correct choice (multiple choice only)
};

// Built-in generators. Every kind states its answer length (tokens of the target, byte tokens).
enum class TaskKind { kAddition, kMultiplication, kModAdd, kModMul, kCopy, kCompose };

struct TaskConfig {
  std::string name;          // unique within a sweep, e.g. "add3"; defaults to the kind's name
  TaskKind kind = TaskKind::kAddition;
  int digits = 3;            // addition/multiplication/compose operand digits (addition: k configurable)
  int modulus = 97;          // modular arithmetic p
  int span = 8;              // copy: length of the span to repeat
  std::uint64_t seed = 1;
  int n_train = 20000;       // training examples (mixed into the corpus)
  int n_eval = 500;          // held-out examples, disjoint from the training ones
  int digits_b = 0;          // multiplication: digits of the second operand; 0 = same as digits
  double eval_fraction = 0.1;  // share of the problem space reserved for eval, in (0, 1)
};

struct Task {
  std::string name;
  TaskConfig config;                 // for generated tasks
  std::string source;                // "generated" or the JSONL path
  int answer_len = 0;                // L: target length in tokens (the longest target when they vary)
  bool multiple_choice = false;
  std::vector<TaskExample> train, eval;
};

// "addition", "multiplication", "mod_add", "mod_mul", "copy", "compose".
std::string task_kind_name(TaskKind kind);
// The inverse; throws std::invalid_argument listing the names (with a did-you-mean).
TaskKind parse_task_kind(const std::string& name);

// Throws std::invalid_argument naming the field for a bad config (digits outside the kind's
// range, modulus outside [2, 10^6], span outside [1, 32], eval_fraction outside (0, 1), n_eval < 1,
// n_train < 0, ...), without generating anything.
void validate_task_config(const TaskConfig& cfg);

// L of a valid config (the table above).
int answer_len(const TaskConfig& cfg);

// Number of distinct problems (ordered operands) of the config's space, as a double (exact up
// to 2^53; 26^32 for the longest copy span does not fit an integer).
double problem_space_size(const TaskConfig& cfg);

// Throws std::invalid_argument naming the field for a bad config (see validate_task_config) and
// naming n_train or n_eval, with the region's size, when more examples are requested than the
// problem space holds disjointly. Deterministic: the same config gives the same task, and the eval
// set of a seed does not depend on n_train (nor its first m examples on n_eval).
Task make_task(const TaskConfig& cfg);

// User tasks: one JSON object per line with "prompt", "target" (non-empty strings) and optional
// "choices" (an array of at least two distinct non-empty strings, the target among them; then
// every line must have choices). Other fields (e.g. "id") are ignored, except one that is a likely
// typo of an absent known field ("choice" for "choices"), which is refused. Blank lines are
// skipped. All lines are eval examples; answer_len is the longest target. The name defaults to the
// file's stem. Throws io::InputError "file:line: what" for a malformed line, an unreadable or
// empty file.
Task load_task_jsonl(const std::string& path, const std::string& name = "");

}  // namespace scalinglab::emergence
