// Built-in task generators (task.h): formats, validation, the hash partition into train and eval
// regions, and seeded draws without replacement from each region.
#include "scalinglab/emergence/task.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "scalinglab/io/table.h"
#include "scalinglab/model/rng.h"

namespace scalinglab::emergence {

namespace {

constexpr std::uint64_t kEnumerateLimit = 1ull << 21;  // spaces up to this size are enumerated
constexpr int kAlphabet = 26;                           // copy spans: letters a..z

const std::vector<std::pair<TaskKind, std::string>>& kind_names() {
  static const std::vector<std::pair<TaskKind, std::string>> names = {
      {TaskKind::kAddition, "addition"}, {TaskKind::kMultiplication, "multiplication"},
      {TaskKind::kModAdd, "mod_add"},    {TaskKind::kModMul, "mod_mul"},
      {TaskKind::kCopy, "copy"},         {TaskKind::kCompose, "compose"}};
  return names;
}

std::uint64_t pow10u(int k) {
  std::uint64_t p = 1;
  for (int i = 0; i < k; ++i) p *= 10;
  return p;
}

int decimal_digits(std::uint64_t v) {
  int d = 1;
  while (v >= 10) v /= 10, ++d;
  return d;
}

std::string padded(std::uint64_t v, int width) {
  std::string s = std::to_string(v);
  if (static_cast<int>(s.size()) < width) s.insert(0, static_cast<std::size_t>(width) - s.size(), '0');
  return s;
}

// SplitMix64's finaliser: a bijective 64-bit mix, so distinct canonical problems rarely collide
// and the partition looks random while being a pure function of the problem.
std::uint64_t mix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t hash_bytes(std::uint64_t h, const std::string& s) {
  for (unsigned char c : s) h = mix64(h ^ c);
  return mix64(h ^ s.size());
}

// Unbiased integer in [0, n) by rejection (modulo would favour small values when n ∤ 2^64).
std::uint64_t uniform_below(model::SplitMix64& rng, std::uint64_t n) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  std::uint64_t x;
  do x = rng.next_u64();
  while (x >= limit);
  return x % n;
}

// One problem: up to three operands, or the span for copy.
struct Problem {
  std::uint64_t x = 0, y = 0, c = 0;
  std::string text;
};

int digits_b_of(const TaskConfig& cfg) { return cfg.digits_b == 0 ? cfg.digits : cfg.digits_b; }
int mod_width(const TaskConfig& cfg) { return decimal_digits(static_cast<std::uint64_t>(cfg.modulus - 1)); }

// The operand ranges of the space (x in [0, nx), y in [0, ny), c in [c0, c0 + nc)).
struct Ranges {
  std::uint64_t nx = 1, ny = 1, nc = 1, c0 = 0;
};
Ranges ranges(const TaskConfig& cfg) {
  Ranges r;
  switch (cfg.kind) {
    case TaskKind::kAddition: r.nx = r.ny = pow10u(cfg.digits); break;
    case TaskKind::kMultiplication: r.nx = pow10u(cfg.digits), r.ny = pow10u(digits_b_of(cfg)); break;
    case TaskKind::kModAdd:
    case TaskKind::kModMul: r.nx = r.ny = static_cast<std::uint64_t>(cfg.modulus); break;
    case TaskKind::kCompose: r.nx = r.ny = pow10u(cfg.digits), r.nc = 8, r.c0 = 2; break;
    case TaskKind::kCopy: break;
  }
  return r;
}

bool commutative(const TaskConfig& cfg) {
  return cfg.kind == TaskKind::kAddition || cfg.kind == TaskKind::kModAdd || cfg.kind == TaskKind::kModMul ||
         cfg.kind == TaskKind::kCompose || (cfg.kind == TaskKind::kMultiplication && digits_b_of(cfg) == cfg.digits);
}

// The space's shape, e.g. "mod_add p=97"; hashed into every problem's key so that tasks of
// different shapes get independent partitions (adding a task never moves another's problems).
std::string shape_name(const TaskConfig& cfg) {
  std::string shape = task_kind_name(cfg.kind) + " ";
  switch (cfg.kind) {
    case TaskKind::kAddition:
    case TaskKind::kCompose: shape += "digits=" + std::to_string(cfg.digits); break;
    case TaskKind::kMultiplication:
      shape += "digits=" + std::to_string(cfg.digits) + "x" + std::to_string(digits_b_of(cfg));
      break;
    case TaskKind::kModAdd:
    case TaskKind::kModMul: shape += "p=" + std::to_string(cfg.modulus); break;
    case TaskKind::kCopy: shape += "span=" + std::to_string(cfg.span); break;
  }
  return shape;
}
std::uint64_t shape_salt(const TaskConfig& cfg) { return hash_bytes(0x5CA1AB1Eull, shape_name(cfg)); }

bool is_eval_problem(const TaskConfig& cfg, std::uint64_t salt, const Problem& p) {
  std::uint64_t h;
  if (cfg.kind == TaskKind::kCopy) {
    h = hash_bytes(salt, p.text);
  } else {
    std::uint64_t a = p.x, b = p.y;
    if (commutative(cfg) && b < a) std::swap(a, b);
    h = mix64(mix64(mix64(salt ^ a) ^ b) ^ p.c);
  }
  return static_cast<double>(h >> 11) * 0x1.0p-53 < cfg.eval_fraction;
}

Problem problem_at(const TaskConfig& cfg, std::uint64_t index) {
  Problem p;
  if (cfg.kind == TaskKind::kCopy) {
    p.text.assign(static_cast<std::size_t>(cfg.span), 'a');
    for (int i = cfg.span - 1; i >= 0; --i) p.text[i] = static_cast<char>('a' + index % kAlphabet), index /= kAlphabet;
    return p;
  }
  const Ranges r = ranges(cfg);
  p.x = index % r.nx, index /= r.nx;
  p.y = index % r.ny, index /= r.ny;
  p.c = r.c0 + index % r.nc;
  return p;
}

Problem random_problem(const TaskConfig& cfg, model::SplitMix64& rng) {
  Problem p;
  if (cfg.kind == TaskKind::kCopy) {
    p.text.resize(static_cast<std::size_t>(cfg.span));
    for (char& ch : p.text) ch = static_cast<char>('a' + uniform_below(rng, kAlphabet));
    return p;
  }
  const Ranges r = ranges(cfg);
  p.x = uniform_below(rng, r.nx);
  p.y = uniform_below(rng, r.ny);
  p.c = r.c0 + uniform_below(rng, r.nc);
  return p;
}

// Concatenation by append: g++ 12 warns falsely (-Wrestrict) on `"(" + std::string + ...` chains.
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (std::string_view v : parts) s.append(v);
  return s;
}

