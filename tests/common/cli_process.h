#pragma once
// The CLI as a child process in its own process group, so a test can kill -9 the whole group
// (a sweep driver and its workers) at a chosen moment. Output goes to /dev/null.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace scalinglab::testing {

// Starts `scalinglab ARGS...`; returns its pid, which is also its process group id.
inline pid_t start_cli(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    std::vector<char*> argv{const_cast<char*>(SCALINGLAB_CLI_PATH)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execv(SCALINGLAB_CLI_PATH, argv.data());
    _exit(127);
  }
  setpgid(pid, pid);
  return pid;
}

// Its exit code, or -1 when it was killed by a signal.
inline int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Polls `event` until it holds (true) or `limit_s` passes (false): a test sends its signal after
// an observable event, not after a delay. The limit only guards against a hang.
inline bool wait_for(const std::function<bool()>& event, double limit_s = 300) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(limit_s);
  while (!event()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace scalinglab::testing
