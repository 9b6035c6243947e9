#include "scalinglab/train/metrics.h"

#include "scalinglab/io/input_error.h"
#include "scalinglab/io/read_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <numbers>
#include <sstream>
#include <stdexcept>

#include "scalinglab/io/atomic_file.h"

namespace scalinglab::train {
namespace {

nlohmann::ordered_json number(double x) {
  return std::isfinite(x) ? nlohmann::ordered_json(x) : nlohmann::ordered_json(nullptr);
}

std::runtime_error sys_error(const std::string& path, const std::string& what) {
  return std::runtime_error(path + ": " + what + " (" + std::strerror(errno) + ")");
}

}  // namespace

nlohmann::ordered_json to_json(const MetricsRow& r) {
  nlohmann::ordered_json j;  // ordered: step first, so the log reads well with `tail -f`
  j["step"] = r.step;
  j["tokens"] = r.tokens;
  j["flops"] = number(r.flops);
  j["train_loss"] = number(r.train_loss);
  j["eval_loss"] = r.eval_loss ? number(*r.eval_loss) : nlohmann::ordered_json(nullptr);
  j["eval_bits_per_byte"] =
      r.eval_loss ? number(bits_per_byte(*r.eval_loss, r.tokens_per_byte)) : nlohmann::ordered_json(nullptr);
  j["lr"] = number(r.lr);
  j["grad_norm"] = number(r.grad_norm);
  j["elapsed_s"] = number(r.elapsed_s);
  if (r.est_final_loss) {
    j["est_final_loss"] = number(*r.est_final_loss);
    j["est_final_lo"] = r.est_final_lo ? number(*r.est_final_lo) : nlohmann::ordered_json(nullptr);
    j["est_final_hi"] = r.est_final_hi ? number(*r.est_final_hi) : nlohmann::ordered_json(nullptr);
  }
  return j;
}

MetricsLog::MetricsLog(std::string path, std::optional<uint64_t> resume_step) : path_(std::move(path)) {
  std::string text;
  {
    std::ifstream in(path_, std::ios::binary);
    if (in) {
      std::ostringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    }
  }
  std::string kept;
  size_t complete = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  if (resume_step) {
    std::istringstream lines(text.substr(0, complete));
    std::string line;
    while (std::getline(lines, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      // Lines that are not ours (no integer step) are kept rather than silently destroyed.
      bool drop = !j.is_discarded() && j.is_object() && j.contains("step") && j["step"].is_number_unsigned() &&
                  j["step"].get<uint64_t>() > *resume_step;
      if (!drop) kept += line + "\n";
    }
  } else {
    kept = text.substr(0, complete);
  }
  if (kept.size() != text.size()) io::write_file_atomic(path_, kept);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw sys_error(path_, "cannot open metrics log");
}

MetricsLog::~MetricsLog() {
  if (fd_ >= 0) ::close(fd_);
}

void MetricsLog::append(const MetricsRow& row) {
  std::string line = to_json(row).dump() + "\n";
  ssize_t n = ::write(fd_, line.data(), line.size());
  if (n < 0) throw sys_error(path_, "cannot append to metrics log");
  if (static_cast<size_t>(n) != line.size()) throw std::runtime_error(path_ + ": short write to metrics log (disk full?)");
}

std::vector<MetricsRow> read_metrics(const std::string& path) {
  std::string text = io::read_file(path, "metrics log");
  std::vector<MetricsRow> rows;
  size_t start = 0;
  long line = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) break;  // torn last line: the writer died mid-line
    ++line;
    const std::string s = text.substr(start, end - start);
    start = end + 1;
    if (s.empty()) continue;
    try {
      auto j = nlohmann::json::parse(s);
      auto number = [&](const char* key) {
        const auto& v = j.at(key);
        return v.is_null() ? NAN : v.get<double>();
      };
      MetricsRow r;
      r.step = j.at("step").get<uint64_t>();
      r.tokens = j.at("tokens").get<uint64_t>();
      r.flops = number("flops");
      r.train_loss = number("train_loss");
      if (j.contains("eval_loss") && !j["eval_loss"].is_null()) r.eval_loss = j["eval_loss"].get<double>();
      r.lr = number("lr");
      r.grad_norm = number("grad_norm");
      r.elapsed_s = number("elapsed_s");
      auto opt = [&](const char* key, std::optional<double>& dst) {
        if (j.contains(key) && !j[key].is_null()) dst = j[key].get<double>();
      };
      opt("est_final_loss", r.est_final_loss);
      opt("est_final_lo", r.est_final_lo);
      opt("est_final_hi", r.est_final_hi);
      rows.push_back(r);
    } catch (const nlohmann::json::exception& e) {
      throw io::InputError(path, line, "", std::string("malformed metrics line (") + e.what() + ")");
    }
  }
  return rows;
}

double bits_per_byte(double nats_per_token, double tokens_per_byte) {
  return nats_per_token / std::numbers::ln2 * tokens_per_byte;
}

}  // namespace scalinglab::train