TaskExample format(const TaskConfig& cfg, const Problem& p) {
  TaskExample e;
  const int d = cfg.digits;
  switch (cfg.kind) {
    case TaskKind::kAddition:
      e.prompt = cat({padded(p.x, d), "+", padded(p.y, d), "="});
      e.target = padded(p.x + p.y, d + 1);
      break;
    case TaskKind::kMultiplication:
      e.prompt = cat({padded(p.x, d), "*", padded(p.y, digits_b_of(cfg)), "="});
      e.target = padded(p.x * p.y, d + digits_b_of(cfg));
      break;
    case TaskKind::kModAdd:
    case TaskKind::kModMul: {
      const int w = mod_width(cfg);
      const auto m = static_cast<std::uint64_t>(cfg.modulus);
      const bool add = cfg.kind == TaskKind::kModAdd;
      e.prompt = cat({padded(p.x, w), add ? "+" : "*", padded(p.y, w), "%", std::to_string(cfg.modulus), "="});
      e.target = padded(add ? (p.x + p.y) % m : (p.x * p.y) % m, w);
      break;
    }
    case TaskKind::kCopy:
      e.prompt = cat({"copy: ", p.text, "|"});
      e.target = p.text;
      break;
    case TaskKind::kCompose:
      e.prompt = cat({"(", padded(p.x, d), "+", padded(p.y, d), ")*", std::to_string(p.c), "="});
      e.target = padded((p.x + p.y) * p.c, d + 2);
      break;
  }
  e.target += '\n';
  return e;
}

