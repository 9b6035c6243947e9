#include "scalinglab/monitor/log_parsing.h"

#include <cctype>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

namespace scalinglab::monitor {

void LogParser::ignore(std::string_view reason, long line, std::string_view text, long count) {
  auto it = ignored_.find(reason);
  if (it == ignored_.end()) {
    size_t n = std::min<size_t>(text.size(), 60);
    while (n > 0 && n < text.size() && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // a whole UTF-8 character
    it = ignored_.emplace(std::string(reason), IgnoredLines{0, line, std::string(text.substr(0, n))}).first;
  }
  it->second.count += count;
}

namespace detail {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool parse_double(std::string_view tok, double& v) {
  tok = trim(tok);
  if (tok.empty()) return false;
  if (tok.front() == '+') tok.remove_prefix(1);
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
  return ec == std::errc() && p == tok.data() + tok.size();
}

std::string show(std::string_view s) {
  std::string t(s.substr(0, 40));
  return "'" + t + (s.size() > 40 ? "…" : "") + "'";
}

std::string join(const std::vector<std::string>& v, size_t max) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > max) s += ", … (" + std::to_string(v.size()) + " in all)";
  return s;
}

std::vector<std::string> split_fields(std::string_view line, char sep) {
  std::vector<std::string> f(1);
  bool q = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char ch = line[i];
    if (q) {
      if (ch == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') f.back() += '"', ++i;
        else q = false;
      } else {
        f.back() += ch;
      }
    } else if (ch == '"') {
      q = true;
    } else if (ch == sep) {
      f.emplace_back();
    } else {
      f.back() += ch;
    }
  }
  for (auto& x : f) x = std::string(trim(x));
  return f;
}

std::string wandb_metric(const std::string& column) {
  size_t p = column.rfind(" - ");
  return p == std::string::npos ? column : column.substr(p + 3);
}

bool wandb_minmax(const std::string& column) {
  auto ends = [&](const char* s) {
    return column.size() >= std::strlen(s) && column.compare(column.size() - std::strlen(s), std::strlen(s), s) == 0;
  };
  return ends("__MIN") || ends("__MAX");
}

bool name_matches(std::string_view name, const std::string& alias) {
  if (!alias.empty() && alias.back() == '*') {
    std::string_view prefix(alias.data(), alias.size() - 1);
    return name.size() > prefix.size() && iequals(name.substr(0, prefix.size()), prefix);
  }
  return iequals(name, alias);
}

bool name_in(std::string_view name, const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (name_matches(name, n)) return true;
  return false;
}

Columns columns_for(const ParseOptions& o) {
  Columns c;
  c.step = o.col_step.empty() ? step_aliases() : std::vector<std::string>{o.col_step};
  c.tokens = o.col_tokens.empty() ? tokens_aliases() : std::vector<std::string>{o.col_tokens};
  c.lr = lr_aliases();
  c.total_steps = {"total_steps", "max_steps"};
  if (o.col_loss.empty()) {
    c.train = train_loss_aliases();
    c.eval = eval_loss_aliases();
  } else {
    c.user_loss = true;
    bool eval = o.metric == Metric::kEval || (o.metric == Metric::kAuto && looks_like_eval_name(o.col_loss));
    (eval ? c.eval : c.train) = {o.col_loss};
  }
  return c;
}

void json_number(const nlohmann::json& j, const std::vector<std::string>& names, std::optional<double>& dst,
                 const std::string& source, long line) {
  for (const auto& name : names) {
    const nlohmann::json* v = nullptr;
    std::string key = name;
    if (name.empty() || name.back() != '*') {
      auto it = j.find(name);
      if (it != j.end()) v = &*it;
    }
    for (auto it = j.begin(); it != j.end() && !v; ++it)
      if (name_matches(it.key(), name)) v = &it.value(), key = it.key();
    if (!v) continue;
    if (v->is_null()) return;  // present, not logged at this step (JSON has no NaN: writers use null)
    if (v->is_number()) {
      dst = v->get<double>();
      return;
    }
    double d;
    if (v->is_string() && parse_double(v->get<std::string>(), d)) {  // "NaN", "Infinity" as strings
      dst = d;
      return;
    }
    throw io::InputError(source, line, key, "expected a number, got " + show(v->dump()));
  }
}

void LineParser::feed(std::string_view bytes, std::vector<LogRecord>& out) {
  buf_.append(bytes);
  size_t start = 0, nl;
  while ((nl = buf_.find('\n', start)) != std::string::npos) {
    std::string_view line(buf_.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    parse_line(line, ++line_no_, out);
    start = nl + 1;
  }
  buf_.erase(0, start);
}

std::optional<std::string> LineParser::finish(std::vector<LogRecord>& out) {
  std::string rest = std::move(buf_);
  buf_.clear();
  if (trim(rest).empty()) return std::nullopt;
  const long line = ++line_no_;
  std::string where = source_ + ":" + std::to_string(line) + ": ";
  if (!partial_is_data_) {
    ignore(kCutLine, line, trim(rest));
    return where + "the last line has no newline (the log was cut mid-line); ignored: " + show(trim(rest));
  }
  std::vector<LogRecord> tmp;
  try {
    parse_line(rest, line, tmp);
  } catch (const io::InputError& e) {
    ignore(kCutLine, line, trim(rest));
    return std::string(e.what()) + " (the last line, which has no newline: cut mid-write?); ignored";
  }
  out.insert(out.end(), tmp.begin(), tmp.end());
  return std::nullopt;
}

LogRecord json_record(const nlohmann::json& obj, const Columns& cols, const std::string& source, long line) {
  LogRecord r;
  r.line = line;
  json_number(obj, cols.step, r.step, source, line);
  json_number(obj, cols.tokens, r.tokens, source, line);
  json_number(obj, cols.train, r.train_loss, source, line);
  json_number(obj, cols.eval, r.eval_loss, source, line);
  json_number(obj, cols.lr, r.lr, source, line);
  return r;
}

}  // namespace detail

}  // namespace scalinglab::monitor
