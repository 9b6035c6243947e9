#include "scalinglab/sweep/sweep_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>

namespace scalinglab::sweep {

double HyperRule::beta2_for_steps(uint64_t steps) const {
  if (beta2_run_frac <= 0 || steps == 0) return beta2;
  const double horizon = beta2_run_frac * static_cast<double>(steps);
  return std::clamp(1.0 - 1.0 / horizon, beta2, std::max(beta2, beta2_max));
}

double HyperRule::lr_for_width(int d_model) const {
  double lr = lr_base * std::pow(static_cast<double>(lr_base_width) / d_model, lr_width_exponent);
  return std::clamp(lr, lr_min, lr_max);
}

namespace {

std::vector<double> logspace(double lo, double hi, int k) {
  std::vector<double> v;
  for (int i = 0; i < k; ++i) v.push_back(k == 1 ? lo : std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * i / (k - 1)));
  return v;
}

std::string key_for(double budget, const model::GptConfig& m, double d, uint64_t seed) {
  char buf[128];
  if (budget > 0)
    std::snprintf(buf, sizeof buf, "C%.1e-N%.2e-s%llu", budget, static_cast<double>(m.params_total()),
                  static_cast<unsigned long long>(seed));
  else
    std::snprintf(buf, sizeof buf, "N%.2e-D%.2e-s%llu", static_cast<double>(m.params_total()), d,
                  static_cast<unsigned long long>(seed));
  return buf;
}

template <typename T>
void get(const nlohmann::json& j, const char* field, T& out, const std::string& path) {
  if (!j.contains(field)) return;
  try {
    out = j.at(field).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument("sweep spec: field '" + path + field + "' has the wrong type");
  }
}

}  // namespace

SweepSpec sweep_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("sweep spec: expected a JSON object");
  static const std::set<std::string> known{"name", "corpus", "family", "hyper", "design", "seeds", "threads_per_run",
                                           "eval_fraction", "eval_windows", "final_eval_windows", "emergence"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.count(it.key())) throw std::invalid_argument("sweep spec: unknown field '" + it.key() + "'");
  SweepSpec s;
  get(j, "name", s.name, "");
  get(j, "corpus", s.corpus, "");
  get(j, "seeds", s.seeds, "");
  get(j, "threads_per_run", s.threads_per_run, "");
  get(j, "eval_fraction", s.eval_fraction, "");
  get(j, "eval_windows", s.eval_windows, "");
  get(j, "final_eval_windows", s.final_eval_windows, "");
  if (j.contains("emergence")) s.emergence = emergence::emergence_from_json(j["emergence"]);
  if (j.contains("family")) {
    const auto& f = j["family"];
    get(f, "aspect", s.family.aspect, "family.");
    get(f, "head_dim", s.family.head_dim, "family.");
    get(f, "d_multiple", s.family.d_multiple, "family.");
    get(f, "ctx", s.family.ctx, "family.");
    get(f, "max_layers", s.family.max_layers, "family.");
    get(f, "min_layers", s.family.min_layers, "family.");
    get(f, "rope", s.family.rope, "family.");
  }
  if (j.contains("hyper")) {
    const auto& h = j["hyper"];
    get(h, "lr_base", s.hyper.lr_base, "hyper.");
    get(h, "lr_base_width", s.hyper.lr_base_width, "hyper.");
    get(h, "lr_width_exponent", s.hyper.lr_width_exponent, "hyper.");
    get(h, "lr_min", s.hyper.lr_min, "hyper.");
    get(h, "lr_max", s.hyper.lr_max, "hyper.");
    get(h, "batch_tokens", s.hyper.batch_tokens, "hyper.");
    get(h, "min_steps", s.hyper.min_steps, "hyper.");
    get(h, "min_batch_seqs", s.hyper.min_batch_seqs, "hyper.");
    get(h, "warmup_frac", s.hyper.warmup_frac, "hyper.");
    get(h, "weight_decay", s.hyper.weight_decay, "hyper.");
    get(h, "beta2", s.hyper.beta2, "hyper.");
    get(h, "beta2_run_frac", s.hyper.beta2_run_frac, "hyper.");
    get(h, "beta2_max", s.hyper.beta2_max, "hyper.");
    get(h, "schedule", s.hyper.schedule, "hyper.");
  }
  if (j.contains("design")) {
    const auto& d = j["design"];
    std::string kind = "isoflop";
    get(d, "kind", kind, "design.");
    if (kind != "isoflop" && kind != "grid" && kind != "wsd")
      throw std::invalid_argument("sweep spec: design.kind must be \"isoflop\", \"grid\" or \"wsd\", got \"" + kind +
                                  "\"");
    s.design.kind = kind == "grid" ? DesignKind::kGrid : kind == "wsd" ? DesignKind::kWsd : DesignKind::kIsoFlop;
    get(d, "n_min", s.design.n_min, "design.");
    get(d, "n_max", s.design.n_max, "design.");
    get(d, "sizes", s.design.sizes, "design.");
    get(d, "tokens_per_param", s.design.tokens_per_param, "design.");
    get(d, "c_min", s.design.c_min, "design.");
    get(d, "c_max", s.design.c_max, "design.");
    get(d, "budgets", s.design.budgets, "design.");
    get(d, "per_budget", s.design.per_budget, "design.");
    get(d, "span", s.design.span, "design.");
    get(d, "center_tokens_per_param", s.design.center_tokens_per_param, "design.");
    get(d, "cooldown_frac", s.design.cooldown_frac, "design.");
  }
  return s;
}

