#include "cli/commands.h"

namespace scalinglab::cli {
int& exit_code_ref() {
  static int code = 0;
  return code;
}
}  // namespace scalinglab::cli
