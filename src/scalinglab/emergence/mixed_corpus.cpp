#include "scalinglab/emergence/mixed_corpus.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "scalinglab/data/corpus.h"
#include "scalinglab/emergence/score.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/io/read_file.h"

namespace scalinglab::emergence {
namespace {

constexpr size_t kMaxCorpusUnit = 512;

// training_text(task) cut back into its examples: at each position, the train example (prompt +
// target) that starts there. Units are views into `text`.
std::vector<std::string_view> example_units(std::string_view text, const Task& task) {
  std::unordered_set<std::string> examples;
  std::set<size_t> lengths;
  for (const auto& e : task.train) {
    // As training_text writes them: a target that does not end in "\n" is followed by one.
    std::string ex = e.prompt + e.target;
    if (e.target.empty() || e.target.back() != '\n') ex += '\n';
    lengths.insert(ex.size());
    examples.insert(std::move(ex));
  }
  std::vector<std::string_view> units;
  size_t pos = 0;
  std::string probe;
  while (pos < text.size()) {
    size_t found = 0;
    for (size_t len : lengths) {
      if (len == 0 || pos + len > text.size()) continue;
      probe.assign(text.substr(pos, len));
      if (examples.count(probe)) {
        found = len;
        break;
      }
    }
    if (found == 0)
      throw std::logic_error("emergence: training_text of task '" + task.name + "' is not its train examples back to back (byte " +
                             std::to_string(pos) + " starts none of them)");
    units.push_back(text.substr(pos, found));
    pos += found;
  }
  return units;
}

// A piece of the mixed text: a view into its source, plus a newline for a corpus piece cut inside
// a line, so that every task example in the mixed text starts a line, as score_task's prefix
// ("\n" before every prompt) assumes.
struct Unit {
  std::string_view text;
  bool newline = false;
  size_t size() const { return text.size() + (newline ? 1 : 0); }
};

// The corpus prefix of at least `need` bytes cut after each newline, and within a line every
// kMaxCorpusUnit bytes (and at its end when it lacks a final newline).
std::vector<Unit> corpus_units(std::string_view text, uint64_t need) {
  std::vector<Unit> units;
  uint64_t taken = 0;
  size_t pos = 0;
  while (taken < need && pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    end = std::min(end, pos + kMaxCorpusUnit);
    Unit u{text.substr(pos, end - pos), text[end - 1] != '\n'};
    units.push_back(u);
    taken += u.size();
    pos = end;
  }
  return units;
}

struct Source {
  std::vector<Unit> units;
  uint64_t total = 0, emitted = 0;
  size_t next = 0;
  bool done() const { return next >= units.size(); }
};

}  // namespace

MixedCorpus mix_corpus(const std::string& corpus_text, const std::string& corpus_name, const std::vector<Task>& tasks,
                       double mix_fraction) {
  if (!(mix_fraction > 0 && mix_fraction <= 1))
    throw std::invalid_argument("sweep spec: field 'emergence.mix_fraction' must be in (0, 1]");
  // Leakage across tasks: make_task separates a task's own sets; two tasks of one sweep (say two
  // seeds of one generator) could still train one on the other's eval prompts.
  std::unordered_map<std::string, const Task*> eval_prompts;
  for (const auto& t : tasks)
    for (const auto& e : t.eval) eval_prompts.emplace(e.prompt, &t);
  for (const auto& t : tasks)
    for (const auto& e : t.train) {
      auto it = eval_prompts.find(e.prompt);
      if (it != eval_prompts.end() && it->second != &t)
        throw std::invalid_argument("sweep spec: field 'emergence.tasks': the prompt \"" + e.prompt + "\" is a training example of task '" +
                                    t.name + "' and an eval example of task '" + it->second->name +
                                    "'; give the tasks different seeds, sizes or kinds");
    }

  MixedCorpus m;
  m.bytes_by_task.assign(tasks.size(), 0);
  std::vector<std::string> texts;  // owned: the sources are views into them
  texts.reserve(tasks.size());
  std::vector<Source> sources;
  std::vector<int> task_of;  // source -> task index, -1 for the corpus
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].train.empty()) continue;
    texts.push_back(training_text(tasks[i]));
    Source s;
    for (std::string_view u : example_units(texts.back(), tasks[i])) s.units.push_back({u, false});
    s.total = texts.back().size();
    m.bytes_by_task[i] = s.total;
    m.task_bytes += s.total;
    if (s.total > 0) {
      sources.push_back(std::move(s));
      task_of.push_back(static_cast<int>(i));
    }
  }
  if (m.task_bytes == 0)
    throw std::invalid_argument("sweep spec: field 'emergence.tasks': no task has training examples to mix into the corpus");
  if (mix_fraction < 1) {
    const auto need = static_cast<uint64_t>(std::ceil(static_cast<double>(m.task_bytes) * (1 - mix_fraction) / mix_fraction));
    if (corpus_text.size() < need) {
      char f[32];
      std::snprintf(f, sizeof f, "%g", mix_fraction);
      throw std::invalid_argument("sweep spec: field 'emergence.mix_fraction' (" + std::string(f) + ") with " +
                                  std::to_string(m.task_bytes) + " bytes of task text needs " + std::to_string(need) +
                                  " bytes of corpus text; " + corpus_name + " has " + std::to_string(corpus_text.size()) +
                                  " (raise mix_fraction, lower the tasks' n_train or use a larger corpus)");
    }
    Source c;
    c.units = corpus_units(corpus_text, need);
    for (auto u : c.units) c.total += u.size();
    m.corpus_bytes = c.total;
    sources.push_back(std::move(c));
    task_of.push_back(-1);
  }

  m.text.reserve(m.task_bytes + m.corpus_bytes);
  for (;;) {
    // The source least far through its bytes after its next unit: (emitted + len) / total,
    // compared exactly in integers.
    int best = -1;
    unsigned __int128 best_num = 0, best_den = 1;
    for (size_t s = 0; s < sources.size(); ++s) {
      if (sources[s].done()) continue;
      const unsigned __int128 num = sources[s].emitted + sources[s].units[sources[s].next].size(), den = sources[s].total;
      if (best < 0 || num * best_den < best_num * den) {
        best = static_cast<int>(s);
        best_num = num;
        best_den = den;
      }
    }
    if (best < 0) break;
    Source& s = sources[static_cast<size_t>(best)];
    const Unit& u = s.units[s.next++];
    m.text.append(u.text);
    if (u.newline) m.text += '\n';
    s.emitted += u.size();
  }
  return m;
}

std::string mixed_corpus_path(const MixedCorpus& mixed, const std::string& dir) {
  const uint64_t h = data::fnv1a64(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(mixed.text.data()), mixed.text.size()));
  char name[40];
  std::snprintf(name, sizeof name, "mixed-%016llx.txt", static_cast<unsigned long long>(h));
  return (std::filesystem::path(dir) / name).string();
}

std::string write_mixed_corpus(const MixedCorpus& mixed, const std::string& dir) {
  const std::string path = mixed_corpus_path(mixed, dir);
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) == mixed.text.size() &&
      io::read_file(path, "mixed corpus") == mixed.text)
    return path;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir + ": cannot create the mixed corpus directory (" + ec.message() + ")");
  io::write_file_atomic(path, mixed.text);
  return path;
}

}  // namespace scalinglab::emergence
