// Scoring a model on a task (score.h): batched teacher-forced passes for the likelihood metrics,
// model::generate for greedy outputs and PassUntil samples, then means and standard errors.
#include "scalinglab/emergence/score.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <stdexcept>
#include <string>

#include "scalinglab/emergence/token_edit_distance.h"
#include "scalinglab/model/generate.h"
#include "scalinglab/model/rng.h"

namespace scalinglab::emergence {

namespace {

constexpr int kNewline = '\n';
constexpr double kProbFloor = 1e-30;
constexpr std::size_t kBatchTokens = 8192;  // rows × T per forward pass (activation memory)
constexpr int kMaxRows = 64;

std::vector<std::int32_t> bytes(const std::string& s) {
  std::vector<std::int32_t> t(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) t[i] = static_cast<unsigned char>(s[i]);
  return t;
}

// A teacher-forced row: context (prefix + prompt) followed by one continuation.
struct Row {
  int example, choice;  // choice = -1: the target
  const std::vector<std::int32_t>* context;
  std::vector<std::int32_t> continuation;
  double loglik = 0;
  int correct = 0;      // argmax hits
};

void teacher_force(model::Gpt& fwd, std::vector<Row>& rows) {
  const int V = fwd.config().vocab;
  std::vector<std::int32_t> tokens;
  for (std::size_t begin = 0; begin < rows.size();) {
    // Take rows while the padded batch stays within kBatchTokens.
    std::size_t end = begin;
    int T = 0;
    while (end < rows.size() && static_cast<int>(end - begin) < kMaxRows) {
      const int len = static_cast<int>(rows[end].context->size() + rows[end].continuation.size()) - 1;
      const int t = std::max(T, len);
      if (end > begin && static_cast<std::size_t>(t) * (end - begin + 1) > kBatchTokens) break;
      T = t, ++end;
    }
    const int B = static_cast<int>(end - begin);
    tokens.assign(static_cast<std::size_t>(B) * T, 0);
    for (int b = 0; b < B; ++b) {
      const Row& r = rows[begin + b];
      std::int32_t* dst = tokens.data() + static_cast<std::size_t>(b) * T;
      std::copy(r.context->begin(), r.context->end(), dst);
      std::copy(r.continuation.begin(), r.continuation.end() - 1, dst + r.context->size());
    }
    fwd.forward(tokens.data(), nullptr, B, T);
    const std::span<const float> probs = fwd.probs();
    for (int b = 0; b < B; ++b) {
      Row& r = rows[begin + b];
      const int P = static_cast<int>(r.context->size());
      r.loglik = 0, r.correct = 0;
      for (std::size_t j = 0; j < r.continuation.size(); ++j) {
        const float* p = probs.data() + (static_cast<std::size_t>(b) * T + P - 1 + j) * V;
        const int arg = static_cast<int>(std::max_element(p, p + V) - p);  // first maximum
        r.loglik += std::log(std::max<double>(p[r.continuation[j]], kProbFloor));
        r.correct += arg == r.continuation[j];
      }
    }
    begin = end;
  }
}

MetricValue summarise(const std::string& name, const std::vector<double>& v, bool higher_is_better) {
  MetricValue m;
  m.metric = name;
  m.n = static_cast<int>(v.size());
  m.higher_is_better = higher_is_better;
  double sum = 0;
  for (double x : v) sum += x;
  m.value = sum / m.n;
  double ss = 0;
  for (double x : v) ss += (x - m.value) * (x - m.value);
  m.stderr = m.n > 1 ? std::sqrt(ss / (m.n - 1) / m.n) : 0.0;
  m.ci_lo = m.value - 1.959963984540054 * m.stderr;
  m.ci_hi = m.value + 1.959963984540054 * m.stderr;
  return m;
}

std::uint64_t instance_seed(std::uint64_t seed, std::size_t i) {
  // Hashed, not seed + i: SplitMix64 streams of nearby seeds are shifted copies of each other.
  return model::SplitMix64(model::SplitMix64(seed).next_u64() ^ (0xD1B54A32D192ED03ull * (i + 1))).next_u64();
}

}  // namespace

namespace {
void check_choices(std::span<const double> ll, int answer) {
  if (ll.size() < 2) throw std::invalid_argument("choice_loglik: need at least 2 choices");
  if (answer < 0 || answer >= static_cast<int>(ll.size()))
    throw std::invalid_argument("answer: " + std::to_string(answer) + " outside [0, " + std::to_string(ll.size()) + ")");
}
}  // namespace

double brier_score(std::span<const double> ll, int answer) {
  check_choices(ll, answer);
  const double mx = *std::max_element(ll.begin(), ll.end());
  double z = 0;
  for (double l : ll) z += std::exp(l - mx);
  double b = 0;
  for (std::size_t c = 0; c < ll.size(); ++c) {
    const double q = std::exp(ll[c] - mx) / z;
    const double y = static_cast<int>(c) == answer ? 1.0 : 0.0;
    b += (q - y) * (q - y);
  }
  return b;
}

bool choice_correct(std::span<const double> ll, int answer) {
  check_choices(ll, answer);
  for (std::size_t c = 0; c < ll.size(); ++c)
    if (static_cast<int>(c) != answer && ll[c] >= ll[static_cast<std::size_t>(answer)]) return false;
  return true;
}

std::vector<ExampleScore> score_examples(const model::Gpt& model, const Task& task, const ScoreOptions& options) {
  const model::GptConfig& cfg = model.config();
  if (task.eval.empty()) throw std::invalid_argument("task '" + task.name + "': no eval examples to score");
  if (options.max_examples < 0)
    throw std::invalid_argument("max_examples: must be >= 0 (0: all), got " + std::to_string(options.max_examples));
  if (options.pass_until) validate_pass_until(options.pass_until_options);
  const std::size_t n = options.max_examples == 0 ? task.eval.size()
                                                  : std::min<std::size_t>(task.eval.size(), options.max_examples);

  // Tokens and checks first, so a bad example fails before any work.
  std::vector<std::vector<std::int32_t>> contexts(n), targets(n);
  const std::vector<std::int32_t> prefix = bytes(options.prefix);
  auto check_tokens = [&](const std::vector<std::int32_t>& t, std::size_t i, const char* what) {
    for (std::int32_t x : t)
      if (x >= cfg.vocab)
        throw std::invalid_argument("task '" + task.name + "' eval example " + std::to_string(i) + ": " + what + " byte " +
                                    std::to_string(x) + " is outside the model's vocabulary (" + std::to_string(cfg.vocab) + ")");
  };
  check_tokens(prefix, 0, "prefix");
  for (std::size_t i = 0; i < n; ++i) {
    const TaskExample& e = task.eval[i];
    if (e.prompt.empty() && prefix.empty())
      throw std::invalid_argument("task '" + task.name + "' eval example " + std::to_string(i) + ": empty prompt and prefix");
    if (e.target.empty())
      throw std::invalid_argument("task '" + task.name + "' eval example " + std::to_string(i) + ": empty target");
    if (task.multiple_choice &&
        (e.choices.size() < 2 || e.answer < 0 || e.answer >= static_cast<int>(e.choices.size()) ||
         e.choices[static_cast<std::size_t>(e.answer)] != e.target))
      throw std::invalid_argument("task '" + task.name + "' eval example " + std::to_string(i) +
                                  ": multiple choice needs >= 2 choices with choices[answer] == target");
    contexts[i] = prefix;
    const auto p = bytes(e.prompt);
    contexts[i].insert(contexts[i].end(), p.begin(), p.end());
    targets[i] = bytes(e.target);
    check_tokens(contexts[i], i, "prompt");
    check_tokens(targets[i], i, "target");
    std::size_t longest = targets[i].size();
    for (const auto& c : e.choices) {
      longest = std::max(longest, c.size());
      if (c.empty()) throw std::invalid_argument("task '" + task.name + "' eval example " + std::to_string(i) + ": empty choice");
      check_tokens(bytes(c), i, "choice");
    }
    if (contexts[i].size() + longest > static_cast<std::size_t>(cfg.ctx))
      throw std::invalid_argument("task '" + task.name + "' eval example " + std::to_string(i) + ": prefix + prompt (" +
                                  std::to_string(contexts[i].size()) + " tokens) + target (" + std::to_string(longest) +
                                  ") exceeds the model's ctx=" + std::to_string(cfg.ctx));
  }

  // Teacher-forced rows: the target, or every choice for multiple choice.
  std::vector<Row> rows;
  for (std::size_t i = 0; i < n; ++i) {
    const TaskExample& e = task.eval[i];
    if (task.multiple_choice) {
      for (std::size_t c = 0; c < e.choices.size(); ++c)
        rows.push_back({static_cast<int>(i), static_cast<int>(c), &contexts[i], bytes(e.choices[c])});
    } else {
      rows.push_back({static_cast<int>(i), -1, &contexts[i], targets[i]});
    }
  }
  // Own activation buffers (the caller's model is const): a fresh model with its weights, not a
  // copy, which would also copy activations sized for the caller's last (training) batch.
  model::Gpt fwd(cfg);
  std::copy(model.params().begin(), model.params().end(), fwd.params().begin());
  if (model.precision() != fwd.precision()) fwd.set_precision(model.precision());
  teacher_force(fwd, rows);

  std::vector<ExampleScore> out(n);
  for (const Row& r : rows) {
    ExampleScore& s = out[static_cast<std::size_t>(r.example)];
    const TaskExample& e = task.eval[static_cast<std::size_t>(r.example)];
    if (r.choice >= 0) s.choice_loglik.push_back(r.loglik);
    if (r.choice == -1 || r.choice == e.answer) {
      s.loglik_sum = r.loglik;
      s.target_tokens = static_cast<int>(r.continuation.size());
      s.token_accuracy = static_cast<double>(r.correct) / static_cast<double>(r.continuation.size());
    }
  }
  if (task.multiple_choice)
    for (std::size_t i = 0; i < n; ++i) {
      out[i].brier = brier_score(out[i].choice_loglik, task.eval[i].answer);
      out[i].choice_correct = choice_correct(out[i].choice_loglik, task.eval[i].answer);
    }

  const int total = static_cast<int>(n) * (options.pass_until ? 2 : 1);
  int done = 0;
  auto tick = [&] {
    ++done;
    if (options.progress && !options.progress(done, total)) throw ScoreStopped();
  };
  for (std::size_t i = 0; i < n; ++i) {
    model::SampleOptions so;
    so.temperature = 0;
    so.max_new_tokens = static_cast<int>(targets[i].size());
    so.stop_token = targets[i].back() == kNewline ? kNewline : -1;
    const std::vector<std::int32_t> gen = model::generate(model, contexts[i], so);
    ExampleScore& s = out[i];
    s.output.assign(gen.begin(), gen.end());
    s.exact = gen == targets[i];
    s.edit_distance = static_cast<double>(token_edit_distance(gen, targets[i]));
    tick();
  }
  if (options.pass_until) {
    const PassUntilOptions& po = options.pass_until_options;
    for (std::size_t i = 0; i < n; ++i) {
      model::SplitMix64 stream(instance_seed(po.seed, i));
      model::SampleOptions so;
      so.temperature = po.temperature;
      so.max_new_tokens = static_cast<int>(targets[i].size());
      so.stop_token = targets[i].back() == kNewline ? kNewline : -1;
      // The prompt tokens are built once per instance and shared by all its samples; each
      // sample draws its own seed from the instance's stream.
      out[i].pass_until = sample_until(
          [&](int) {
            so.seed = stream.next_u64();
            return model::generate(model, contexts[i], so) == targets[i];
          },
          po.successes, po.max_samples);
      tick();
    }
  }
  return out;
}

std::vector<MetricValue> score_task(const model::Gpt& model, const Task& task, const ScoreOptions& options) {
  const std::vector<ExampleScore> ex = score_examples(model, task, options);
  auto column = [&](auto get) {
    std::vector<double> v;
    v.reserve(ex.size());
    for (const auto& s : ex) v.push_back(get(s));
    return v;
  };
  std::vector<MetricValue> m;
  m.push_back(summarise("exact_match", column([](const ExampleScore& s) { return s.exact ? 1.0 : 0.0; }), true));
  m.push_back(summarise("token_accuracy", column([](const ExampleScore& s) { return s.token_accuracy; }), true));
  m.push_back(summarise("edit_distance", column([](const ExampleScore& s) { return s.edit_distance; }), false));
  m.push_back(summarise("loglik_per_token", column([](const ExampleScore& s) { return s.loglik_sum / s.target_tokens; }), true));
  m.push_back(summarise("loglik_sum", column([](const ExampleScore& s) { return s.loglik_sum; }), true));
  if (task.multiple_choice) {
    m.push_back(summarise("brier", column([](const ExampleScore& s) { return s.brier; }), false));
    m.push_back(summarise("multiple_choice_grade", column([](const ExampleScore& s) { return s.choice_correct ? 1.0 : 0.0; }), true));
  }
  if (options.pass_until) {
    std::vector<PassUntilInstance> inst;
    for (const auto& s : ex) inst.push_back(s.pass_until);
    const PassUntilOptions& po = options.pass_until_options;
    const PassUntilEstimate e = estimate_pass_until(inst, po.successes, po.max_samples);
    MetricValue v;
    v.metric = "pass_until";
    v.value = e.value;
    v.stderr = e.stderr;
    v.ci_lo = e.ci_lo;
    v.ci_hi = e.ci_hi;
    v.n = e.instances;
    v.higher_is_better = true;
    m.push_back(v);
  }
  return m;
}

std::string training_text(const Task& task) {
  std::string text;
  for (const TaskExample& e : task.train) {
    text += e.prompt;
    text += e.target;
    if (e.target.empty() || e.target.back() != '\n') text += '\n';
  }
  return text;
}

}  // namespace scalinglab::emergence
