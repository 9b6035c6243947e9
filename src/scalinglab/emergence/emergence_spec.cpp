#include "scalinglab/emergence/emergence_spec.h"

#include <cmath>
#include <set>
#include <stdexcept>

namespace scalinglab::emergence {
namespace {

[[noreturn]] void bad(const std::string& field, const std::string& what) {
  throw std::invalid_argument("sweep spec: field '" + field + "' " + what);
}

void refuse_unknown(const nlohmann::json& j, const std::set<std::string>& known, const std::string& prefix) {
  if (!j.is_object()) bad(prefix, "must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.count(it.key())) throw std::invalid_argument("sweep spec: unknown field '" + prefix + "." + it.key() + "'");
}

// An integer field: a JSON integer, or a number with an integral value (2e4 is a float in JSON).
int64_t integer(const nlohmann::json& v, const std::string& field) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<int64_t>(d);
  }
  bad(field, "must be an integer");
}

int int_field(const nlohmann::json& j, const char* name, int fallback, const std::string& prefix) {
  if (!j.contains(name)) return fallback;
  const std::string field = prefix + "." + name;
  const int64_t v = integer(j[name], field);
  if (v < INT32_MIN || v > INT32_MAX) bad(field, "is out of range");
  return static_cast<int>(v);
}

// Re-throws an error of the task generators ("digits: must be in [1, 9] ...", naming a TaskConfig
// field) with the field's place in the spec.
[[noreturn]] void rethrow_in(const std::string& prefix, const std::invalid_argument& e) {
  const std::string msg = e.what();
  const size_t colon = msg.find(": ");
  if (colon == std::string::npos || msg.find(' ') < colon) throw std::invalid_argument("sweep spec: field '" + prefix + "': " + msg);
  throw std::invalid_argument("sweep spec: field '" + prefix + "." + msg.substr(0, colon) + "': " + msg.substr(colon + 2));
}

}  // namespace

TaskConfig task_config_from_json(const nlohmann::json& j, const std::string& field) {
  refuse_unknown(j, {"name", "kind", "digits", "digits_b", "modulus", "span", "seed", "n_train", "n_eval", "eval_fraction"},
                 field);
  TaskConfig c;
  if (!j.contains("kind")) bad(field + ".kind", "is required");
  if (!j["kind"].is_string()) bad(field + ".kind", "must be a string");
  try {
    c.kind = parse_task_kind(j["kind"].get<std::string>());
  } catch (const std::invalid_argument& e) {
    rethrow_in(field, e);  // "kind: unknown task kind ..."
  }
  if (j.contains("name")) {
    if (!j["name"].is_string() || j["name"].get<std::string>().empty() ||
        j["name"].get<std::string>().find_first_of("\n\r") != std::string::npos)
      bad(field + ".name", "must be a non-empty string on one line");
    c.name = j["name"].get<std::string>();
  } else {
    c.name = task_kind_name(c.kind);
  }
  c.digits = int_field(j, "digits", c.digits, field);
  c.digits_b = int_field(j, "digits_b", c.digits_b, field);
  if (j.contains("eval_fraction")) {
    if (!j["eval_fraction"].is_number()) bad(field + ".eval_fraction", "must be a number");
    c.eval_fraction = j["eval_fraction"].get<double>();
  }
  c.modulus = int_field(j, "modulus", c.modulus, field);
  c.span = int_field(j, "span", c.span, field);
  c.n_train = int_field(j, "n_train", c.n_train, field);
  c.n_eval = int_field(j, "n_eval", c.n_eval, field);
  if (j.contains("seed")) {
    const int64_t s = integer(j["seed"], field + ".seed");
    if (s < 0) bad(field + ".seed", "must be >= 0");
    c.seed = static_cast<uint64_t>(s);
  }
  try {
    validate_task_config(c);
  } catch (const std::invalid_argument& e) {
    rethrow_in(field, e);
  }
  return c;
}

nlohmann::json to_json(const TaskConfig& c) {
  return {{"name", c.name},       {"kind", task_kind_name(c.kind)}, {"digits", c.digits},   {"digits_b", c.digits_b},
          {"modulus", c.modulus}, {"span", c.span},                 {"seed", c.seed},       {"n_train", c.n_train},
          {"n_eval", c.n_eval},   {"eval_fraction", c.eval_fraction}};
}

