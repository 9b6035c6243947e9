#include "scalinglab/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "scalinglab/data/sampler.h"
#include "scalinglab/train/checkpoint.h"
#include "scalinglab/train/metrics.h"

namespace scalinglab::train {
namespace fs = std::filesystem;

Trainer::Trainer(TrainerConfig config, const data::Corpus& corpus, std::vector<ParamTensor> table,
                 std::vector<float>& params, ModelHooks hooks)
    : cfg_(std::move(config)), corpus_(corpus), table_(std::move(table)), params_(params), hooks_(std::move(hooks)) {
  validate(cfg_.schedule);
  if (cfg_.run_dir.empty()) throw std::invalid_argument("trainer: run directory not set");
  if (!hooks_.loss_and_grad || !hooks_.loss) throw std::invalid_argument("trainer: model hooks not set");
  if (cfg_.log_every == 0) throw std::invalid_argument("trainer: log_every must be > 0");
  // Constructing the samplers checks ctx against both splits with their one-line errors.
  data::BatchSampler(corpus_.train(), cfg_.batch_size, cfg_.ctx, cfg_.seed);
  data::BatchSampler(corpus_.val(), cfg_.batch_size, cfg_.ctx, cfg_.seed);
  AdamW check(table_, params_.size(), cfg_.adamw);  // table must tile the buffer
  for (size_t i = 0; i < cfg_.snapshot_steps.size(); ++i) {
    const uint64_t s = cfg_.snapshot_steps[i];
    if (s < 1 || s > cfg_.schedule.total_steps || (i > 0 && s <= cfg_.snapshot_steps[i - 1]))
      throw std::invalid_argument("trainer: snapshot_steps must be ascending steps in [1, total_steps]");
  }
  if (!cfg_.snapshot_steps.empty() && !cfg_.snapshot) throw std::invalid_argument("trainer: snapshot_steps without a snapshot callback");
}

std::string Trainer::checkpoint_path() const { return (fs::path(cfg_.run_dir) / "checkpoint.bin").string(); }
std::string Trainer::metrics_path() const { return (fs::path(cfg_.run_dir) / "metrics.jsonl").string(); }

double Trainer::evaluate() const { return evaluate(cfg_.eval_windows); }

double Trainer::evaluate(uint64_t max_windows) const {
  data::BatchSampler val(corpus_.val(), cfg_.batch_size, cfg_.ctx, cfg_.seed);
  uint64_t windows = val.num_eval_windows();
  if (max_windows > 0) windows = std::min(windows, max_windows);
  std::vector<int32_t> batch(static_cast<size_t>(cfg_.batch_size) * (cfg_.ctx + 1));
  double sum = 0;
  uint64_t rows_total = 0;
  for (uint64_t first = 0; first < windows; first += cfg_.batch_size) {
    uint32_t rows = val.eval_batch(first, batch.data());
    rows = static_cast<uint32_t>(std::min<uint64_t>(rows, windows - first));
    sum += hooks_.loss(params_.data(), batch.data(), rows, cfg_.ctx) * rows;
    rows_total += rows;
  }
  return sum / static_cast<double>(rows_total);
}

TrainResult Trainer::run(const std::function<bool()>& stop) {
  std::error_code ec;
  fs::create_directories(cfg_.run_dir, ec);
  if (ec) throw std::runtime_error(cfg_.run_dir + ": cannot create run directory (" + ec.message() + ")");

  const uint64_t total = cfg_.schedule.total_steps;
  const uint64_t tokens_per_step = static_cast<uint64_t>(cfg_.batch_size) * cfg_.ctx;
  data::BatchSampler sampler(corpus_.train(), cfg_.batch_size, cfg_.ctx, cfg_.seed);
  AdamW opt(table_, params_.size(), cfg_.adamw);
  TrainResult res;
  double elapsed_before = 0;

  if (fs::exists(checkpoint_path())) {
    Checkpoint ck = load_checkpoint(checkpoint_path(), params_.size());
    verify_layout(ck, table_, checkpoint_path());
    if (!(ck.sampler == sampler.state()))
      throw std::invalid_argument(checkpoint_path() + ": written with seed " + std::to_string(ck.sampler.seed) +
                                  ", batch " + std::to_string(ck.sampler.batch_size) + ", ctx " +
                                  std::to_string(ck.sampler.ctx) + "; this run has seed " + std::to_string(cfg_.seed) +
                                  ", batch " + std::to_string(cfg_.batch_size) + ", ctx " + std::to_string(cfg_.ctx));
    params_ = ck.params;
    opt.restore(ck.adam_step, ck.adam_m, ck.adam_v);
    res.step = res.resumed_from = ck.step;
    res.tokens = ck.tokens_seen;
    elapsed_before = ck.elapsed_s;
    res.skipped_steps = ck.step - ck.adam_step;
  }
  // Lines past the checkpoint (or all of them, on a fresh start after a crash before the first
  // checkpoint) describe training that is about to be redone.
  MetricsLog log(metrics_path(), res.resumed_from);

  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return elapsed_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  auto save = [&] {
    Checkpoint ck;
    ck.config_json = cfg_.config_json;
    ck.step = res.step;
    ck.tokens_seen = res.tokens;
    ck.adam_step = opt.step_count();
    ck.elapsed_s = elapsed();
    ck.params = params_;
    ck.adam_m.assign(opt.m().begin(), opt.m().end());
    ck.adam_v.assign(opt.v().begin(), opt.v().end());
    ck.sampler = sampler.state();
    ck.tensors = table_;
    save_checkpoint(checkpoint_path(), ck);
  };

  util::Progress progress("train", static_cast<double>(total), "steps", cfg_.progress);
  progress.set(static_cast<double>(res.step));
  std::vector<int32_t> batch(static_cast<size_t>(cfg_.batch_size) * (cfg_.ctx + 1));
  std::vector<float> grads(params_.size());
  // Train loss is averaged over the steps since the last log line: one step's loss is too noisy.
  double loss_sum = 0;
  uint64_t loss_n = 0;
  double ema = NAN, best_ema = INFINITY;  // smoothed train loss for the spike test

  while (res.step < total) {
    const uint64_t s = res.step;
    sampler.batch(s, batch.data());
    double loss = hooks_.loss_and_grad(params_.data(), batch.data(), cfg_.batch_size, cfg_.ctx, grads.data());
    double norm = cfg_.grad_clip > 0 ? clip_grad_norm(grads.data(), grads.size(), cfg_.grad_clip)
                                     : grad_norm(grads.data(), grads.size());
    double lr = learning_rate(cfg_.schedule, s);
    // A non-finite gradient would poison every parameter through AdamW's moments; skip the
    // update (the batch is still consumed, so data order stays a function of the step).
    const bool finite = std::isfinite(norm) && std::isfinite(loss);
    if (finite)
      opt.step(params_.data(), grads.data(), lr);
    else
      ++res.skipped_steps;
    char why[160] = "";
    if (!finite && res.skipped_steps > cfg_.divergence.max_nonfinite_steps) {
      std::snprintf(why, sizeof why, "non-finite %s at step %llu", std::isfinite(loss) ? "gradient" : "loss",
                    static_cast<unsigned long long>(s + 1));
    } else if (finite) {
      ema = std::isnan(ema) ? loss : 0.9 * ema + 0.1 * loss;
      if (s >= cfg_.divergence.spike_after_steps && cfg_.divergence.spike_factor > 0 &&
          loss > cfg_.divergence.spike_factor * best_ema && loss > best_ema + cfg_.divergence.spike_min_increase)
        std::snprintf(why, sizeof why, "loss spiked to %.4g at step %llu, %.3gx the best smoothed loss %.4g", loss,
                      static_cast<unsigned long long>(s + 1), loss / best_ema, best_ema);
      best_ema = std::min(best_ema, ema);
    }
    res.step = s + 1;
    res.tokens += tokens_per_step;
    loss_sum += loss;
    ++loss_n;

    if (why[0]) {
      MetricsRow row;
      row.step = res.step;
      row.tokens = res.tokens;
      row.flops = cfg_.flops_per_token * static_cast<double>(res.tokens);
      row.train_loss = loss;
      row.lr = lr;
      row.grad_norm = norm;
      row.elapsed_s = elapsed();
      log.append(row);
      res.diverged = true;
      res.message = why;
      break;
    }
    const bool last = res.step == total;
    const bool stopping = !last && stop && stop();
    const bool do_eval = last || (cfg_.eval_every > 0 && res.step % cfg_.eval_every == 0);
    if (last || stopping || res.step % cfg_.log_every == 0 || do_eval) {
      MetricsRow row;
      row.step = res.step;
      row.tokens = res.tokens;
      row.flops = cfg_.flops_per_token * static_cast<double>(res.tokens);
      row.train_loss = res.last_train_loss = loss_sum / static_cast<double>(loss_n);
      if (do_eval)
        row.eval_loss = res.final_eval_loss =
            evaluate(last && cfg_.final_eval_windows > 0 ? cfg_.final_eval_windows : cfg_.eval_windows);
      row.lr = lr;
      row.grad_norm = norm;
      row.elapsed_s = elapsed();
      const std::string extra = cfg_.on_metrics ? cfg_.on_metrics(row) : std::string();
      log.append(row);
      loss_sum = 0;
      loss_n = 0;
      char note[96];
      const double run_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::snprintf(note, sizeof note, "loss %.4f  %.3g tokens/s", row.train_loss,
                    static_cast<double>(res.tokens - res.resumed_from * tokens_per_step) / std::max(run_s, 1e-9));
      progress.set_note(extra.empty() ? std::string(note) : std::string(note) + "  " + extra);
    }
    progress.set(static_cast<double>(res.step));
    if (std::binary_search(cfg_.snapshot_steps.begin(), cfg_.snapshot_steps.end(), res.step))
      cfg_.snapshot(res.step, std::span<const float>(params_));
    if (last || stopping || (cfg_.checkpoint_every > 0 && res.step % cfg_.checkpoint_every == 0)) save();
    if (stopping) {
      res.stopped = true;
      break;
    }
  }
  // Resumed from the checkpoint of the last step (killed after saving it, before the caller recorded
  // the result): no step ran, so the final numbers come from the checkpoint — the evaluation is
  // repeated on the same weights (bit-identical) and the last train loss is read back from the log.
  if (total > 0 && res.resumed_from == total && !res.stopped && !res.diverged) {
    res.final_eval_loss = evaluate(cfg_.final_eval_windows > 0 ? cfg_.final_eval_windows : cfg_.eval_windows);
    auto rows = read_metrics(metrics_path());
    if (!rows.empty() && rows.back().step == total) res.last_train_loss = rows.back().train_loss;
  }
  progress.finish();
  return res;
}

}  // namespace scalinglab::train