nlohmann::json to_json(const SweepSpec& s) {
  const auto& d = s.design;
  nlohmann::json j = {{"name", s.name},
          {"corpus", s.corpus},
          {"family", {{"aspect", s.family.aspect}, {"head_dim", s.family.head_dim}, {"d_multiple", s.family.d_multiple},
                      {"ctx", s.family.ctx}, {"max_layers", s.family.max_layers}}},
          {"hyper", {{"lr_base", s.hyper.lr_base}, {"lr_base_width", s.hyper.lr_base_width},
                     {"lr_width_exponent", s.hyper.lr_width_exponent}, {"lr_min", s.hyper.lr_min},
                     {"lr_max", s.hyper.lr_max}, {"batch_tokens", s.hyper.batch_tokens},
                     {"min_steps", s.hyper.min_steps}, {"min_batch_seqs", s.hyper.min_batch_seqs},
                     {"warmup_frac", s.hyper.warmup_frac}, {"weight_decay", s.hyper.weight_decay}, {"beta2", s.hyper.beta2},
                     {"beta2_run_frac", s.hyper.beta2_run_frac}, {"beta2_max", s.hyper.beta2_max},
                     {"schedule", s.hyper.schedule}}},
          {"design", {{"kind", d.kind == DesignKind::kGrid ? "grid" : d.kind == DesignKind::kWsd ? "wsd" : "isoflop"}, {"n_min", d.n_min}, {"n_max", d.n_max},
                      {"sizes", d.sizes}, {"tokens_per_param", d.tokens_per_param}, {"c_min", d.c_min},
                      {"c_max", d.c_max}, {"budgets", d.budgets}, {"per_budget", d.per_budget}, {"span", d.span},
                      {"center_tokens_per_param", d.center_tokens_per_param}}},
          {"seeds", s.seeds},
          {"threads_per_run", s.threads_per_run},
          {"eval_fraction", s.eval_fraction},
          {"eval_windows", s.eval_windows},
          {"final_eval_windows", s.final_eval_windows}};
  // Only for WSD designs, so that stores of the other designs keep the spec they were created with.
  if (d.kind == DesignKind::kWsd) j["design"]["cooldown_frac"] = d.cooldown_frac;
  if (s.emergence) j["emergence"] = emergence::to_json(*s.emergence);
  // Likewise written only when set, so that the stored specs of earlier sweeps still match.
  if (s.family.min_layers != 1) j["family"]["min_layers"] = s.family.min_layers;
  if (s.family.rope) j["family"]["rope"] = true;
  return j;
}