void require_range(const std::string& field, long v, long lo, long hi, const std::string& why) {
  if (v < lo || v > hi)
    throw std::invalid_argument(field + ": must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]" + why +
                                " (got " + std::to_string(v) + ")");
}

// n distinct problems of one region, in the order drawn from `rng`.
std::vector<Problem> draw_enumerated(const TaskConfig& cfg, std::vector<std::uint64_t> region, int n,
                                     model::SplitMix64 rng) {
  // Partial forward Fisher–Yates: the first m picks do not depend on n (prefix-stable).
  std::vector<Problem> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const std::size_t j = i + uniform_below(rng, region.size() - i);
    std::swap(region[i], region[j]);
    out.push_back(problem_at(cfg, region[i]));
  }
  return out;
}

std::vector<Problem> draw_sampled(const TaskConfig& cfg, std::uint64_t salt, bool eval, int n, model::SplitMix64 rng) {
  std::vector<Problem> out;
  out.reserve(static_cast<std::size_t>(n));
  std::unordered_set<std::string> seen;  // the prompt identifies an ordered problem
  while (static_cast<int>(out.size()) < n) {
    Problem p = random_problem(cfg, rng);
    if (is_eval_problem(cfg, salt, p) != eval) continue;
    if (!seen.insert(format(cfg, p).prompt).second) continue;
    out.push_back(std::move(p));
  }
  return out;
}

std::string region_note(const TaskConfig& cfg) {
  char buf[64];
  std::snprintf(buf, sizeof buf, " (eval_fraction=%g)", cfg.eval_fraction);
  return shape_name(cfg) + buf;
}

}  // namespace

std::string task_kind_name(TaskKind kind) {
  for (const auto& [k, n] : kind_names())
    if (k == kind) return n;
  throw std::invalid_argument("kind: unknown task kind " + std::to_string(static_cast<int>(kind)));
}

TaskKind parse_task_kind(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& [k, n] : kind_names()) {
    if (n == name) return k;
    names.push_back(n);
  }
  std::string msg = "kind: unknown task kind '" + name + "'";
  if (auto near = io::closest_name(name, names)) msg += " (did you mean '" + *near + "'?)";
  msg += "; expected one of:";
  for (const auto& n : names) msg += " " + n;
  throw std::invalid_argument(msg);
}

void validate_task_config(const TaskConfig& cfg) {
  const std::string kind = task_kind_name(cfg.kind);
  switch (cfg.kind) {
    case TaskKind::kAddition: require_range("digits", cfg.digits, 1, 9, " for addition"); break;
    case TaskKind::kMultiplication:
      require_range("digits", cfg.digits, 1, 9, " for multiplication");
      if (cfg.digits_b != 0) require_range("digits_b", cfg.digits_b, 1, 9, " for multiplication (0: same as digits)");
      break;
    case TaskKind::kModAdd:
    case TaskKind::kModMul: require_range("modulus", cfg.modulus, 2, 1000000, " for " + kind); break;
    case TaskKind::kCopy: require_range("span", cfg.span, 1, 32, " for copy"); break;
    case TaskKind::kCompose: require_range("digits", cfg.digits, 1, 8, " for compose"); break;
  }
  if (!(cfg.eval_fraction > 0 && cfg.eval_fraction < 1))
    throw std::invalid_argument("eval_fraction: must be in (0, 1) (got " + std::to_string(cfg.eval_fraction) + ")");
  if (cfg.n_eval < 1) throw std::invalid_argument("n_eval: must be >= 1 (got " + std::to_string(cfg.n_eval) + ")");
  if (cfg.n_train < 0) throw std::invalid_argument("n_train: must be >= 0 (got " + std::to_string(cfg.n_train) + ")");
}

