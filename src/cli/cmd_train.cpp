// `scalinglab train`: one GPT pilot run on a corpus, into a run directory (resumable).
#include <iostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "scalinglab/run/train_run.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::cli {
namespace {

struct TrainArgs {
  run::RunSpec spec;
  std::string out, schedule = "cosine", cooldown_shape = "1-sqrt", precision = "fp32";
  double batch_tokens = 0, final_lr_frac = -1;
  bool quiet = false;
};

void run_train(TrainArgs& a) {
  if (a.out.empty()) throw UsageError("--out RUN_DIR is required");
  try {
    a.spec.schedule.kind = train::parse_schedule_kind(a.schedule);
    a.spec.schedule.cooldown_shape = train::parse_cooldown_shape(a.cooldown_shape);
    a.spec.precision = kernels::cpu::parse_precision(a.precision);
    kernels::cpu::require_precision(a.spec.precision);
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
  if (a.final_lr_frac >= 0) a.spec.schedule.final_frac = a.final_lr_frac;
  if (a.batch_tokens > 0) {
    if (std::fmod(a.batch_tokens, a.spec.model.ctx) != 0)
      throw UsageError("--batch-tokens must be a multiple of --ctx (" + std::to_string(a.spec.model.ctx) + ")");
    a.spec.batch = static_cast<uint32_t>(a.batch_tokens / a.spec.model.ctx);
  }
  try {
    a.spec.validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("bad configuration: ") + e.what());
  }
  const auto& m = a.spec.model;
  if (!a.quiet)
    std::cout << "train " << m.to_string() << ": " << fmt(static_cast<double>(m.params_total()), 3) << " params ("
              << fmt(static_cast<double>(m.params_non_embedding()), 3) << " non-embedding), " << a.spec.steps()
              << " steps of " << a.spec.tokens_per_step() << " tokens = " << fmt(a.spec.tokens, 3) << " tokens, "
              << fmt(m.train_flops_per_token_chinchilla() * a.spec.tokens, 3) << " FLOPs -> " << a.out << "\n"
              << std::flush;
  util::install_interrupt_handler();
  run::RunOutcome o;
  try {
    o = run::train_run(a.spec, a.out, a.quiet ? util::ProgressMode::kQuiet : util::ProgressMode::kAuto);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (!a.quiet) {
    std::cout << o.status << ": " << o.steps << " steps, " << fmt(static_cast<double>(o.tokens), 3) << " tokens in "
              << fmt(o.wall_s, 3) << " s (" << fmt(static_cast<double>(o.tokens - o.resumed_from * a.spec.tokens_per_step()) / std::max(o.wall_s, 1e-9), 3)
              << " tokens/s); train loss " << fmt(o.train_loss, 4) << ", eval loss " << fmt(o.eval_loss, 4)
              << " nats/token = " << fmt(o.eval_bits_per_byte, 4) << " bits/byte\n";
    if (!o.message.empty()) std::cout << o.message << "\n";
    if (o.status == "interrupted") std::cout << "checkpoint saved; run the same command again to resume\n";
  }
  if (o.status == "diverged") exit_code_ref() = 3;
  if (o.status == "interrupted") exit_code_ref() = 130;
}

}  // namespace

void register_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  auto& s = a->spec;
  CLI::App* cmd = app.add_subcommand("train", "Train one GPT on a corpus into a run directory (resumes if present)");
  cmd->add_option("--out", a->out, "run directory (config.json, metrics.jsonl, checkpoint.bin, result.json)");
  cmd->add_option("--d-model", s.model.d_model, "width")->capture_default_str();
  cmd->add_option("--layers", s.model.n_layer, "transformer blocks")->capture_default_str();
  cmd->add_option("--heads", s.model.n_head, "attention heads (must divide d-model)")->capture_default_str();
  cmd->add_option("--ctx", s.model.ctx, "context length")->capture_default_str();
  cmd->add_option("--vocab", s.model.vocab, "vocabulary (256: the byte tokenizer)")->capture_default_str();
  cmd->add_flag("--rope", s.model.rope, "rotary position embedding instead of learned positions");
  cmd->add_option("--batch", s.batch, "sequences per step")->capture_default_str();
  cmd->add_option("--batch-tokens", a->batch_tokens, "tokens per step (a multiple of ctx), instead of --batch");
  cmd->add_option("--tokens", s.tokens, "training tokens")->capture_default_str();
  cmd->add_option("--lr", s.schedule.peak_lr, "peak learning rate")->capture_default_str();
  cmd->add_option("--schedule", a->schedule, "cosine (to 10% over the run) | constant | wsd")->capture_default_str();
  cmd->add_option("--warmup", s.warmup_frac, "warmup as a fraction of the run")->capture_default_str();
  cmd->add_option("--warmup-steps", s.warmup_steps, "warmup steps (overrides --warmup)");
  cmd->add_option("--final-lr-frac", a->final_lr_frac, "final lr / peak (default: 0.1 cosine, 0 wsd)");
  cmd->add_option("--cooldown", s.schedule.cooldown_frac, "wsd: cooldown fraction of the run")->capture_default_str();
  cmd->add_option("--cooldown-shape", a->cooldown_shape, "wsd: linear | 1-sqrt")->capture_default_str();
  cmd->add_option("--wd", s.adamw.weight_decay, "AdamW weight decay (matrices only)")->capture_default_str();
  cmd->add_option("--beta1", s.adamw.beta1)->capture_default_str();
  cmd->add_option("--beta2", s.adamw.beta2)->capture_default_str();
  cmd->add_option("--clip", s.grad_clip, "gradient-norm clipping (0: off)")->capture_default_str();
  cmd->add_option("--evals", s.evals, "evaluations over the run")->capture_default_str();
  cmd->add_option("--eval-windows", s.eval_windows, "validation windows per evaluation (0: whole split)")
      ->capture_default_str();
  cmd->add_option("--checkpoint-every", s.checkpoint_every, "steps between checkpoints (0: end and Ctrl-C)");
  cmd->add_option("--spike-factor", s.divergence.spike_factor, "diverged if loss > this x best smoothed loss (0: off)")
      ->capture_default_str();
  cmd->add_option("--seed", s.seed, "weights and data order")->capture_default_str();
  cmd->add_option("--threads", s.threads, "threads (default: all cores)");
  cmd->add_option("--precision", a->precision, "matmul precision: fp32 | bf16 (AVX512-BF16; fp32 master weights)")
      ->capture_default_str();
  cmd->add_option("--corpus", s.corpus, "text file or directory; default: the King James Bible")->capture_default_str();
  cmd->add_option("--cache", s.cache_dir, "where tokenized corpora are kept");
  cmd->add_flag("-q,--quiet", a->quiet, "no progress, no summary");
  cmd->callback([a] { run_train(*a); });
}

}  // namespace scalinglab::cli
