#pragma once
// The run directory's metrics log: JSON Lines, one object per logged step, readable by the
// project's table reader (io::read_table) for scaling-law fits.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace scalinglab::train {

struct MetricsRow {
  uint64_t step = 0;    // optimizer updates completed
  uint64_t tokens = 0;  // training tokens consumed so far
  double flops = 0;     // training compute so far
  double train_loss = 0;           // nats per token
  std::optional<double> eval_loss;  // nats per token, on steps with an evaluation
  double tokens_per_byte = 1;       // of the tokenizer: converts eval_loss to bits per byte
  double lr = 0;
  double grad_norm = 0;  // before clipping
  double elapsed_s = 0;
  // The final loss the monitor expects from the run so far (run/train_run: the schedule-aware
  // curve of monitor/), with its prediction interval; written only when set.
  std::optional<double> est_final_loss, est_final_lo, est_final_hi;
};

// Non-finite numbers (a diverged loss) become JSON null, since JSON has no NaN/Inf; a missing
// eval_loss is null too, so every line has the same keys.
nlohmann::ordered_json to_json(const MetricsRow& row);

class MetricsLog {
 public:
  // Opens `path` for appending, creating it. A last line without its newline (the process died
  // mid-write) is cut off. With resume_step, lines for steps after it are dropped first: those
  // steps are retrained from the checkpoint and would otherwise appear twice.
  explicit MetricsLog(std::string path, std::optional<uint64_t> resume_step = std::nullopt);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  // One write(2) of the whole line on an O_APPEND descriptor: no user-space buffer to lose on a
  // crash, and lines never interleave with another writer's. Throws std::runtime_error.
  void append(const MetricsRow& row);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

// Reads a metrics log back (for the store and reports); a torn last line is ignored, a malformed
// complete line throws io::InputError naming the line.
std::vector<MetricsRow> read_metrics(const std::string& path);

// Cross-tokenizer comparable loss (Gao et al. 2020, "The Pile"): bits per byte =
// nats per token / ln 2 * tokens per byte. Byte-level tokenization has tokens_per_byte = 1.
double bits_per_byte(double nats_per_token, double tokens_per_byte);

}  // namespace scalinglab::train
