#pragma once
// Progress for long work: a redrawn bar with rate and ETA on a terminal (stderr), plain
// occasional lines when stderr is not a TTY (CI logs stay readable), nothing when quiet.
// Thread-safe: workers may call advance() concurrently.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

namespace scalinglab::util {

enum class ProgressMode { kAuto, kBar, kLines, kQuiet };

class Progress {
 public:
  Progress(std::string label, double total, std::string unit = "", ProgressMode mode = ProgressMode::kAuto);
  ~Progress();  // finishes the line if still open
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(double amount = 1);
  void set(double done);
  void set_note(const std::string& note);  // a short status shown after the bar
  void finish();

  static std::string format_duration(double seconds);  // "1h02m", "3m05s", "12.3s"

 private:
  void draw(bool force);
  std::string label_, unit_, note_;
  double total_;
  std::atomic<double> done_{0};
  ProgressMode mode_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mu_;
  bool finished_ = false;
};

// Set by a SIGINT handler; long loops poll it to stop cleanly at a safe point.
bool interrupted();
// The first Ctrl-C sets the flag; a second one exits at once unless `second_exits` is false
// (worker processes, which may receive the same Ctrl-C from the terminal and from their driver).
void install_interrupt_handler(bool second_exits = true);
void clear_interrupt();

}  // namespace scalinglab::util
