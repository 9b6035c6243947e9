#include "scalinglab/model/bench_generate.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "scalinglab/model/generate.h"
#include "scalinglab/model/rng.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::model {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
}  // namespace

GenerateBenchResult bench_generate(const GenerateBenchConfig& cfg) {
  cfg.model.validate();
  if (cfg.prompt_tokens < 1) throw std::invalid_argument("prompt_tokens: must be >= 1");
  if (cfg.new_tokens < 0) throw std::invalid_argument("new_tokens: must be >= 0");
  if (cfg.repeats < 1) throw std::invalid_argument("repeats: must be >= 1");
  if (cfg.threads < 0) throw std::invalid_argument("threads: must be >= 0");
  const int n_new = cfg.new_tokens > 0 ? cfg.new_tokens : cfg.model.ctx - cfg.prompt_tokens;
  if (n_new < 1 || cfg.prompt_tokens + n_new > cfg.model.ctx)
    throw std::invalid_argument("new_tokens: prompt_tokens (" + std::to_string(cfg.prompt_tokens) + ") + new_tokens (" +
                                std::to_string(n_new) + ") must fit in ctx=" + std::to_string(cfg.model.ctx) +
                                " with at least one new token");
  const int threads = cfg.threads > 0 ? cfg.threads : omp_get_max_threads();
  omp_set_num_threads(threads);

  Gpt model(cfg.model, cfg.seed);
  model.set_precision(cfg.precision);
  SplitMix64 g(cfg.seed * 7919 + 3);
  std::vector<std::int32_t> prompt(static_cast<std::size_t>(cfg.prompt_tokens));
  for (auto& t : prompt) t = static_cast<std::int32_t>(g.next_u64() % static_cast<std::uint64_t>(cfg.model.vocab));
  SampleOptions o;
  o.temperature = cfg.temperature;
  o.max_new_tokens = n_new;
  o.seed = cfg.seed;

  GenerateBenchResult r;
  r.threads = threads;
  r.new_tokens = n_new;
  r.params = cfg.model.params_total();
  r.cached_s = r.reference_s = r.cached_cpu_s = r.reference_cpu_s = 1e300;
  r.same_tokens = true;
  // Alternating the two paths, so on a shared machine both see the same load.
  for (int rep = 0; rep < cfg.repeats; ++rep) {
    if (util::interrupted()) {
      r.interrupted = true;
      break;
    }
    const auto t0 = Clock::now();
    const double c0 = process_cpu_seconds();
    const std::vector<std::int32_t> a = generate(model, prompt, o);
    const auto t1 = Clock::now();
    const double c1 = process_cpu_seconds();
    const std::vector<std::int32_t> b = generate_reference(model, prompt, o);
    const auto t2 = Clock::now();
    const double c2 = process_cpu_seconds();
    r.cached_s = std::min(r.cached_s, seconds_between(t0, t1));
    r.reference_s = std::min(r.reference_s, seconds_between(t1, t2));
    r.cached_cpu_s = std::min(r.cached_cpu_s, c1 - c0);
    r.reference_cpu_s = std::min(r.reference_cpu_s, c2 - c1);
    r.same_tokens = r.same_tokens && a == b;
    // With a stop token absent every call emits exactly n_new tokens (checked, not assumed).
    if (static_cast<int>(a.size()) != n_new || static_cast<int>(b.size()) != n_new)
      throw std::logic_error("bench_generate: a path emitted fewer tokens than asked");
  }
  if (r.cached_s < 1e300) {
    r.cached_tokens_per_s = n_new / r.cached_s;
    r.reference_tokens_per_s = n_new / r.reference_s;
    r.speedup = r.reference_s / r.cached_s;
    r.speedup_cpu = r.reference_cpu_s / r.cached_cpu_s;
  }
  return r;
}

}  // namespace scalinglab::model
