#pragma once
// The `emergence` block of a sweep spec (docs/SWEEP.md, docs/EMERGENCE.md "Emergence sweeps"): which
// tasks a sweep trains on and scores, how much of the training text they make up, and at which
// points of every run the models are scored. The sweep spec (sweep/sweep_spec.h) holds it as an
// optional member; this file owns its JSON form and the checkpoint rule, so the sweep spec parser
// only delegates.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "scalinglab/emergence/task.h"

namespace scalinglab::emergence {

enum class CheckpointSpacing { kLog, kLinear };

struct EmergenceSpec {
  std::vector<TaskConfig> tasks;        // generated tasks: trained on (train split) and scored (eval split)
  std::vector<std::string> task_files;  // user JSONL tasks (load_task_jsonl): scored only, never trained on
  // Share of the training text's bytes that is task text, in (0, 1]; 1: task text alone (the
  // corpus is not used). Required when `tasks` is non-empty, refused when it is empty.
  double mix_fraction = 0;
  int checkpoints = 4;         // scoring points before the end (see eval_points); 0: the end only
  // How those points are spaced: log (2^-K … 1/2; the default: emergence is read against log
  // compute) or linear (1/(K+1) … K/(K+1): a transition late in training — a 2-layer model
  // learning the units digit at 60–80% of its run — falls between log-spaced 1/2 and the end).
  CheckpointSpacing checkpoint_spacing = CheckpointSpacing::kLog;
  int max_eval_examples = 0;   // score the first n eval examples of each task; 0: all
  bool pass_until = false;     // also the PassUntil estimate (Hu et al. 2023; costs many samples)
};

// A TaskConfig from JSON {name, kind, digits, digits_b, modulus, span, seed, n_train, n_eval,
// eval_fraction} (all but `kind` optional, defaults as in TaskConfig; name defaults to the kind's
// name, task_kind_name). `field` names the object in errors, e.g. "emergence.tasks[1]". Unknown
// fields, wrong types and values validate_task_config refuses are refused with
// std::invalid_argument "sweep spec: field '<field>.<name>' ..." (whether the problem space holds
// n_train + n_eval examples is make_task's to find out).
TaskConfig task_config_from_json(const nlohmann::json& j, const std::string& field);
nlohmann::json to_json(const TaskConfig& c);

// Parses the block; throws std::invalid_argument "sweep spec: field 'emergence.<name>' ..." for an
// unknown field, a wrong type, a mix_fraction outside (0, 1] (or given without generated tasks, or
// missing with them), checkpoints outside [0, 20], checkpoint_spacing other than "log"/"linear",
// max_eval_examples < 0, no task at all, or two tasks with one name. to_json writes every field
// but checkpoint_spacing, which it writes only when linear (so specs stored before it existed
// still match), and from_json(to_json(s)) == s.
EmergenceSpec emergence_from_json(const nlohmann::json& j);
nlohmann::json to_json(const EmergenceSpec& s);

// The tasks of the block, generated tasks first: make_task for each config (its
// std::invalid_argument re-thrown as "sweep spec: field 'emergence.tasks[i]' (name): ...") then
// load_task_jsonl for each file (io::InputError "file:line: ..."). Throws std::invalid_argument
// naming emergence.task_files[i] when a file's task takes a name already used.
std::vector<Task> make_tasks(const EmergenceSpec& s);

// One scoring point of a run: after `step` optimizer steps, at the nominal fraction `progress` of
// the run (2^-k, k/(K+1) or 1, computed the same way for every run of a sweep, so that the rows of the results
// table line up across model sizes even where step / total_steps rounds differently).
struct EvalPoint {
  uint64_t step = 0;
  double progress = 0;
};

// The scoring points of a run of `total_steps` steps: `checkpoints` = K points at the fractions
// 2^-K, ..., 1/4, 1/2 of the run (log spacing, by a factor of 2: emergence is read against log
// compute) or 1/(K+1), ..., K/(K+1) (linear), each at step round(fraction · total_steps), then the
// end (total_steps, progress 1). The steps are distinct and ascending when total_steps >= 2^K
// (log) or >= K + 1 (linear); a shorter run throws std::invalid_argument naming
// emergence.checkpoints.
std::vector<EvalPoint> eval_points(uint64_t total_steps, int checkpoints,
                                   CheckpointSpacing spacing = CheckpointSpacing::kLog);

}  // namespace scalinglab::emergence
