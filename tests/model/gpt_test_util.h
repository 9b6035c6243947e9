#pragma once
// Shared helpers for the whole-model tests.
#include <sys/wait.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "scalinglab/model/gpt.h"
#include "scalinglab/model/rng.h"

namespace scalinglab::model::testing {

// Replaces the GPT-2 init (LayerNorm gains exactly 1, biases exactly 0, tiny weights) by
// random values of every kind, so a gradient that forgets a bias or a LayerNorm gain, or
// transposes a weight, cannot hide behind identity or near-uniform attention.
inline void randomize(Gpt& m, std::uint64_t seed) {
  SplitMix64 g(seed);
  auto p = m.params();
  for (const auto& t : m.tensors()) {
    const bool gain = t.name.find("ln_") != std::string::npos && t.name.ends_with(".weight");
    const double fan_in = t.is_matrix ? t.shape[1] : 1;
    for (std::size_t i = 0; i < t.numel; ++i) {
      const double z = g.normal();
      double v;
      if (gain) v = 1.0 + 0.2 * z;
      else if (!t.is_matrix) v = 0.1 * z;
      else if (t.name == "wte.weight" || t.name == "wpe.weight") v = 0.5 * z;
      else v = 1.2 * z / std::sqrt(fan_in);
      p[t.offset + i] = static_cast<float>(v);
    }
  }
}

inline std::vector<std::int32_t> random_ids(std::size_t n, int vocab, std::uint64_t seed) {
  SplitMix64 g(seed);
  std::vector<std::int32_t> v(n);
  for (auto& x : v) x = static_cast<std::int32_t>(g.next_u64() % static_cast<std::uint64_t>(vocab));
  return v;
}

// Runs tests/model/<script> with /usr/bin/python3 (the interpreter that has torch here) on the
// given file arguments; returns its exit code (77: torch not importable) and combined output.
struct ScriptResult {
  int rc;
  std::string log;
};
inline ScriptResult run_torch_script(const std::string& script, const std::vector<std::string>& args,
                                     const std::string& log_path) {
  std::string cmd = "/usr/bin/python3 '" + std::string(SCALINGLAB_SOURCE_DIR) + "/tests/model/" + script + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " > '" + log_path + "' 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(log_path);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1,
          std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())};
}

}  // namespace scalinglab::model::testing
