#pragma once
// Throughput of text generation (model/generate.h): the KV-cached path against full
// recomputation, batch 1, on one model with the same prompt and options, so the ratio is the
// cache's speed-up at that shape. Used by `scalinglab bench generate` (docs/PERFORMANCE.md).
#include <cstdint>

#include "scalinglab/kernels/cpu/gemm.h"
#include "scalinglab/model/gpt_config.h"

namespace scalinglab::model {

struct GenerateBenchConfig {
  GptConfig model;
  int prompt_tokens = 1;    // random prompt of this length
  int new_tokens = 0;       // tokens to generate; 0: fill the context (ctx - prompt_tokens)
  double temperature = 0;   // 0: greedy
  int repeats = 3;          // each path is timed this many times; the fastest counts
  int threads = 0;          // OpenMP threads for the reference (and the prefill); 0: all
  unsigned long long seed = 1;  // GPT-2 init, prompt and sampling
  kernels::cpu::Precision precision = kernels::cpu::Precision::fp32;
};

struct GenerateBenchResult {
  int threads = 0;
  int new_tokens = 0;
  long long params = 0;
  double cached_s = 0, reference_s = 0;  // fastest generate() / generate_reference() call (wall)
  // Process CPU seconds (all threads) of the call with the least: on a shared machine the
  // steadier figure, as it does not count time spent preempted. The cached path is serial
  // after its prefill; the reference runs its kernels on `threads` threads.
  double cached_cpu_s = 0, reference_cpu_s = 0;
  double cached_tokens_per_s = 0, reference_tokens_per_s = 0;
  double speedup = 0;                    // reference_s / cached_s
  double speedup_cpu = 0;                // reference_cpu_s / cached_cpu_s (work, not latency)
  bool same_tokens = false;              // did both paths emit the same tokens (every repeat)?
  bool interrupted = false;              // stopped by Ctrl-C before all repeats (figures so far)
};

// Throws std::invalid_argument naming the field: an invalid model, prompt_tokens < 1,
// new_tokens < 0, prompt_tokens + new_tokens > ctx, repeats < 1, threads < 0.
// Stops between repeats on util::interrupted().
GenerateBenchResult bench_generate(const GenerateBenchConfig& cfg);

}  // namespace scalinglab::model
