#include "scalinglab/fit/fit_json.h"

#include <fstream>

#include "scalinglab/io/input_error.h"

namespace scalinglab::fit {
namespace {

using nlohmann::json;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json range_json(const Range& r) { return json::array({num(r.min), num(r.max)}); }

Range range_from(const json& j) {
  Range r;
  if (j.is_array() && j.size() == 2 && j[0].is_number() && j[1].is_number()) {
    r.min = j[0].get<double>();
    r.max = j[1].get<double>();
  }
  return r;
}

}  // namespace

json to_json(const FitReport& r) {
  json j;
  j["schema"] = "scalinglab.fit/1";
  j["law"] = r.law;
  j["formula"] = r.formula;
  j["law_options"] = {{"irreducible", r.law_options.irreducible}};
  if (!r.law_options.fixed.empty()) {
    json fixed = json::object();
    for (const auto& [name, value] : r.law_options.fixed) fixed[name] = value;
    j["law_options"]["fixed"] = fixed;
  }
  j["method"] = r.method;
  j["source"] = r.source;
  j["points"] = r.points;
  json params = json::object(), se = json::object(), ci = json::object();
  for (size_t i = 0; i < r.param_names.size(); ++i) {
    params[r.param_names[i]] = num(r.params[i].value);
    se[r.param_names[i]] = num(r.params[i].se);
    ci[r.param_names[i]] = json::array({num(r.params[i].lo), num(r.params[i].hi)});
  }
  j["params"] = params;
  j["se"] = se;
  j["ci95"] = ci;
  json internal = json::object();
  for (size_t i = 0; i < r.internal_names.size(); ++i) internal[r.internal_names[i]] = r.theta[i];
  j["internal"] = internal;
  j["objective"] = num(r.objective);
  j["huber_delta"] = r.huber_delta;
  j["starts"] = r.starts;
  j["converged_starts"] = r.converged_starts;
  j["starts_at_best"] = r.starts_at_best;
  j["status"] = r.status;
  j["status_detail"] = r.status_detail;
  j["continued_starts"] = r.continued_starts;
  j["quality"] = {{"r2_log", num(r.quality.r2_log)},
                  {"rmse_log", num(r.quality.rmse_log)},
                  {"mean_abs_rel_error", num(r.quality.mean_abs_rel_error)},
                  {"aic", num(r.quality.aic)},
                  {"bic", num(r.quality.bic)},
                  {"parameters", r.quality.parameters}};
  json res = json::array();
  for (const auto& x : r.residuals)
    res.push_back({{"line", x.line}, {"N", num(x.n)}, {"D", num(x.d)}, {"C", num(x.c)}, {"x", num(x.x)},
                   {"U", x.u > 0 ? num(x.u) : json(nullptr)}, {"loss", x.loss}, {"predicted", x.predicted},
                   {"log_residual", x.log_residual}});
  j["residuals"] = res;

  json derived = json::object();
  for (const auto& d : r.derived) derived[d.name] = to_json(d.estimate);
  json at_c = json::array();
  for (const auto& c : r.at_compute) {
    json e = {{"C", c.compute}, {"orders_past_data", c.orders_past_data}, {"loss", to_json(c.loss)}};
    if (std::isfinite(c.n_opt.value)) {
      e["N_opt"] = to_json(c.n_opt);
      e["D_opt"] = to_json(c.d_opt);
      e["tokens_per_param"] = to_json(c.tokens_per_param);
    }
    at_c.push_back(e);
  }
  derived["at_compute"] = at_c;
  json at_p = json::array();
  for (const auto& p : r.at_points)
    at_p.push_back({{"N", num(p.n)}, {"D", num(p.d)}, {"C", num(p.c)}, {"x", num(p.x)},
                    {"U", p.u > 0 ? num(p.u) : json(nullptr)},
                    {"orders_past_data", p.orders_past_data}, {"loss", to_json(p.loss)},
                    {"pi95", json::array({num(p.pi95.lo), num(p.pi95.hi)})}});
  derived["at_point"] = at_p;
  j["derived"] = derived;

  if (r.holdout) {
    json rows = json::array();
    for (const auto& h : r.holdout->rows)
      rows.push_back({{"line", h.line}, {"N", num(h.n)}, {"D", num(h.d)}, {"C", num(h.c)}, {"x", num(h.x)},
                      {"U", h.u > 0 ? num(h.u) : json(nullptr)}, {"actual", h.actual},
                      {"predicted", to_json(h.predicted)}, {"rel_error", h.rel_error},
                      {"pi95", json::array({num(h.pi95.lo), num(h.pi95.hi)})},
                      {"orders_past_data", h.orders_past_data}, {"inside_ci95", h.inside_ci95},
                      {"inside_pi95", h.inside_pi95}});
    j["holdout"] = {{"k", r.holdout->k}, {"by", r.holdout->by}, {"train_points", r.holdout->train_points}, {"runs", rows},
                    {"mean_abs_rel_error", num(r.holdout->mean_abs_rel_error)},
                    {"max_abs_rel_error", num(r.holdout->max_abs_rel_error)}};
  } else {
    j["holdout"] = nullptr;
  }
  j["data_range"] = {{"N", range_json(r.range.n)}, {"D", range_json(r.range.d)}, {"C", range_json(r.range.c)},
                     {"x", range_json(r.range.x)}, {"U", range_json(r.range.u)},
                     {"tokens_per_param", range_json(r.range.tokens_per_param)},
                     {"loss", range_json(r.range.loss)}};
  j["bootstrap"] = {{"requested", r.bootstrap_requested}, {"done", r.bootstrap_done},
                    {"failed", r.bootstrap_failed}, {"seed", r.seed}, {"internal_samples", r.bootstrap_theta}};
  j["warnings"] = r.warnings;
  j["wall_s"] = r.wall_s;
  return j;
}

LoadedFit load_fit(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw io::InputError(path, 0, "", "cannot open fit file");
  LoadedFit f;
  try {
    f.document = json::parse(in);
  } catch (const json::parse_error& e) {
    throw io::InputError(path, 0, "", std::string("not valid JSON (") + e.what() + ")");
  }
  const json& d = f.document;
  auto field_error = [&](const std::string& field, const std::string& what) {
    return io::InputError(path, 0, "", "field '" + field + "': " + what);
  };
  if (!d.is_object() || d.value("schema", "") != "scalinglab.fit/1")
    throw field_error("schema", "expected \"scalinglab.fit/1\" (a file written by `scalinglab fit --json`)");
  if (!d.contains("law") || !d["law"].is_string()) throw field_error("law", "expected a law name");
  LawOptions lo;
  if (d.contains("law_options") && d["law_options"].is_object()) {
    lo.irreducible = d["law_options"].value("irreducible", false);
    if (d["law_options"].contains("fixed")) {
      const json& fixed = d["law_options"]["fixed"];
      if (!fixed.is_object()) throw field_error("law_options.fixed", "expected an object of parameter values");
      for (const auto& [name, value] : fixed.items()) {
        if (!value.is_number()) throw field_error("law_options.fixed." + name, "expected a number");
        lo.fixed.emplace_back(name, value.get<double>());
      }
    }
  }
  try {
    f.law = make_law(d["law"].get<std::string>(), lo);
  } catch (const std::invalid_argument& e) {
    throw field_error("law", e.what());
  }
  if (!d.contains("internal") || !d["internal"].is_object()) throw field_error("internal", "expected an object");
  for (const auto& name : f.law->internal_names()) {
    if (!d["internal"].contains(name) || !d["internal"][name].is_number())
      throw field_error("internal." + name, "expected a number");
    f.theta.push_back(d["internal"][name].get<double>());
  }
  if (d.contains("bootstrap") && d["bootstrap"].contains("internal_samples")) {
    for (const auto& s : d["bootstrap"]["internal_samples"]) {
      if (!s.is_array() || s.size() != f.theta.size())
        throw field_error("bootstrap.internal_samples", "each sample must have " + std::to_string(f.theta.size()) + " numbers");
      f.bootstrap_theta.push_back(s.get<std::vector<double>>());
    }
  }
  if (d.contains("residuals") && d["residuals"].is_array())
    for (const auto& r : d["residuals"])
      if (r.contains("log_residual") && r["log_residual"].is_number()) f.log_residuals.push_back(r["log_residual"].get<double>());
  if (d.contains("data_range")) {
    const json& r = d["data_range"];
    f.range.n = range_from(r.value("N", json()));
    f.range.d = range_from(r.value("D", json()));
    f.range.c = range_from(r.value("C", json()));
    f.range.x = range_from(r.value("x", json()));
    f.range.u = range_from(r.value("U", json()));
    f.range.tokens_per_param = range_from(r.value("tokens_per_param", json()));
  }
  return f;
}

}  // namespace scalinglab::fit
