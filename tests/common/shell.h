#pragma once
// Runs a shell command line and captures its exit code and combined stdout/stderr.
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace scalinglab::testing {

struct ShellResult {
  int code;
  std::string out;
};

inline ShellResult shell(const std::string& command) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The scalinglab binary with arguments.
inline ShellResult scalinglab_cli(const std::string& args) { return shell(std::string(SCALINGLAB_CLI_PATH) + " " + args); }

}  // namespace scalinglab::testing
