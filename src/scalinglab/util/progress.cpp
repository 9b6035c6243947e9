#include "scalinglab/util/progress.h"

#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>

namespace scalinglab::util {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
volatile std::sig_atomic_t g_second_exits = 1;

void on_sigint(int) {
  if (g_interrupted && g_second_exits) std::_Exit(130);
  if (g_interrupted) return;
  g_interrupted = 1;
  const char msg[] = "\nscalinglab: interrupted; finishing safely (Ctrl-C again to abort now)\n";
  (void)!::write(STDERR_FILENO, msg, sizeof(msg) - 1);
}

}  // namespace

bool interrupted() { return g_interrupted != 0; }
void clear_interrupt() { g_interrupted = 0; }
void install_interrupt_handler(bool second_exits) {
  g_second_exits = second_exits ? 1 : 0;
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
}

Progress::Progress(std::string label, double total, std::string unit, ProgressMode mode)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), mode_(mode) {
  if (mode_ == ProgressMode::kAuto) mode_ = ::isatty(STDERR_FILENO) ? ProgressMode::kBar : ProgressMode::kLines;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { finish(); }

void Progress::advance(double amount) {
  double cur = done_.load();
  while (!done_.compare_exchange_weak(cur, cur + amount)) {
  }
  draw(false);
}

void Progress::set(double done) {
  done_.store(done);
  draw(false);
}

void Progress::set_note(const std::string& note) {
  std::lock_guard<std::mutex> lock(mu_);
  note_ = note;
}

void Progress::finish() {
  if (finished_) return;
  draw(true);
  std::lock_guard<std::mutex> lock(mu_);
  if (mode_ == ProgressMode::kBar) std::fputc('\n', stderr);
  finished_ = true;
}

std::string Progress::format_duration(double s) {
  char buf[32];
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, (static_cast<int>(s) % 3600) / 60);
  }
  return buf;
}

void Progress::draw(bool force) {
  if (mode_ == ProgressMode::kQuiet || finished_) return;
  auto now = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // another thread is drawing; skip, never block workers
  double since = std::chrono::duration<double>(now - last_draw_).count();
  double min_gap = mode_ == ProgressMode::kBar ? 0.1 : 10.0;
  if (!force && since < min_gap) return;
  last_draw_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double done = done_.load();
  double frac = total_ > 0 ? std::min(1.0, done / total_) : 0.0;
  double eta = frac > 0 ? elapsed * (1 - frac) / frac : NAN;
  double rate = elapsed > 0 ? done / elapsed : 0;
  char counts[96];
  std::snprintf(counts, sizeof counts, "%.4g/%.4g%s%s", done, total_, unit_.empty() ? "" : " ", unit_.c_str());
  if (mode_ == ProgressMode::kBar) {
    const int width = 30;
    int filled = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r\033[K%s [%s] %3.0f%% %s  %.3g/s  elapsed %s  ETA %s %s", label_.c_str(), bar.c_str(),
                 100 * frac, counts, rate, format_duration(elapsed).c_str(),
                 frac >= 1 ? "0s" : format_duration(eta).c_str(), note_.c_str());
  } else {
    std::fprintf(stderr, "%s: %3.0f%% %s  elapsed %s  ETA %s %s\n", label_.c_str(), 100 * frac, counts,
                 format_duration(elapsed).c_str(), frac >= 1 ? "0s" : format_duration(eta).c_str(), note_.c_str());
  }
  std::fflush(stderr);
}

}  // namespace scalinglab::util
