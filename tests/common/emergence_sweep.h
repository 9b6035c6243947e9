#pragma once
// A tiny emergence sweep through the CLI, for the tests that need a real one (tests/emergence,
// tests/report, tests/cli): three sizes over 1.5 orders of magnitude of compute, 31 to 165 steps,
// two tasks mixed in at one half, scored at 1/8, 1/4, 1/2 and the end of every run — about a
// second with two workers of one thread. Nothing built on it may depend on how well the tiny
// models learn.
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/cli_process.h"
#include "common/temp_dir.h"

namespace scalinglab::testing {

// Word salad: nothing in it looks like a task line.
inline std::string corpus_text(int lines = 6000) {
  const char* words[] = {"the", "law", "of", "scaling", "and", "loss", "falls", "with", "compute", "data"};
  std::string s;
  uint64_t x = 11;
  for (int i = 0; i < lines; ++i) {
    for (int w = 0; w < 8; ++w) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      s += std::string(w ? " " : "") + words[(x >> 33) % 10];
    }
    s += "\n";
  }
  return s;
}

// The spec; CORPUS stands for the corpus path (emergence_spec_file fills it in).
inline constexpr const char* kEmergenceSpec = R"({"name": "em-test", "corpus": "CORPUS", "family": {"ctx": 32},
 "hyper": {"batch_tokens": 256, "lr_base": 3e-3},
 "design": {"kind": "grid", "n_min": 1e4, "n_max": 5e4, "sizes": 3, "tokens_per_param": [1.0]},
 "eval_windows": 8,
 "emergence": {"tasks": [{"name": "add2", "kind": "addition", "digits": 2, "n_train": 3000, "n_eval": 12},
                         {"name": "mod97", "kind": "mod_add", "modulus": 97, "n_train": 3000, "n_eval": 12}],
               "mix_fraction": 0.5, "checkpoints": 3}})";

// Writes corpus.txt and spec.json (from `spec`, its CORPUS replaced) into `d`; returns the spec's path.
inline std::string emergence_spec_file(const TempDir& d, const std::string& spec = kEmergenceSpec) {
  std::string s = spec;
  s.replace(s.find("CORPUS"), 6, d.file("corpus.txt", corpus_text()));
  return d.file("spec.json", s);
}

// Starts `scalinglab ARGS... --workers 2 --threads 1 --cache d/cache` (start_cli).
inline pid_t start_sweep_cli(std::vector<std::string> args, const TempDir& d) {
  for (const char* a : {"--workers", "2", "--threads", "1"}) args.push_back(a);
  args.push_back("--cache");
  args.push_back((d.path / "cache").string());
  return start_cli(args);
}

}  // namespace scalinglab::testing
