// User tasks from JSONL (task.h: load_task_jsonl). Parsed line by line with nlohmann::json rather
// than io::parse_jsonl, which flattens values to text: here a number where a string belongs, or
// a "choices" that is not an array of strings, must be refused with its line.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "scalinglab/emergence/task.h"
#include "scalinglab/io/input_error.h"
#include "scalinglab/io/read_file.h"
#include "scalinglab/io/table.h"

namespace scalinglab::emergence {

namespace {

std::string type_name(const nlohmann::json& v) {
  if (v.is_string()) return "a string";
  if (v.is_number()) return "a number";
  if (v.is_boolean()) return "a boolean";
  if (v.is_null()) return "null";
  if (v.is_array()) return "an array";
  return "an object";
}

std::string json_quoted(const std::string& s) {
  std::string q = nlohmann::json(s).dump();
  return q.size() > 60 ? q.substr(0, 57) + "...\"" : q;
}

bool blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

}  // namespace

Task load_task_jsonl(const std::string& path, const std::string& name) {
  const std::string text = io::read_file(path, "task file");
  Task task;
  task.source = path;
  task.name = name.empty() ? std::filesystem::path(path).stem().string() : name;
  task.config.name = task.name;
  const std::vector<std::string> known = {"prompt", "target", "choices"};

  std::istringstream in(text);
  std::string line;
  long lineno = 0, first_line = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (blank(line)) continue;
    auto fail = [&](const std::string& what) { throw io::InputError(path, lineno, "", what); };
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      fail("invalid JSON (" + std::string(e.what()).substr(0, 120) + ")");
    }
    if (!j.is_object()) fail("expected a JSON object with \"prompt\" and \"target\", got " + type_name(j));
    // A key one or two edits away from an absent known field is a typo, not metadata: refusing it
    // keeps "choice": [...] from silently turning a multiple-choice task into a generation task.
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (std::find(known.begin(), known.end(), it.key()) != known.end()) continue;
      for (const auto& k : known)
        if (!j.contains(k) && io::edit_distance(it.key(), k) <= 2)
          fail("unknown field '" + it.key() + "' (did you mean '" + k + "'?)");
    }
    auto text_field = [&](const char* key) {
      auto it = j.find(key);
      if (it == j.end()) fail(std::string("missing field '") + key + "' (a non-empty string)");
      if (!it->is_string()) fail(std::string("field '") + key + "': expected a non-empty string, got " + type_name(*it));
      std::string s = it->get<std::string>();
      if (s.empty()) fail(std::string("field '") + key + "': empty string (expected at least one byte)");
      return s;
    };
    TaskExample e;
    e.prompt = text_field("prompt");
    e.target = text_field("target");
    const bool mc = j.contains("choices");
    if (mc) {
      const auto& c = j["choices"];
      if (!c.is_array()) fail("field 'choices': expected an array of strings, got " + type_name(c));
      if (c.size() < 2) fail("field 'choices': expected at least 2 choices, got " + std::to_string(c.size()));
      for (std::size_t i = 0; i < c.size(); ++i) {
        if (!c[i].is_string())
          fail("field 'choices': element " + std::to_string(i) + " is " + type_name(c[i]) + ", expected a string");
        std::string s = c[i].get<std::string>();
        if (s.empty()) fail("field 'choices': element " + std::to_string(i) + " is an empty string");
        if (std::find(e.choices.begin(), e.choices.end(), s) != e.choices.end())
          fail("field 'choices': " + json_quoted(s) + " appears twice");
        e.choices.push_back(std::move(s));
      }
      auto at = std::find(e.choices.begin(), e.choices.end(), e.target);
      if (at == e.choices.end()) fail("field 'target': " + json_quoted(e.target) + " is not among the choices");
      e.answer = static_cast<int>(at - e.choices.begin());
    }
    if (first_line == 0) {
      first_line = lineno;
      task.multiple_choice = mc;
    } else if (mc != task.multiple_choice) {
      fail(std::string(mc ? "has" : "lacks") + " 'choices' but line " + std::to_string(first_line) + (mc ? " lacks" : " has") +
           " them (a task is multiple choice on every line or on none)");
    }
    task.answer_len = std::max(task.answer_len, static_cast<int>(e.target.size()));
    task.eval.push_back(std::move(e));
  }
  if (task.eval.empty()) throw io::InputError(path, 0, "", "no examples (expected one JSON object per line)");
  return task;
}

}  // namespace scalinglab::emergence
