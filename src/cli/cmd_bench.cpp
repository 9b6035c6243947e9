// `scalinglab bench fit`: how long the fitting engine takes on the bundled example (the
// side-by-side comparison with SciPy is bench/fit_vs_scipy.py, which calls this).
// `scalinglab bench train`: training-step throughput of the GPT engine against the sgemm peak
// measured in the same run (bench/train_vs_torch.py compares it with PyTorch).
// `scalinglab bench generate`: generation tokens/s, KV-cached decoder against full recomputation.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/example_data.h"
#include "cli/format.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/huber_objective.h"
#include "scalinglab/fit/multistart.h"
#include "scalinglab/io/table.h"
#include "scalinglab/kernels/cpu/gemm.h"
#include "scalinglab/model/bench_generate.h"
#include "scalinglab/model/bench_train.h"

namespace scalinglab::cli {
namespace {

struct BenchFitArgs {
  std::string data;
  int threads = 0, bootstrap = 1000, repeat = 1;
  bool json = false;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run_bench_fit(const BenchFitArgs& a) {
  fit::Dataset data = a.data.empty() ? fit::make_synthetic(example_truth(), example_design())
                                     : fit::load_runs(io::read_table(a.data), {});
  if (a.repeat < 1) throw UsageError("--repeat must be >= 1");
  auto law = fit::make_law("chinchilla");
  fit::FitOptions o;
  o.threads = a.threads;
  // Best of --repeat runs: on a shared machine the minimum is the least disturbed measurement.
  // CPU seconds (all threads) too: on a loaded machine wall time includes waiting for a core.
  fit::FittedLaw grid;
  double grid_s = 1e300, boot_s = 1e300, grid_cpu = 1e300, boot_cpu = 1e300;
  for (int r = 0; r < a.repeat; ++r) {
    o.bootstrap = 0;
    auto t0 = std::chrono::steady_clock::now();
    std::clock_t c0 = std::clock();
    grid = fit::fit(*law, data, o);
    const double g = seconds_since(t0), gc = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
    grid_s = std::min(grid_s, g);
    grid_cpu = std::min(grid_cpu, gc);
    if (a.bootstrap <= 0) {
      boot_s = boot_cpu = 0;
      continue;
    }
    o.bootstrap = a.bootstrap;
    t0 = std::chrono::steady_clock::now();
    c0 = std::clock();
    fit::fit(*law, data, o);
    boot_s = std::min(boot_s, seconds_since(t0) - g);  // the bootstrap alone
    boot_cpu = std::min(boot_cpu, static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC - gc);
  }
  if (a.json) {
    nlohmann::json j = {{"points", grid.points},       {"starts", grid.starts},
                        {"grid_fit_s", grid_s},        {"bootstrap", a.bootstrap},
                        {"bootstrap_s", boot_s},       {"objective", grid.objective},
                        {"params", grid.params.size()}, {"threads", a.threads > 0 ? a.threads : omp_get_max_threads()},
                        {"repeat", a.repeat},          {"status", grid.status},
                        {"status_detail", grid.status_detail},
                        {"converged_starts", grid.converged_starts}, {"starts_at_best", grid.starts_at_best},
                        {"continued_starts", grid.continued_starts}, {"grid_fit_cpu_s", grid_cpu},
                        {"bootstrap_cpu_s", boot_cpu}};
    std::vector<double> p;
    for (const auto& e : grid.params) p.push_back(e.value);
    j["param_values"] = p;
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << "bench fit: " << grid.points << " runs, chinchilla law (best of " << a.repeat << ")\n"
            << "  " << grid.starts << "-start grid: " << fmt(grid_s, 3) << " s (objective " << fmt(grid.objective, 6)
            << ")\n"
            << "  " << a.bootstrap << " bootstrap refits:     " << fmt(boot_s, 3) << " s\n";
}

struct BenchTrainArgs {
  model::TrainBenchConfig cfg;
  std::string precision = "fp32";
  bool json = false;
};

void run_bench_train(BenchTrainArgs& a) {
  try {
    a.cfg.model.validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("bad model: ") + e.what());
  }
  if (a.cfg.batch <= 0 || a.cfg.steps <= 0 || a.cfg.warmup < 0 || a.cfg.threads < 0 || a.cfg.peak_n <= 0)
    throw UsageError("--batch, --steps, --peak-n must be > 0; --warmup, --threads >= 0");
  try {
    a.cfg.precision = kernels::cpu::parse_precision(a.precision);
    kernels::cpu::require_precision(a.cfg.precision);
  } catch (const std::exception& e) {
    throw UsageError(std::string("--precision: ") + e.what());
  }
  const model::TrainBenchResult r = model::bench_train(a.cfg);
  const auto& m = a.cfg.model;
  if (a.json) {
    nlohmann::json j = {{"config", {{"vocab", m.vocab}, {"ctx", m.ctx}, {"d_model", m.d_model}, {"n_layer", m.n_layer},
                                    {"n_head", m.n_head}, {"rope", m.rope}, {"batch", a.cfg.batch}}},
                        {"precision", kernels::cpu::precision_name(a.cfg.precision)},
                        {"matmul_backend", r.matmul_backend},
                        {"threads", r.threads},
                        {"steps", a.cfg.steps},
                        {"warmup", a.cfg.warmup},
                        {"params", r.params},
                        {"tokens_per_step", r.tokens_per_step},
                        {"flops_per_token", r.flops_per_token},
                        {"flops_convention", "chinchilla_appendix_f_train"},
                        {"step_ms", r.step_ms},
                        {"min_ms", r.min_ms},
                        {"median_ms", r.median_ms},
                        {"forward_ms", r.forward_ms},
                        {"backward_ms", r.backward_ms},
                        {"optimizer_ms", r.optimizer_ms},
                        {"tokens_per_s", r.tokens_per_s},
                        {"tokens_per_s_best", r.tokens_per_s_best},
                        {"gflops", r.gflops},
                        {"gflops_best", r.gflops_best},
                        {"last_loss", r.last_loss},
                        {"sgemm_peak", {{"n", r.peak.n}, {"threads", r.peak.threads}, {"reps", r.peak.reps},
                                        {"best_s", r.peak.best_s}, {"gflops", r.peak.gflops},
                                        {"gflops_openblas", r.peak.gflops_openblas}, {"gflops_own", r.peak.gflops_own},
                                        {"method", "one single-threaded fp32 GEMM per OpenMP thread, concurrently; "
                                                   "best of OpenBLAS sgemm and the own AVX-512 kernel"}}},
                        {"peak_fraction", r.peak_fraction},
                        {"peak_fraction_best", r.peak_fraction_best}};
    if (a.cfg.profile) {
      nlohmann::json prof = nlohmann::json::object(), cpu = nlohmann::json::object();
      for (std::size_t i = 0; i < r.profile_ms.size(); ++i)
        prof[r.profile_ms[i].first] = r.profile_ms[i].second, cpu[r.profile_ms[i].first] = r.profile_cpu_ms[i];
      j["profile_ms_per_step"] = prof;
      j["profile_cpu_ms_per_step"] = cpu;
    }
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << "bench train: " << m.to_string() << " B=" << a.cfg.batch << ", " << fmt(static_cast<double>(r.params), 4)
            << " params, " << r.threads << " threads, " << a.cfg.steps << " timed steps after " << a.cfg.warmup
            << " warmup, " << kernels::cpu::precision_name(a.cfg.precision) << " matmuls (" << r.matmul_backend
            << ")\n"
            << "  step (fwd+bwd+AdamW): median " << fmt(r.median_ms, 4) << " ms, min " << fmt(r.min_ms, 4)
            << " ms  [forward " << fmt(r.forward_ms, 3) << ", backward " << fmt(r.backward_ms, 3) << ", AdamW "
            << fmt(r.optimizer_ms, 3) << "]\n"
            << "  tokens/s: " << fmt(r.tokens_per_s, 4) << " (best step " << fmt(r.tokens_per_s_best, 4) << ")\n"
            << "  model FLOP/s (Chinchilla App. F, 3x forward = " << fmt(r.flops_per_token, 4)
            << " FLOPs/token): " << fmt(r.gflops, 4) << " GFLOP/s (best " << fmt(r.gflops_best, 4) << ")\n"
            << "  fp32 GEMM peak (" << r.peak.threads << " concurrent single-threaded " << r.peak.n
            << "^3, best of " << r.peak.reps << "; OpenBLAS " << fmt(r.peak.gflops_openblas, 4) << ", own "
            << fmt(r.peak.gflops_own, 4) << "): " << fmt(r.peak.gflops, 4) << " GFLOP/s -> " << fmt(100 * r.peak_fraction, 3)
            << "% of peak (best step " << fmt(100 * r.peak_fraction_best, 3) << "%)\n";
  if (a.cfg.profile) {
    double total = 0, total_cpu = 0;
    for (const auto& e : r.profile_ms) total += e.second;
    for (double x : r.profile_cpu_ms) total_cpu += x;
    std::cout << "  profile per timed step: wall ms (share) | process CPU ms, all threads (share)\n";
    for (std::size_t i = 0; i < r.profile_ms.size(); ++i) {
      const auto& [name, ms] = r.profile_ms[i];
      const double c = r.profile_cpu_ms[i];
      std::cout << "    " << name << std::string(name.size() < 22 ? 22 - name.size() : 1, ' ') << fmt(ms, 4) << " ("
                << fmt(total > 0 ? 100 * ms / total : 0, 3) << "%) | " << fmt(c, 4) << " ("
                << fmt(total_cpu > 0 ? 100 * c / total_cpu : 0, 3) << "%)\n";
    }
  }
}

struct BenchGenerateArgs {
  model::GenerateBenchConfig cfg;
  std::string precision = "fp32";
  bool json = false;
};

// Without --d-model the two reference sizes of docs/PERFORMANCE.md run; with it, that one model.
std::vector<model::GptConfig> generate_bench_models(const model::GptConfig& given) {
  if (given.d_model > 0) return {given};
  const int V = given.vocab > 0 ? given.vocab : 256;
  return {model::GptConfig{V, 64, 64, 2, 2, given.rope}, model::GptConfig{V, 256, 128, 4, 4, given.rope}};
}

void run_bench_generate(BenchGenerateArgs& a) {
  model::GptConfig given = a.cfg.model;
  if (given.d_model > 0) {
    if (given.vocab <= 0) given.vocab = 256;
    if (given.ctx <= 0 || given.n_layer <= 0 || given.n_head <= 0)
      throw UsageError("--d-model needs --ctx, --layers and --heads too");
  } else if (given.ctx > 0 || given.n_layer > 0 || given.n_head > 0) {
    throw UsageError("--ctx, --layers, --heads need --d-model (without it the two default sizes run)");
  }
  if (a.cfg.prompt_tokens < 1) throw UsageError("--prompt must be >= 1");
  if (a.cfg.new_tokens < 0 || a.cfg.repeats < 1 || a.cfg.threads < 0)
    throw UsageError("--new-tokens, --threads must be >= 0; --repeat >= 1");
  if (!(a.cfg.temperature >= 0) || !std::isfinite(a.cfg.temperature)) throw UsageError("--temperature must be >= 0");
  try {
    a.cfg.precision = kernels::cpu::parse_precision(a.precision);
    kernels::cpu::require_precision(a.cfg.precision);
  } catch (const std::exception& e) {
    throw UsageError(std::string("--precision: ") + e.what());
  }
  const auto models = generate_bench_models(given);
  for (const auto& m : models) {
    try {
      m.validate();
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("bad model: ") + e.what());
    }
    const int n_new = a.cfg.new_tokens > 0 ? a.cfg.new_tokens : m.ctx - a.cfg.prompt_tokens;
    if (n_new < 1 || a.cfg.prompt_tokens + n_new > m.ctx)
      throw UsageError("--prompt + --new-tokens must fit in --ctx (" + std::to_string(m.ctx) + ") with >= 1 new token");
  }
  nlohmann::json runs = nlohmann::json::array();
  if (!a.json)
    std::cout << "bench generate: batch 1, " << (a.cfg.temperature > 0 ? "temperature " + fmt(a.cfg.temperature, 3) : "greedy")
              << ", prompt " << a.cfg.prompt_tokens << " tokens, " << kernels::cpu::precision_name(a.cfg.precision)
              << ", best of " << a.cfg.repeats << "\n";
  for (const auto& m : models) {
    model::GenerateBenchConfig c = a.cfg;
    c.model = m;
    const model::GenerateBenchResult r = model::bench_generate(c);
    if (a.json) {
      runs.push_back({{"config", {{"vocab", m.vocab}, {"ctx", m.ctx}, {"d_model", m.d_model}, {"n_layer", m.n_layer},
                                  {"n_head", m.n_head}, {"rope", m.rope}}},
                      {"params", r.params},
                      {"threads", r.threads},
                      {"prompt_tokens", c.prompt_tokens},
                      {"new_tokens", r.new_tokens},
                      {"temperature", c.temperature},
                      {"precision", kernels::cpu::precision_name(c.precision)},
                      {"repeats", c.repeats},
                      {"cached_s", r.cached_s},
                      {"reference_s", r.reference_s},
                      {"cached_tokens_per_s", r.cached_tokens_per_s},
                      {"reference_tokens_per_s", r.reference_tokens_per_s},
                      {"speedup", r.speedup},
                      {"cached_cpu_s", r.cached_cpu_s},
                      {"reference_cpu_s", r.reference_cpu_s},
                      {"speedup_cpu", r.speedup_cpu},
                      {"same_tokens", r.same_tokens},
                      {"interrupted", r.interrupted}});
    } else {
      std::cout << "  " << m.to_string() << " (" << fmt(static_cast<double>(r.params), 4) << " params), "
                << r.new_tokens << " new tokens, reference on " << r.threads << " threads:\n"
                << "    cached (KV):  " << fmt(r.cached_tokens_per_s, 4) << " tokens/s (" << fmt(1e3 * r.cached_s, 4)
                << " ms wall, " << fmt(1e3 * r.cached_cpu_s, 4) << " ms CPU)\n"
                << "    reference:    " << fmt(r.reference_tokens_per_s, 4) << " tokens/s (" << fmt(1e3 * r.reference_s, 4)
                << " ms wall, " << fmt(1e3 * r.reference_cpu_s, 4) << " ms CPU)\n"
                << "    ratio:        " << fmt(r.speedup, 4) << "x wall, " << fmt(r.speedup_cpu, 4) << "x CPU"
                << (r.same_tokens ? ", same tokens" : ", TOKENS DIFFER") << (r.interrupted ? " (interrupted)" : "")
                << "\n";
    }
    if (r.interrupted) break;
  }
  if (a.json) std::cout << nlohmann::json{{"runs", runs}}.dump(2) << "\n";
}

}  // namespace

void register_bench(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks (timings, not tests)");
  bench->require_subcommand(1);
  auto a = std::make_shared<BenchFitArgs>();
  CLI::App* f = bench->add_subcommand("fit", "Time the Chinchilla fit: 4,500-start grid and bootstrap");
  f->add_option("--data", a->data, "runs table (default: the bundled example)");
  f->add_option("--threads", a->threads, "threads (default: all cores)");
  f->add_option("--bootstrap", a->bootstrap, "bootstrap resamples")->capture_default_str();
  f->add_option("--repeat", a->repeat, "time each fit this many times and report the fastest")->capture_default_str();
  f->add_flag("--json", a->json, "print JSON");
  f->callback([a] { run_bench_fit(*a); });

  auto t = std::make_shared<BenchTrainArgs>();
  auto& c = t->cfg;
  CLI::App* tr = bench->add_subcommand("train", "Time GPT training steps (forward+backward+AdamW) against the sgemm peak");
  tr->add_option("--vocab", c.model.vocab, "vocabulary size V")->required();
  tr->add_option("--ctx", c.model.ctx, "sequence length T (batches are [B,T])")->required();
  tr->add_option("--d-model", c.model.d_model, "width d")->required();
  tr->add_option("--layers", c.model.n_layer, "transformer blocks L")->required();
  tr->add_option("--heads", c.model.n_head, "attention heads H")->required();
  tr->add_flag("--rope", c.model.rope, "rotary positions instead of a learned table");
  tr->add_option("--batch", c.batch, "sequences per step B")->required();
  tr->add_option("--threads", c.threads, "OpenMP threads (default: all cores)");
  tr->add_option("--steps", c.steps, "timed steps")->capture_default_str();
  tr->add_option("--warmup", c.warmup, "untimed steps first")->capture_default_str();
  tr->add_option("--peak-n", c.peak_n, "size of the square sgemm for the peak")->capture_default_str();
  tr->add_option("--seed", c.seed, "init and batch seed")->capture_default_str();
  tr->add_option("--precision", t->precision, "matmul precision: fp32, or bf16 (AVX512-BF16, fp32 master weights)")
      ->capture_default_str();
  tr->add_flag("--profile", c.profile, "time every kernel call and print the per-kernel breakdown");
  tr->add_flag("--json", t->json, "print JSON");
  tr->callback([t] { run_bench_train(*t); });

  auto gn = std::make_shared<BenchGenerateArgs>();
  auto& gc = gn->cfg;
  CLI::App* ge = bench->add_subcommand(
      "generate", "Time text generation, batch 1: KV-cached decoding against full recomputation (tokens/s, ratio)");
  ge->add_option("--vocab", gc.model.vocab, "vocabulary size V (default 256)");
  ge->add_option("--ctx", gc.model.ctx, "context T (with --d-model)");
  ge->add_option("--d-model", gc.model.d_model,
                 "width d; without it two sizes run: d=64 L=2 H=2 T=64 and d=128 L=4 H=4 T=256");
  ge->add_option("--layers", gc.model.n_layer, "transformer blocks L (with --d-model)");
  ge->add_option("--heads", gc.model.n_head, "attention heads H (with --d-model)");
  ge->add_flag("--rope", gc.model.rope, "rotary positions instead of a learned table");
  ge->add_option("--prompt", gc.prompt_tokens, "prompt tokens")->capture_default_str();
  ge->add_option("--new-tokens", gc.new_tokens, "tokens to generate (default: fill the context)");
  ge->add_option("--temperature", gc.temperature, "0: greedy")->capture_default_str();
  ge->add_option("--repeat", gc.repeats, "time each path this many times and report the fastest")->capture_default_str();
  ge->add_option("--threads", gc.threads, "OpenMP threads of the reference and the prefill (default: all cores)");
  ge->add_option("--seed", gc.seed, "init, prompt and sampling seed")->capture_default_str();
  ge->add_option("--precision", gn->precision, "matmul precision: fp32, or bf16")->capture_default_str();
  ge->add_flag("--json", gn->json, "print JSON");
  ge->callback([gn] { run_bench_generate(*gn); });

  register_bench_emergence(*bench);
  register_bench_monitor(*bench);
}

}  // namespace scalinglab::cli