run::RunSpec run_spec_for(const SweepSpec& s, const model::GptConfig& m, double tokens, uint64_t seed) {
  run::RunSpec r;
  r.model = m;
  r.batch = s.hyper.batch_tokens / static_cast<uint32_t>(s.family.ctx);
  r.tokens = tokens;
  while (s.hyper.min_steps > 0 && r.batch / 2 >= std::max<uint32_t>(1, s.hyper.min_batch_seqs) &&
         r.steps() < s.hyper.min_steps)
    r.batch /= 2;
  r.schedule.kind = train::parse_schedule_kind(s.hyper.schedule);
  if (s.design.kind == DesignKind::kWsd) {  // the held-out validation run too
    r.schedule.kind = train::ScheduleKind::kWsd;
    r.schedule.cooldown_frac = s.design.cooldown_frac;
  }
  r.schedule.peak_lr = s.hyper.lr_for_width(m.d_model);
  r.warmup_frac = s.hyper.warmup_frac;
  r.adamw.weight_decay = s.hyper.weight_decay;
  r.adamw.beta2 = s.hyper.beta2_for_steps(r.steps());
  r.evals = static_cast<uint64_t>(std::lround(1.0 / std::max(0.01, s.eval_fraction)));
  r.eval_windows = s.eval_windows;
  r.final_eval_windows = s.final_eval_windows;
  r.seed = seed;
  r.threads = s.threads_per_run;
  r.corpus = s.corpus;
  // Checkpoints at every tenth of the run bound the work a kill -9 can cost a sweep.
  r.checkpoint_every = std::max<uint64_t>(1, r.steps() / 10);
  r.validate();
  return r;
}

