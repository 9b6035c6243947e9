// Placeholder until the task generators land (branch h15-tasks): links, refuses to run.
#include "scalinglab/emergence/task.h"

#include <stdexcept>

namespace scalinglab::emergence {
Task make_task(const TaskConfig&) { throw std::logic_error("emergence::make_task is not implemented yet"); }
Task load_task_jsonl(const std::string&, const std::string&) {
  throw std::logic_error("emergence::load_task_jsonl is not implemented yet");
}
}  // namespace scalinglab::emergence
