// Placeholder until the scoring lands (branch h15-tasks): links, refuses to run.
#include "scalinglab/emergence/score.h"

#include <stdexcept>

namespace scalinglab::emergence {
std::vector<MetricValue> score_task(const model::Gpt&, const Task&, const ScoreOptions&) {
  throw std::logic_error("emergence::score_task is not implemented yet");
}
std::string training_text(const Task&) { throw std::logic_error("emergence::training_text is not implemented yet"); }
}  // namespace scalinglab::emergence