namespace {

std::string size_key(const char* pattern, const model::GptConfig& m, double d, uint64_t seed) {
  char buf[128];
  if (d > 0)
    std::snprintf(buf, sizeof buf, pattern, static_cast<double>(m.params_total()), d, static_cast<unsigned long long>(seed));
  else
    std::snprintf(buf, sizeof buf, pattern, static_cast<double>(m.params_total()), static_cast<unsigned long long>(seed));
  return buf;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// WSD design: per size and seed one trunk (constant lr after warmup) and one cooldown branch per
// duration. Everything the branches share with the trunk is fixed per size so that the trunk's
// first b_k steps are exactly those of a single WSD run of length D_k: the batch (chosen for the
// shortest duration, so every branch meets hyper.min_steps), the warmup in steps (hyper.warmup_frac
// of the shortest duration; Hägele et al. 2024 likewise keep the warmup fixed across lengths), the
// data order (seed) and the peak lr.
std::vector<PlannedRun> plan_wsd(const SweepSpec& s) {
  const Design& d = s.design;
  if (d.sizes < 3) throw std::invalid_argument("sweep spec: design.sizes must be at least 3 to fit a law");
  if (d.tokens_per_param.empty()) throw std::invalid_argument("sweep spec: design.tokens_per_param is empty");
  if (!(d.cooldown_frac > 0 && d.cooldown_frac < 1))
    throw std::invalid_argument("sweep spec: design.cooldown_frac must be in (0, 1), got " + num(d.cooldown_frac));
  std::vector<double> ratios = d.tokens_per_param;
  for (double r : ratios)
    if (!(r > 0) || !std::isfinite(r))
      throw std::invalid_argument("sweep spec: design.tokens_per_param values must be positive, got " + num(r));
  std::sort(ratios.begin(), ratios.end());
  // The trunk and the branches take their batch and warmup from a plain constant-lr run of the
  // shortest duration (not the WSD schedule, whose cooldown would be checked before ours).
  SweepSpec base = s;
  base.design.kind = DesignKind::kGrid;
  base.hyper.schedule = "constant";
  const double f = d.cooldown_frac;

  std::set<int64_t> sizes;
  std::vector<std::vector<PlannedRun>> by_duration(ratios.size());
  for (double target : logspace(d.n_min, d.n_max, d.sizes)) {
    model::GptConfig m = shape_for_params(target, s.family);
    if (!sizes.insert(m.params_total()).second) continue;  // two targets rounded to one shape
    const double n = static_cast<double>(m.params_total());
    if (ratios.front() * n < s.hyper.batch_tokens)
      throw std::invalid_argument("sweep spec: a run of " + std::to_string(m.params_total()) + " parameters gets only " +
                                  std::to_string(static_cast<long>(ratios.front() * n)) + " tokens, less than one batch of " +
                                  std::to_string(s.hyper.batch_tokens) + "; raise design.tokens_per_param or the smallest size");
    for (uint64_t seed : s.seeds) {
      const run::RunSpec shortest = run_spec_for(base, m, ratios.front() * n, seed);
      const uint32_t batch = shortest.batch;
      const uint64_t tps = shortest.tokens_per_step();
      // One warmup step is lr = peak from the start, i.e. no warmup; 0 would mean "a fraction".
      const uint64_t warmup = std::max<uint64_t>(1, shortest.resolved_schedule().warmup_steps);
      struct Leg {
        size_t k;
        uint64_t steps, cooldown, branch;
      };
      std::vector<Leg> legs;
      for (size_t k = 0; k < ratios.size(); ++k) {
        const auto steps = static_cast<uint64_t>(std::ceil(ratios[k] * n / static_cast<double>(tps)));
        if (!legs.empty() && legs.back().steps == steps) continue;  // two ratios rounded to one length
        // As in train::learning_rate: the cooldown is the last round(f·steps) steps.
        const auto cooldown = static_cast<uint64_t>(std::llround(f * static_cast<double>(steps)));
        if (cooldown == 0)
          throw std::invalid_argument("sweep spec: design.cooldown_frac " + num(f) + " of the " + std::to_string(steps) +
                                      "-step run (" + num(ratios[k]) + " tokens/param, N = " + num(n) +
                                      ") rounds to 0 cooldown steps");
        const uint64_t branch = steps - cooldown;
        if (branch < warmup)
          throw std::invalid_argument("sweep spec: design.tokens_per_param: the " + num(ratios[k]) +
                                      " tokens/param run of N = " + num(n) + " (" + std::to_string(steps) +
                                      " steps) would start its cooldown at step " + std::to_string(branch) +
                                      ", inside the warmup of " + std::to_string(warmup) +
                                      " steps; lengthen it or lower hyper.warmup_frac or design.cooldown_frac");
        legs.push_back({k, steps, cooldown, branch});
      }
      WsdBranch wb;
      wb.trunk_key = size_key("N%.2e-trunk-s%llu", m, 0, seed);
      for (const Leg& l : legs) wb.trunk_branch_steps.push_back(l.branch);
      const uint64_t trunk_steps = wb.trunk_branch_steps.back();
      wb.trunk = run_spec_for(base, m, static_cast<double>(trunk_steps * tps), seed);
      wb.trunk.batch = batch;
      wb.trunk.tokens = static_cast<double>(trunk_steps * tps);
      wb.trunk.schedule.kind = train::ScheduleKind::kConstant;
      wb.trunk.warmup_steps = warmup;
      wb.trunk.adamw = shortest.adamw;  // one beta2 for the trunk and all its branches
      wb.trunk.checkpoint_every = std::max<uint64_t>(1, trunk_steps / 10);
      wb.trunk.validate();
      uint64_t prev = 0;
      for (const Leg& l : legs) {
        PlannedRun r;
        r.spec = run_spec_for(base, m, static_cast<double>(l.steps * tps), seed);
        r.spec.batch = batch;
        r.spec.tokens = static_cast<double>(l.steps * tps);
        r.spec.schedule.kind = train::ScheduleKind::kWsd;
        r.spec.schedule.cooldown_frac = f;
        r.spec.warmup_steps = warmup;
        r.spec.adamw = shortest.adamw;
        r.spec.checkpoint_every = std::max<uint64_t>(1, l.steps / 10);
        r.spec.validate();
        r.n = n;
        r.d = static_cast<double>(l.steps * tps);
        r.c = 6.0 * r.n * r.d;
        r.d_trained = static_cast<double>((l.branch - prev + l.cooldown) * tps);
        prev = l.branch;
        r.key = size_key("N%.2e-D%.2e-wsd-s%llu", m, r.d, seed);
        r.wsd = wb;
        r.wsd->branch_step = l.branch;
        by_duration[l.k].push_back(std::move(r));
      }
    }
  }
  if (sizes.size() < 3)
    throw std::invalid_argument("sweep spec: only " + std::to_string(sizes.size()) +
                                " distinct model sizes; a scaling-law fit needs at least 3");
  // Shortest durations of every size first: workers claim runs in this order, and branches of
  // different trunks can train in parallel while branches of one trunk wait for it.
  std::vector<PlannedRun> runs;
  for (auto& v : by_duration)
    for (auto& r : v) runs.push_back(std::move(r));
  return runs;
}

}  // namespace

PlanCompute plan_compute(const std::vector<PlannedRun>& runs) {
  PlanCompute c;
  std::set<std::string> trunks;
  for (const auto& r : runs) {
    c.independent += r.c;
    c.trained += 6.0 * r.n * r.d_trained;
    ++c.runs;
    if (r.wsd) trunks.insert(r.wsd->trunk_key);
  }
  c.trunks = static_cast<int>(trunks.size());
  return c;
}

nlohmann::json stored_spec(const PlannedRun& r) {
  nlohmann::json j = run::to_json(r.spec);
  if (r.wsd)
    j["wsd_branch"] = {{"trunk_key", r.wsd->trunk_key},
                       {"trunk", run::to_json(r.wsd->trunk)},
                       {"branch_step", r.wsd->branch_step},
                       {"trunk_branch_steps", r.wsd->trunk_branch_steps}};
  return j;
}

std::optional<WsdBranch> wsd_branch_from_json(const nlohmann::json& stored) {
  if (!stored.is_object() || !stored.contains("wsd_branch")) return std::nullopt;
  const auto& w = stored["wsd_branch"];
  WsdBranch b;
  try {
    b.trunk_key = w.at("trunk_key").get<std::string>();
    b.trunk = run::spec_from_json(w.at("trunk"));
    b.branch_step = w.at("branch_step").get<uint64_t>();
    b.trunk_branch_steps = w.at("trunk_branch_steps").get<std::vector<uint64_t>>();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("run config: wsd_branch: ") + e.what());
  }
  return b;
}

