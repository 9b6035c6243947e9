#include "scalinglab/emergence/results_table.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "scalinglab/io/input_error.h"

namespace scalinglab::emergence {

const char* to_string(ScaleAxis a) {
  switch (a) {
    case ScaleAxis::kCompute: return "compute";
    case ScaleAxis::kParams: return "params";
    case ScaleAxis::kAuto: break;
  }
  return "auto";
}

ScaleAxis scale_axis_from(const std::string& text, const std::string& field) {
  if (text == "auto") return ScaleAxis::kAuto;
  if (text == "compute") return ScaleAxis::kCompute;
  if (text == "params") return ScaleAxis::kParams;
  throw std::invalid_argument(field + ": expected 'compute', 'params' or 'auto', got '" + text + "'");
}

namespace {

std::string identity_text(const std::vector<std::pair<std::string, std::string>>& id, bool with_answer_len) {
  std::string s;
  for (const auto& [k, v] : id) {
    if ((!with_answer_len && k == "answer_len") || v.empty()) continue;
    s += (s.empty() ? "" : " ") + k + "=" + v;
  }
  return s;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::optional<double> parse_number(const std::string& cell) {
  if (cell.empty()) return std::nullopt;
  const char* b = cell.c_str();
  char* e = nullptr;
  errno = 0;
  const double v = std::strtod(b, &e);
  if (e == b || *e != '\0') return std::nullopt;
  return v;
}

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

}  // namespace

std::string Curve::label() const { return identity_text(identity, true) + " metric=" + metric; }
std::string Curve::group() const {
  std::string key;  // unambiguous (unit/record separators), unlike the readable label
  for (const auto& [k, v] : identity)
    if (k != "answer_len") key += k + '\x1f' + v + '\x1e';
  return key;
}
std::string Curve::group_label() const { return identity_text(identity, false); }

std::vector<double> Curve::xs() const {
  std::vector<double> v;
  for (const auto& p : points) v.push_back(p.x);
  return v;
}
std::vector<double> Curve::log10_xs() const {
  std::vector<double> v;
  for (const auto& p : points) v.push_back(std::log10(p.x));
  return v;
}
std::vector<double> Curve::values() const {
  std::vector<double> v;
  for (const auto& p : points) v.push_back(p.value);
  return v;
}

double Curve::se(size_t i) const {
  const CurvePoint& p = points[i];
  if (std::isfinite(p.stderr)) return p.stderr;
  if (info.proportion && std::isfinite(p.n_examples) && p.n_examples > 0) {
    const double n = p.n_examples, pt = (p.value * n + 2) / (n + 4);
    return std::sqrt(pt * (1 - pt) / (n + 4));
  }
  return 0;
}

int Curve::distinct_scales() const {
  int d = 0;
  for (size_t i = 0; i < points.size(); ++i)
    if (i == 0 || points[i].x != points[i - 1].x) ++d;
  return d;
}

ResultsTable read_results(const io::Table& t, const ReadOptions& o) {
  using io::InputError;
  ResultsTable out;
  out.source = t.source;
  if (t.rows.empty()) throw InputError(t.source, 0, "", "empty table: no data rows");
  const size_t c_model = t.require(o.col_model, "the model of each row; --col-model");
  const size_t c_task = t.require("task", "the task of each row");
  const size_t c_metric = t.require("metric", "the metric name");
  const size_t c_value = t.require("value", "the metric's value");
  const auto c_params = t.find("params"), c_compute = t.find("compute");
  std::optional<size_t> c_x;
  switch (o.x) {
    case ScaleAxis::kCompute: c_x = t.require("compute", "the scale; --x compute"); break;
    case ScaleAxis::kParams: c_x = t.require("params", "the scale; --x params"); break;
    case ScaleAxis::kAuto:
      c_x = c_compute ? c_compute : c_params;
      if (!c_x) t.require("compute", "the scale: 'compute' (training FLOPs) or 'params'");
      break;
  }
  out.x_column = t.columns[*c_x];
  const auto c_n = t.find("n_examples"), c_se = t.find("stderr"), c_hib = t.find("higher_is_better");
  const auto c_lo = t.find("ci_lo"), c_hi = t.find("ci_hi");
  std::vector<size_t> id_cols;
  for (size_t c = 0; c < t.columns.size(); ++c) {
    const bool value_col = c == c_model || c == c_metric || c == c_value || c == c_params || c == c_compute ||
                           c == c_n || c == c_se || c == c_hib || c == c_lo || c == c_hi;
    if (!value_col) id_cols.push_back(c), out.identity_columns.push_back(t.columns[c]);
  }
  const auto c_len = t.find("answer_len");

  struct Building {
    Curve curve;
    std::unordered_map<std::string, long> model_line;
    std::optional<bool> hib;
    long hib_line = 0;
  };
  std::vector<Building> curves;
  std::map<std::string, size_t> index;  // identity + metric → curve
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    const long line = t.lines[r];
    auto cell = [&](size_t c) -> const std::string& { return row[c]; };
    auto need_text = [&](size_t c) {
      if (cell(c).empty()) throw InputError(t.source, line, t.columns[c], "empty cell, expected a name");
      return cell(c);
    };
    auto number = [&](size_t c, const char* expected) {
      auto v = parse_number(cell(c));
      if (!v) throw InputError(t.source, line, t.columns[c], std::string("expected ") + expected + ", got '" + cell(c) + "'");
      return *v;
    };
    auto optional_number = [&](std::optional<size_t> c, const char* expected) -> double {
      if (!c || cell(*c).empty()) return NAN;
      return number(*c, expected);
    };
    CurvePoint p;
    p.line = line;
    p.model = need_text(c_model);
    const std::string task = need_text(c_task);
    std::string metric = lower(need_text(c_metric));
    const double x = number(*c_x, "a positive number (the scale)");
    if (!(x > 0) || !std::isfinite(x))
      throw InputError(t.source, line, t.columns[*c_x], "expected a positive finite scale, got '" + cell(*c_x) + "'");
    p.x = x;
    if (c_params) p.params = c_params == c_x ? x : optional_number(c_params, "a number");
    if (c_compute) p.compute = c_compute == c_x ? x : optional_number(c_compute, "a number");
    double v = number(c_value, "a number");
    if (!std::isfinite(v)) throw InputError(t.source, line, t.columns[c_value], "expected a finite value, got '" + cell(c_value) + "'");
    p.stderr = optional_number(c_se, "a number (standard error)");
    if (std::isfinite(p.stderr) && p.stderr < 0)
      throw InputError(t.source, line, t.columns[*c_se], "a standard error cannot be negative, got '" + cell(*c_se) + "'");
    p.n_examples = optional_number(c_n, "a positive number (examples)");
    if (!std::isnan(p.n_examples) && !(p.n_examples > 0 && std::isfinite(p.n_examples)))
      throw InputError(t.source, line, t.columns[*c_n], "expected a positive number of examples, got '" + cell(*c_n) + "'");
    p.ci_lo = optional_number(c_lo, "a number");
    p.ci_hi = optional_number(c_hi, "a number");

    MetricInfo info = metric_info(metric);
    const bool perplexity = info.name == "perplexity";
    if (info.known && (v < info.lo || v > info.hi)) {
      std::string what = metric + " must be in [" + fmt(info.lo) + ", " + fmt(info.hi) + "], got " + cell(c_value);
      if (info.proportion && v > 1 && v <= 100) what += " (a percentage? divide by 100)";
      if (!std::isfinite(info.lo) || !std::isfinite(info.hi))
        what = metric + (std::isfinite(info.hi) ? " must be ≤ " + fmt(info.hi) : " must be ≥ " + fmt(info.lo)) +
               ", got " + cell(c_value);
      throw InputError(t.source, line, t.columns[c_value], what);
    }
    if (perplexity) {
      // Analyse log-likelihood, never raw perplexity: −ln ppl is the per-token loglik; the delta
      // method carries the standard error (d ln ppl = d ppl / ppl).
      v = -std::log(v);
      const double ppl = std::exp(-v);
      if (std::isfinite(p.stderr)) p.stderr /= ppl;
      const double lo = p.ci_lo, hi = p.ci_hi;
      p.ci_lo = std::isfinite(hi) && hi > 0 ? -std::log(hi) : NAN;
      p.ci_hi = std::isfinite(lo) && lo > 0 ? -std::log(lo) : NAN;
      metric = "loglik_per_token";
      info = metric_info(metric);
    }
    p.value = v;

    std::optional<bool> hib;
    if (c_hib && !cell(*c_hib).empty()) {
      const std::string h = lower(cell(*c_hib));
      if (h == "1" || h == "true" || h == "yes") hib = true;
      else if (h == "0" || h == "false" || h == "no") hib = false;
      else throw InputError(t.source, line, t.columns[*c_hib], "expected 1/0, true/false or yes/no, got '" + cell(*c_hib) + "'");
      if (perplexity) hib = !*hib;  // the column described perplexity; loglik runs the other way
    }

    std::vector<std::pair<std::string, std::string>> id;
    for (size_t c : id_cols) id.emplace_back(t.columns[c], cell(c));
    int answer_len = 0;
    if (c_len && !cell(*c_len).empty()) {
      auto L = parse_number(cell(*c_len));
      if (!L || !(*L >= 1) || *L != std::floor(*L) || *L > 1e6)
        throw InputError(t.source, line, t.columns[*c_len], "expected a positive whole number of tokens, got '" + cell(*c_len) + "'");
      answer_len = static_cast<int>(*L);
    }
    std::string key;
    for (const auto& [k, val] : id) key += k + '\x1f' + val + '\x1e';
    key += metric;
    auto [it, inserted] = index.emplace(key, curves.size());
    if (inserted) {
      Building b;
      b.curve.identity = std::move(id);
      b.curve.task = task;
      b.curve.metric = metric;
      b.curve.info = info;
      b.curve.answer_len = answer_len;
      b.curve.from_perplexity = perplexity;
      curves.push_back(std::move(b));
    }
    Building& b = curves[it->second];
    if (auto [m, fresh] = b.model_line.emplace(p.model, line); !fresh)
      throw InputError(t.source, line, t.columns[c_model],
                       "duplicate row for model '" + p.model + "' in curve " + b.curve.label() + " (first at line " +
                           std::to_string(m->second) + ")");
    if (hib) {
      if (b.hib && *b.hib != *hib)
        throw InputError(t.source, line, t.columns[*c_hib],
                         "higher_is_better disagrees with line " + std::to_string(b.hib_line) + " of the same curve");
      if (!b.hib) b.hib = hib, b.hib_line = line;
    }
    b.curve.points.push_back(std::move(p));
  }

  for (auto& b : curves) {
    Curve& c = b.curve;
    if (b.hib) c.info.higher_is_better = *b.hib;
    else if (!c.info.known)
      out.notes.push_back(c.label() + ": unknown metric without higher_is_better: assumed higher is better");
    if (c.from_perplexity)
      out.warnings.push_back(c.label() + ": perplexity converted to loglik_per_token = −ln(perplexity); raw perplexity is "
                             "not analysed (its scale exaggerates changes at small models)");
    std::stable_sort(c.points.begin(), c.points.end(), [](const CurvePoint& a, const CurvePoint& z) { return a.x < z.x; });
    const int d = c.distinct_scales();
    if (d < 3) {
      out.notes.push_back(c.label() + ": " + std::to_string(d) + " distinct scale" + (d == 1 ? "" : "s") +
                          ", fewer than 3: skipped");
      continue;
    }
    if (d < static_cast<int>(c.points.size()))
      out.notes.push_back(c.label() + ": several models share a scale; they keep table order");
    out.curves.push_back(std::move(c));
  }
  return out;
}

}  // namespace scalinglab::emergence
