#include "scalinglab/emergence/run_scoring.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <utility>

#include "scalinglab/model/gpt.h"
#include "scalinglab/run/train_run.h"

namespace scalinglab::emergence {

void check_tasks_fit(const std::vector<Task>& tasks, int ctx, const ScoreOptions& options) {
  for (const auto& t : tasks) {
    if (t.eval.empty()) throw std::invalid_argument("emergence task '" + t.name + "' has no eval examples to score");
    for (const auto& e : t.eval) {
      size_t answer = e.target.size();
      for (const auto& c : e.choices) answer = std::max(answer, c.size());
      const size_t need = options.prefix.size() + e.prompt.size() + answer;
      if (need > static_cast<size_t>(ctx))
        throw std::invalid_argument("emergence task '" + t.name + "': the eval prompt \"" + e.prompt + "\" with its answer takes " +
                                    std::to_string(need) + " tokens, more than the models' context family.ctx = " +
                                    std::to_string(ctx));
    }
  }
}

ScoreOptions score_options(const EmergenceSpec& spec) {
  ScoreOptions o;
  o.max_examples = spec.max_eval_examples;
  o.pass_until = spec.pass_until;
  return o;
}

RunScoring score_run(store::RunStore& st, int64_t run_id, const run::RunSpec& spec, const std::string& run_dir,
                     const std::vector<Task>& tasks, int checkpoints, CheckpointSpacing spacing,
                     const ScoreOptions& options, const std::function<bool()>& stop) {
  const std::vector<EvalPoint> points = eval_points(spec.steps(), checkpoints, spacing);
  std::vector<uint64_t> planned;
  for (const auto& p : points) planned.push_back(p.step);
  if (planned != spec.snapshot_steps)
    throw std::invalid_argument(run_dir + ": the run's snapshot steps are not the sweep's " + std::to_string(checkpoints) +
                                " checkpoints");
  std::set<std::pair<uint64_t, std::string>> recorded;
  for (const auto& e : st.evals(run_id)) recorded.insert({e.step, e.task});

  const double n_params = static_cast<double>(spec.model.params_total());
  ScoreOptions scoring = options;
  if (stop) scoring.progress = [&stop](int, int) { return !stop(); };
  RunScoring out;
  for (const EvalPoint& p : points) {
    std::optional<model::Gpt> model;  // loaded once per checkpoint, when a task needs it
    for (const Task& t : tasks) {
      if (recorded.count({p.step, t.name})) {
        ++out.skipped;
        continue;
      }
      if (stop && stop()) {
        out.interrupted = true;
        return out;
      }
      if (!model) {
        const std::string path = run::snapshot_path(run_dir, p.step);
        if (!std::filesystem::exists(path))
          throw std::runtime_error(path + ": the snapshot of checkpoint step " + std::to_string(p.step) +
                                   " is missing (deleted after training?); remove the run directory to retrain the run");
        model.emplace(spec.model, spec.seed);
        model->load_weights(path);
      }
      std::vector<MetricValue> values;
      try {
        values = score_task(*model, t, scoring);
      } catch (const ScoreStopped&) {
        out.interrupted = true;
        return out;
      }
      std::vector<store::Evaluation> rows;
      const double tokens = static_cast<double>(p.step * spec.tokens_per_step());
      for (const MetricValue& m : values) {
        store::Evaluation e;
        e.step = p.step;
        e.tokens = tokens;
        e.flops = 6.0 * n_params * tokens;
        e.progress = p.progress;
        e.task = t.name;
        e.metric = m.metric;
        e.value = m.value;
        e.stderr = m.stderr;
        e.ci_lo = m.ci_lo;
        e.ci_hi = m.ci_hi;
        e.n = m.n;
        e.higher_is_better = m.higher_is_better;
        e.answer_len = t.answer_len;
        rows.push_back(std::move(e));
      }
      st.record_evals(run_id, rows);
      ++out.scored;
    }
  }
  return out;
}

}  // namespace scalinglab::emergence