std::vector<PlannedRun> plan(const SweepSpec& s) {
  if (s.seeds.empty()) throw std::invalid_argument("sweep spec: seeds must list at least one seed");
  if (s.family.min_layers < 1 || s.family.min_layers > s.family.max_layers)
    throw std::invalid_argument("sweep spec: family.min_layers must be in [1, family.max_layers=" +
                                std::to_string(s.family.max_layers) + "], got " + std::to_string(s.family.min_layers));
  if (s.hyper.batch_tokens % static_cast<uint32_t>(s.family.ctx) != 0)
    throw std::invalid_argument("sweep spec: hyper.batch_tokens (" + std::to_string(s.hyper.batch_tokens) +
                                ") must be a multiple of family.ctx (" + std::to_string(s.family.ctx) + ")");
  auto require_in_unit = [](const char* field, double value, bool one_allowed) {
    if (!(value >= 0 && (one_allowed ? value <= 1 : value < 1)))
      throw std::invalid_argument(std::string("sweep spec: hyper.") + field + " (" + std::to_string(value) +
                                  ") must be in [0, 1" + (one_allowed ? "]" : ")"));
  };
  require_in_unit("beta2", s.hyper.beta2, false);
  require_in_unit("beta2_max", s.hyper.beta2_max, false);
  require_in_unit("beta2_run_frac", s.hyper.beta2_run_frac, true);
  if (s.design.kind == DesignKind::kWsd) {
    if (s.emergence)
      throw std::invalid_argument("sweep spec: field 'emergence' needs a grid or isoflop design: a WSD branch does not train "
                                  "the steps before its cooldown itself, so its early checkpoints would not exist");
    return plan_wsd(s);
  }
  std::vector<std::pair<model::GptConfig, std::pair<double, double>>> cells;  // shape, (D, budget)
  const Design& d = s.design;
  if (d.kind == DesignKind::kGrid) {
    if (d.sizes < 3) throw std::invalid_argument("sweep spec: design.sizes must be at least 3 to fit a law");
    if (d.tokens_per_param.empty()) throw std::invalid_argument("sweep spec: design.tokens_per_param is empty");
    for (double n : logspace(d.n_min, d.n_max, d.sizes)) {
      model::GptConfig m = shape_for_params(n, s.family);
      for (double r : d.tokens_per_param) cells.push_back({m, {r * static_cast<double>(m.params_total()), 0.0}});
    }
  } else {
    if (d.budgets < 1 || d.per_budget < 3)
      throw std::invalid_argument("sweep spec: an IsoFLOP design needs design.per_budget >= 3 sizes per budget");
    for (double c : logspace(d.c_min, d.c_max, d.budgets)) {
      if (!(d.center_tokens_per_param > 0))
        throw std::invalid_argument("sweep spec: design.center_tokens_per_param must be positive");
      const double n_star = std::sqrt(c / (6.0 * d.center_tokens_per_param));
      std::set<int64_t> seen;
      for (double n : logspace(n_star / d.span, n_star * d.span, d.per_budget)) {
        model::GptConfig m = shape_for_params(n, s.family);
        if (!seen.insert(m.params_total()).second) continue;  // two targets rounded to one shape
        cells.push_back({m, {c / (6.0 * static_cast<double>(m.params_total())), c}});
      }
    }
  }
  std::set<int64_t> sizes;
  std::vector<PlannedRun> runs;
  for (const auto& [m, dc] : cells) {
    const double tokens = dc.first;
    if (tokens < s.hyper.batch_tokens)
      throw std::invalid_argument("sweep spec: a run of " + std::to_string(m.params_total()) + " parameters gets only " +
                                  std::to_string(static_cast<long>(tokens)) + " tokens, less than one batch of " +
                                  std::to_string(s.hyper.batch_tokens) + "; raise the budget or the smallest size");
    sizes.insert(m.params_total());
    for (uint64_t seed : s.seeds) {
      PlannedRun r;
      r.spec = run_spec_for(s, m, tokens, seed);
      if (s.emergence)
        for (const auto& p : emergence::eval_points(r.spec.steps(), s.emergence->checkpoints, s.emergence->checkpoint_spacing))
          r.spec.snapshot_steps.push_back(p.step);
      r.n = static_cast<double>(m.params_total());
      r.d = static_cast<double>(r.spec.steps() * r.spec.tokens_per_step());  // whole steps
      r.c = 6.0 * r.n * r.d;
      r.budget = dc.second;
      r.d_trained = r.d;
      r.key = key_for(dc.second, m, r.d, seed);
      runs.push_back(std::move(r));
    }
  }
  if (sizes.size() < 3)
    throw std::invalid_argument("sweep spec: only " + std::to_string(sizes.size()) +
                                " distinct model sizes; a scaling-law fit needs at least 3");
  return runs;
}

}  // namespace scalinglab::sweep