int answer_len(const TaskConfig& cfg) {
  validate_task_config(cfg);
  switch (cfg.kind) {
    case TaskKind::kAddition: return cfg.digits + 2;
    case TaskKind::kMultiplication: return cfg.digits + digits_b_of(cfg) + 1;
    case TaskKind::kModAdd:
    case TaskKind::kModMul: return mod_width(cfg) + 1;
    case TaskKind::kCopy: return cfg.span + 1;
    case TaskKind::kCompose: return cfg.digits + 3;
  }
  return 0;
}

double problem_space_size(const TaskConfig& cfg) {
  validate_task_config(cfg);
  if (cfg.kind == TaskKind::kCopy) return std::pow(static_cast<double>(kAlphabet), cfg.span);
  const Ranges r = ranges(cfg);
  return static_cast<double>(r.nx) * static_cast<double>(r.ny) * static_cast<double>(r.nc);
}

Task make_task(const TaskConfig& cfg) {
  validate_task_config(cfg);
  Task task;
  task.config = cfg;
  task.name = cfg.name.empty() ? task_kind_name(cfg.kind) : cfg.name;
  task.config.name = task.name;
  task.source = "generated";
  task.answer_len = answer_len(cfg);

  const std::uint64_t salt = shape_salt(cfg);
  model::SplitMix64 seeds(cfg.seed);
  const model::SplitMix64 eval_rng(seeds.next_u64()), train_rng(seeds.next_u64());
  const double space = problem_space_size(cfg);
  std::vector<Problem> eval, train;
  if (space <= static_cast<double>(kEnumerateLimit)) {
    std::vector<std::uint64_t> eval_idx, train_idx;
    const auto n = static_cast<std::uint64_t>(space);
    for (std::uint64_t i = 0; i < n; ++i) (is_eval_problem(cfg, salt, problem_at(cfg, i)) ? eval_idx : train_idx).push_back(i);
    if (static_cast<std::uint64_t>(cfg.n_eval) > eval_idx.size())
      throw std::invalid_argument("n_eval: " + std::to_string(cfg.n_eval) + " requested but the eval region of " +
                                  region_note(cfg) + " holds " + std::to_string(eval_idx.size()) + " of " +
                                  std::to_string(n) + " problems");
    if (static_cast<std::uint64_t>(cfg.n_train) > train_idx.size())
      throw std::invalid_argument("n_train: " + std::to_string(cfg.n_train) + " requested but the train region of " +
                                  region_note(cfg) + " holds " + std::to_string(train_idx.size()) + " of " +
                                  std::to_string(n) + " problems");
    eval = draw_enumerated(cfg, std::move(eval_idx), cfg.n_eval, eval_rng);
    train = draw_enumerated(cfg, std::move(train_idx), cfg.n_train, train_rng);
  } else {
    const double eval_cap = 0.5 * space * cfg.eval_fraction, train_cap = 0.5 * space * (1 - cfg.eval_fraction);
    if (cfg.n_eval > eval_cap)
      throw std::invalid_argument("n_eval: " + std::to_string(cfg.n_eval) + " requested, more than half the eval region of " +
                                  region_note(cfg) + " (about " + std::to_string(static_cast<long long>(2 * eval_cap)) +
                                  " problems; larger shares are refused so sampling stays fast)");
    if (cfg.n_train > train_cap)
      throw std::invalid_argument("n_train: " + std::to_string(cfg.n_train) + " requested, more than half the train region of " +
                                  region_note(cfg) + " (about " + std::to_string(static_cast<long long>(2 * train_cap)) +
                                  " problems; larger shares are refused so sampling stays fast)");
    eval = draw_sampled(cfg, salt, true, cfg.n_eval, eval_rng);
    train = draw_sampled(cfg, salt, false, cfg.n_train, train_rng);
  }
  task.eval.reserve(eval.size());
  for (const auto& p : eval) task.eval.push_back(format(cfg, p));
  task.train.reserve(train.size());
  for (const auto& p : train) task.train.push_back(format(cfg, p));
  return task;
}

}  // namespace scalinglab::emergence
