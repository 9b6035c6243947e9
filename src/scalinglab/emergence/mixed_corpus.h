#pragma once
// The training text of an emergence sweep: the tasks' training examples (training_text, score.h)
// interleaved with corpus text so that a stated share of the bytes is task text. It is written
// once as a plain text file that data::Corpus tokenizes, splits and caches like any corpus, so
// every run of the sweep trains on the same tokens (docs/EMERGENCE.md "Emergence sweeps").
//
// What goes in: every train example of every generated task exactly once, whole (never cut by
// corpus text) and at the start of a line, and a prefix of the corpus of (1 − f)/f times the task
// bytes, cut after a newline (or at 512 bytes within a longer line, where a newline is added, so
// that every example starts a line: score_task puts "\n" before every prompt). Eval examples never go in: make_task keeps each task's
// train and eval sets disjoint, and mix_corpus refuses tasks where one task's train example has the
// prompt of another task's eval example. (The corpus itself is the user's; it is not searched.)
//
// Interleaving: the text is a merge of units (a task example, a corpus line) from each source in
// its own order; the next unit always comes from the source that would be least far through its
// bytes after it (ties: the first task, the corpus last). Every stretch of the text is therefore
// mixed at about the stated fraction, including both the train and the validation chunks that
// data::SplitRule cuts from it, and the result is a function of its inputs alone.
#include <cstdint>
#include <string>
#include <vector>

#include "scalinglab/emergence/task.h"

namespace scalinglab::emergence {

struct MixedCorpus {
  std::string text;
  uint64_t task_bytes = 0;    // bytes of task examples in `text`
  uint64_t corpus_bytes = 0;  // bytes of corpus text in `text`
  std::vector<uint64_t> bytes_by_task;  // parallel to the tasks given (0 for tasks without train examples)
  double task_fraction() const { return text.empty() ? 0 : static_cast<double>(task_bytes) / static_cast<double>(text.size()); }
};

// Mixes the train examples of `tasks` (tasks from JSONL files have none and contribute nothing)
// into `corpus_text` at `mix_fraction` (in (0, 1]; 1: no corpus text, `corpus_text` unused).
// Throws std::invalid_argument naming emergence.mix_fraction when the corpus is shorter than the
// share asks (naming `corpus_name`) or no task has train examples, naming emergence.tasks for a
// train/eval prompt shared between tasks; std::logic_error when training_text(task) is not the
// task's train examples back to back (its contract).
MixedCorpus mix_corpus(const std::string& corpus_text, const std::string& corpus_name, const std::vector<Task>& tasks,
                       double mix_fraction);

// Writes the text to <dir>/mixed-<16 hex digits of its FNV-1a hash>.txt atomically (creating
// `dir`) unless that file already holds exactly this text, and returns the path. The name changes
// with the content, so a sweep never trains on a stale mix. Throws std::runtime_error on I/O errors.
std::string write_mixed_corpus(const MixedCorpus& mixed, const std::string& dir);

// The path write_mixed_corpus would use.
std::string mixed_corpus_path(const MixedCorpus& mixed, const std::string& dir);

}  // namespace scalinglab::emergence
