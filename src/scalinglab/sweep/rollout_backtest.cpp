#include "scalinglab/sweep/rollout_backtest.h"

#include <cmath>
#include <map>
#include <stdexcept>

#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/isoflop.h"
#include "scalinglab/fit/law.h"
#include "scalinglab/sweep/json_number.h"

namespace scalinglab::sweep {

std::string combination_name(const std::vector<std::string>& laws) {
  if (laws.empty()) return "";
  if (laws.size() == 1) return laws[0];
  std::string s = "mean of " + laws[0];
  for (size_t i = 1; i < laws.size(); ++i) s += (i + 1 == laws.size() ? " and " : ", ") + laws[i];
  return s;
}

namespace {

struct Group {
  double budget = 0;
  std::vector<size_t> runs;
};

// Budgets in increasing order, each with the indices of its runs.
std::vector<Group> group_runs(const fit::Dataset& data, const std::vector<double>& budgets, double tol,
                              std::string& grouping) {
  std::vector<Group> groups;
  bool all_budgeted = !budgets.empty();
  for (double b : budgets) all_budgeted = all_budgeted && b > 0;
  if (all_budgeted) {
    grouping = "budget";
    std::map<double, std::vector<size_t>> by;
    for (size_t i = 0; i < budgets.size(); ++i) by[budgets[i]].push_back(i);
    for (auto& [b, idx] : by) groups.push_back({b, std::move(idx)});
    return groups;
  }
  grouping = "compute";
  for (auto& idx : fit::group_by_compute(data.runs, tol)) {
    double log_sum = 0;
    for (size_t i : idx) log_sum += std::log(data.runs[i].c);
    groups.push_back({std::exp(log_sum / static_cast<double>(idx.size())), std::move(idx)});
  }
  return groups;
}

}  // namespace

Backtest rollout_backtest(const fit::Dataset& data, const std::vector<double>& budgets, const BacktestOptions& o) {
  if (budgets.size() != data.runs.size())
    throw std::invalid_argument("rollout_backtest: budgets has " + std::to_string(budgets.size()) + " entries for " +
                                std::to_string(data.runs.size()) + " runs");
  std::vector<std::unique_ptr<fit::Law>> laws;
  for (const auto& name : o.laws) laws.push_back(fit::make_law(name));  // throws for an unknown name

  Backtest bt;
  const std::vector<Group> groups = group_runs(data, budgets, o.c_tolerance, bt.grouping);
  bt.budgets = static_cast<int>(groups.size());
  const int k = bt.budgets;
  for (int r = 0; r < 2; ++r) {
    const int target = k - 1 - r;  // the budget this rollout predicts; it is fitted on those below
    if (target < 2 || (r == 1 && k < 4)) break;
    Rollout ro;
    ro.target_budget = groups[target].budget;
    ro.train_budgets = target;
    for (int g = 0; g < target; ++g) ro.train_runs += static_cast<int>(groups[g].runs.size());
    ro.target_runs = static_cast<int>(groups[target].runs.size());
    bt.rollouts.push_back(ro);
  }

  const bool combine = o.combination && laws.size() > 1;
  for (const auto& name : o.laws) bt.by_law.push_back({name});
  if (combine) bt.by_law.push_back({combination_name(o.laws)});
  if (bt.rollouts.empty()) {
    bt.note = "no backtest: " + std::to_string(k) + " budget" + (k == 1 ? "" : "s") +
              ", and a rollout needs at least 2 to fit and a larger one to predict";
    for (auto& l : bt.by_law) l.failure = "no rollout";
    return bt;
  }

  // predicted[candidate][rollout][target run]; empty where the candidate failed that rollout.
  std::vector<std::vector<std::vector<double>>> predicted(bt.by_law.size(),
                                                          std::vector<std::vector<double>>(bt.rollouts.size()));
  for (size_t r = 0; r < bt.rollouts.size(); ++r) {
    const int target = bt.rollouts[r].train_budgets;
    fit::Dataset train = data;
    train.runs.clear();
    for (int g = 0; g < target; ++g)
      for (size_t i : groups[g].runs) train.runs.push_back(data.runs[i]);
    fit::FitOptions fo;
    fo.bootstrap = 0;  // the score uses the point prediction only
    fo.threads = o.threads;
    for (size_t i : groups[target].runs) fo.at_points.push_back(data.runs[i]);
    for (size_t l = 0; l < laws.size(); ++l) {
      LawBacktest& lb = bt.by_law[l];
      try {
        fit::FittedLaw rep = fit::fit(*laws[l], train, fo);
        std::vector<double> p;
        for (const auto& at : rep.at_points) p.push_back(at.loss.value);
        bool finite = p.size() == fo.at_points.size();
        for (double v : p) finite = finite && std::isfinite(v);
        if (finite) predicted[l][r] = std::move(p);
        else if (lb.failure.empty()) lb.failure = "rollout " + std::to_string(r + 1) + ": non-finite prediction";
      } catch (const std::exception& e) {
        if (lb.failure.empty()) lb.failure = "rollout " + std::to_string(r + 1) + ": " + e.what();
      }
    }
    if (combine) {
      bool all = true;
      for (size_t l = 0; l < laws.size(); ++l) all = all && !predicted[l][r].empty();
      if (all) {
        std::vector<double> mean(fo.at_points.size(), 0.0);
        for (size_t l = 0; l < laws.size(); ++l)
          for (size_t i = 0; i < mean.size(); ++i) mean[i] += predicted[l][r][i] / static_cast<double>(laws.size());
        predicted.back()[r] = std::move(mean);
      } else if (bt.by_law.back().failure.empty()) {
        bt.by_law.back().failure = "rollout " + std::to_string(r + 1) + ": a law of the combination failed";
      }
    }
  }

  double best = INFINITY;
  for (size_t c = 0; c < bt.by_law.size(); ++c) {
    LawBacktest& lb = bt.by_law[c];
    double abs_sum = 0, sum = 0;
    size_t n = 0;
    bool complete = true;
    for (size_t r = 0; r < bt.rollouts.size(); ++r) {
      if (predicted[c][r].empty()) {
        complete = false;
        lb.rollout_errors.push_back(NAN);
        continue;
      }
      double roll_abs = 0;
      const auto& idx = groups[bt.rollouts[r].train_budgets].runs;
      for (size_t i = 0; i < idx.size(); ++i) {
        const double actual = data.runs[idx[i]].loss;
        const double e = (predicted[c][r][i] - actual) / actual;
        roll_abs += std::fabs(e);
        abs_sum += std::fabs(e);
        sum += e;
        ++n;
      }
      lb.rollout_errors.push_back(roll_abs / static_cast<double>(idx.size()));
    }
    if (!complete || n == 0) continue;
    lb.mean_abs_rel_error = abs_sum / static_cast<double>(n);
    lb.mean_rel_error = sum / static_cast<double>(n);
    if (lb.mean_abs_rel_error < best) {  // strict: ties keep the earlier candidate
      best = lb.mean_abs_rel_error;
      bt.chosen = lb.law;
    }
  }
  if (bt.chosen.empty()) bt.note = "no candidate could be fitted in every rollout";
  return bt;
}

nlohmann::json to_json(const Backtest& b) {
  nlohmann::json rollouts = nlohmann::json::array(), laws = nlohmann::json::array();
  for (const auto& r : b.rollouts)
    rollouts.push_back({{"target_budget", r.target_budget},
                        {"train_budgets", r.train_budgets},
                        {"train_runs", r.train_runs},
                        {"target_runs", r.target_runs}});
  for (const auto& l : b.by_law) {
    nlohmann::json j = {{"law", l.law},
                        {"mean_abs_rel_error", l.mean_abs_rel_error},
                        {"mean_rel_error", l.mean_rel_error},
                        {"rollout_errors", l.rollout_errors}};
    if (!l.failure.empty()) j["failure"] = l.failure;
    laws.push_back(j);
  }
  nlohmann::json j = {{"rule", b.rule},     {"grouping", b.grouping}, {"budgets", b.budgets},
                      {"rollouts", rollouts}, {"by_law", laws},       {"chosen", b.chosen}};
  if (!b.note.empty()) j["note"] = b.note;
  return j;
}

Backtest backtest_from_json(const nlohmann::json& j) {
  Backtest b;
  if (!j.is_object()) return b;
  b.rule = j.value("rule", std::string(kBacktestRule));
  b.grouping = j.value("grouping", "");
  b.budgets = j.value("budgets", 0);
  b.chosen = j.value("chosen", "");
  b.note = j.value("note", "");
  if (j.contains("rollouts") && j["rollouts"].is_array())
    for (const auto& r : j["rollouts"])
      b.rollouts.push_back({number_or_nan(r, "target_budget"), r.value("train_budgets", 0), r.value("train_runs", 0),
                            r.value("target_runs", 0)});
  if (j.contains("by_law") && j["by_law"].is_array())
    for (const auto& l : j["by_law"]) {
      LawBacktest lb;
      lb.law = l.value("law", "");
      lb.mean_abs_rel_error = number_or_nan(l, "mean_abs_rel_error");
      lb.mean_rel_error = number_or_nan(l, "mean_rel_error");
      if (l.contains("rollout_errors") && l["rollout_errors"].is_array())
        for (const auto& e : l["rollout_errors"]) lb.rollout_errors.push_back(e.is_number() ? e.get<double>() : NAN);
      lb.failure = l.value("failure", "");
      b.by_law.push_back(lb);
    }
  return b;
}

}  // namespace scalinglab::sweep