EmergenceSpec emergence_from_json(const nlohmann::json& j) {
  const std::string p = "emergence";
  refuse_unknown(j, {"tasks", "task_files", "mix_fraction", "checkpoints", "checkpoint_spacing", "max_eval_examples",
                     "pass_until"}, p);
  EmergenceSpec s;
  if (j.contains("tasks")) {
    if (!j["tasks"].is_array()) bad(p + ".tasks", "must be an array of task objects");
    for (size_t i = 0; i < j["tasks"].size(); ++i)
      s.tasks.push_back(task_config_from_json(j["tasks"][i], p + ".tasks[" + std::to_string(i) + "]"));
  }
  if (j.contains("task_files")) {
    const auto& f = j["task_files"];
    if (!f.is_array()) bad(p + ".task_files", "must be an array of file paths");
    for (size_t i = 0; i < f.size(); ++i) {
      if (!f[i].is_string() || f[i].get<std::string>().empty())
        bad(p + ".task_files[" + std::to_string(i) + "]", "must be a non-empty string (a JSONL file)");
      s.task_files.push_back(f[i].get<std::string>());
    }
  }
  if (s.tasks.empty() && s.task_files.empty()) bad(p + ".tasks", "must list at least one task (or give task_files)");
  if (j.contains("mix_fraction")) {
    if (!j["mix_fraction"].is_number()) bad(p + ".mix_fraction", "must be a number");
    s.mix_fraction = j["mix_fraction"].get<double>();
    if (s.tasks.empty()) bad(p + ".mix_fraction", "is given but there are no generated tasks to mix in (task_files are scored only)");
    if (!(s.mix_fraction > 0 && s.mix_fraction <= 1))
      bad(p + ".mix_fraction", "must be in (0, 1] (the share of training bytes that is task text; 1: task text alone)");
  } else if (!s.tasks.empty()) {
    bad(p + ".mix_fraction", "is required: the share of training bytes that is task text, in (0, 1]");
  }
  s.checkpoints = int_field(j, "checkpoints", s.checkpoints, p);
  if (s.checkpoints < 0 || s.checkpoints > 20) bad(p + ".checkpoints", "must be in [0, 20]");
  if (j.contains("checkpoint_spacing")) {
    const auto& c = j["checkpoint_spacing"];
    if (!c.is_string() || (c != "log" && c != "linear")) bad(p + ".checkpoint_spacing", "must be \"log\" or \"linear\"");
    s.checkpoint_spacing = c == "linear" ? CheckpointSpacing::kLinear : CheckpointSpacing::kLog;
  }
  s.max_eval_examples = int_field(j, "max_eval_examples", s.max_eval_examples, p);
  if (s.max_eval_examples < 0) bad(p + ".max_eval_examples", "must be >= 0 (0: every eval example)");
  if (j.contains("pass_until")) {
    if (!j["pass_until"].is_boolean()) bad(p + ".pass_until", "must be true or false");
    s.pass_until = j["pass_until"].get<bool>();
  }
  // Names identify tasks in the store and the results table; task files are named by load_task_jsonl
  // (checked again once they are loaded, see the sweep runner).
  std::set<std::string> names;
  for (size_t i = 0; i < s.tasks.size(); ++i)
    if (!names.insert(s.tasks[i].name).second)
      bad(p + ".tasks[" + std::to_string(i) + "].name", "\"" + s.tasks[i].name + "\" is used by another task; names must be unique");
  return s;
}

nlohmann::json to_json(const EmergenceSpec& s) {
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& t : s.tasks) tasks.push_back(to_json(t));
  nlohmann::json j = {{"tasks", tasks}, {"task_files", s.task_files}, {"checkpoints", s.checkpoints},
                      {"max_eval_examples", s.max_eval_examples}, {"pass_until", s.pass_until}};
  if (!s.tasks.empty()) j["mix_fraction"] = s.mix_fraction;
  if (s.checkpoint_spacing == CheckpointSpacing::kLinear) j["checkpoint_spacing"] = "linear";
  return j;
}

std::vector<Task> make_tasks(const EmergenceSpec& s) {
  std::vector<Task> out;
  std::set<std::string> names;
  for (size_t i = 0; i < s.tasks.size(); ++i) {
    try {
      out.push_back(make_task(s.tasks[i]));
    } catch (const std::invalid_argument& e) {  // e.g. more examples than the problem space holds
      rethrow_in("emergence.tasks[" + std::to_string(i) + "]", e);
    }
    out.back().name = s.tasks[i].name;  // the spec's name is the one stored and exported
    names.insert(out.back().name);
  }
  for (size_t i = 0; i < s.task_files.size(); ++i) {
    out.push_back(load_task_jsonl(s.task_files[i]));
    if (!names.insert(out.back().name).second)
      bad("emergence.task_files[" + std::to_string(i) + "]", "(" + s.task_files[i] + ") gives the task name '" + out.back().name +
                                                                 "', which another task already has");
  }
  return out;
}

std::vector<EvalPoint> eval_points(uint64_t total_steps, int checkpoints, CheckpointSpacing spacing) {
  if (checkpoints < 0 || checkpoints > 20) bad("emergence.checkpoints", "must be in [0, 20]");
  if (total_steps == 0) throw std::invalid_argument("eval_points: a run of 0 steps has no checkpoints");
  std::vector<EvalPoint> out;
  if (spacing == CheckpointSpacing::kLinear) {
    const uint64_t k1 = static_cast<uint64_t>(checkpoints) + 1;
    if (total_steps < k1)
      throw std::invalid_argument("sweep spec: field 'emergence.checkpoints' (" + std::to_string(checkpoints) +
                                  ") needs runs of at least " + std::to_string(k1) +
                                  " steps for distinct linearly spaced checkpoints; a run has only " +
                                  std::to_string(total_steps) + " (lower emergence.checkpoints or lengthen the runs)");
    for (int k = 1; k <= checkpoints; ++k) {
      const double progress = static_cast<double>(k) / static_cast<double>(k1);
      // k·T/(K+1) rounded in integers, so the steps are exact and strictly ascending (T >= K+1).
      const uint64_t step = (static_cast<uint64_t>(k) * total_steps + k1 / 2) / k1;
      out.push_back({step, progress});
    }
    out.push_back({total_steps, 1.0});
    return out;
  }
  const uint64_t need = uint64_t{1} << checkpoints;
  if (total_steps < need)
    throw std::invalid_argument("sweep spec: field 'emergence.checkpoints' (" + std::to_string(checkpoints) +
                                ") needs runs of at least 2^" + std::to_string(checkpoints) + " = " + std::to_string(need) +
                                " steps for distinct log-spaced checkpoints; a run has only " + std::to_string(total_steps) +
                                " (lower emergence.checkpoints or lengthen the runs)");
  for (int k = checkpoints; k >= 1; --k) {
    const double progress = std::ldexp(1.0, -k);  // exact
    out.push_back({static_cast<uint64_t>(std::llround(progress * static_cast<double>(total_steps))), progress});
  }
  out.push_back({total_steps, 1.0});
  return out;
}

}  // namespace scalinglab::emergence
