#include "scalinglab/io/table.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "scalinglab/io/input_error.h"
#include "scalinglab/io/read_file.h"

namespace scalinglab::io {
namespace {

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool blank_or_comment(const std::string& line) {
  std::string t = trim(line);
  return t.empty() || t[0] == '#';
}

// Splits one CSV record (RFC 4180 quoting; a quoted field may not span lines here).
std::vector<std::string> split_record(const std::string& line, char sep, const std::string& source, long lineno) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char ch = line[i];
    if (quoted) {
      if (ch == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += ch;
      }
    } else if (ch == '"' && trim(cur).empty()) {
      quoted = was_quoted = true;
      cur.clear();
    } else if (ch == sep) {
      out.push_back(was_quoted ? cur : trim(cur));
      cur.clear();
      was_quoted = false;
    } else if (ch != '\r') {
      cur += ch;
    }
  }
  if (quoted) throw InputError(source, lineno, "", "unterminated quoted field");
  out.push_back(was_quoted ? cur : trim(cur));
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

size_t edit_distance(const std::string& a_in, const std::string& b_in) {
  std::string a = lower(a_in), b = lower(b_in);
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string> closest_name(const std::string& name, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_d = std::max<size_t>(2, name.size() / 2) + 1;  // only suggest plausible typos
  for (const auto& c : candidates) {
    size_t d = edit_distance(name, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::optional<size_t> Table::find(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return i;
  for (size_t i = 0; i < columns.size(); ++i)
    if (lower(columns[i]) == lower(name)) return i;
  return std::nullopt;
}

size_t Table::require(const std::string& name, const std::string& purpose) const {
  if (auto i = find(name)) return *i;
  std::string msg = "no column '" + name + "'";
  if (!purpose.empty()) msg += " (" + purpose + ")";
  if (auto near = closest_name(name, columns)) msg += "; did you mean '" + *near + "'?";
  std::string list;
  for (const auto& c : columns) list += (list.empty() ? "" : ", ") + c;
  msg += " Columns are: " + list;
  throw InputError(source, 1, "", msg);
}

std::vector<double> Table::numeric(size_t column) const {
  std::vector<double> out;
  out.reserve(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::string& cell = rows[r][column];
    if (cell.empty()) throw InputError(source, lines[r], columns[column], "empty cell, expected a number");
    const char* begin = cell.c_str();
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(begin, &end);
    if (end == begin || *end != '\0')
      throw InputError(source, lines[r], columns[column], "expected a number, got '" + cell + "'");
    out.push_back(v);
  }
  return out;
}

Table parse_csv(const std::string& text, const std::string& source, char sep) {
  Table t;
  t.source = source;
  std::istringstream in(text);
  std::string line;
  long lineno = 0;
  bool have_header = false;
  while (std::getline(in, line)) {
    ++lineno;
    if (blank_or_comment(line)) continue;
    auto cells = split_record(line, sep, source, lineno);
    if (!have_header) {
      for (auto& c : cells) {
        if (c.empty()) throw InputError(source, lineno, "", "empty column name in header");
      }
      t.columns = std::move(cells);
      have_header = true;
      continue;
    }
    if (cells.size() != t.columns.size())
      throw InputError(source, lineno, "", "expected " + std::to_string(t.columns.size()) + " fields as in the header, got " +
                                               std::to_string(cells.size()));
    t.rows.push_back(std::move(cells));
    t.lines.push_back(lineno);
  }
  if (!have_header) throw InputError(source, 0, "", "empty file, expected a header line and data rows");
  if (t.rows.empty()) throw InputError(source, 0, "", "no data rows after the header");
  return t;
}

Table parse_jsonl(const std::string& text, const std::string& source) {
  Table t;
  t.source = source;
  std::istringstream in(text);
  std::string line;
  long lineno = 0;
  std::vector<nlohmann::json> objects;
  std::vector<long> object_lines;
  while (std::getline(in, line)) {
    ++lineno;
    if (trim(line).empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw InputError(source, lineno, "", "invalid JSON (" + std::string(e.what()).substr(0, 120) + ")");
    }
    if (!j.is_object()) throw InputError(source, lineno, "", "expected a JSON object per line");
    for (auto it = j.begin(); it != j.end(); ++it)
      if (std::find(t.columns.begin(), t.columns.end(), it.key()) == t.columns.end()) t.columns.push_back(it.key());
    objects.push_back(std::move(j));
    object_lines.push_back(lineno);
  }
  if (objects.empty()) throw InputError(source, 0, "", "empty file, expected one JSON object per line");
  for (size_t r = 0; r < objects.size(); ++r) {
    std::vector<std::string> cells;
    for (const auto& c : t.columns) {
      auto it = objects[r].find(c);
      if (it == objects[r].end() || it->is_null()) {
        cells.emplace_back();
      } else if (it->is_string()) {
        cells.push_back(it->get<std::string>());
      } else if (it->is_number()) {
        std::ostringstream ss;
        ss.precision(17);
        ss << it->get<double>();
        cells.push_back(ss.str());
      } else {
        cells.push_back(it->dump());
      }
    }
    t.rows.push_back(std::move(cells));
    t.lines.push_back(object_lines[r]);
  }
  return t;
}

Table read_table(const std::string& path, TableFormat format) {
  std::string text = read_file(path, "table");
  if (format == TableFormat::kAuto) {
    std::string p = lower(path);
    if (ends_with(p, ".jsonl") || ends_with(p, ".ndjson") || ends_with(p, ".json"))
      format = TableFormat::kJsonl;
    else if (ends_with(p, ".tsv"))
      format = TableFormat::kTsv;
    else
      format = TableFormat::kCsv;
  }
  if (trim(text).empty()) throw InputError(path, 0, "", "empty file, expected a header line and data rows");
  switch (format) {
    case TableFormat::kJsonl: return parse_jsonl(text, path);
    case TableFormat::kTsv: return parse_csv(text, path, '\t');
    default: return parse_csv(text, path, ',');
  }
}

}  // namespace scalinglab::io
