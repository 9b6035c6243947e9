#include "scalinglab/plan/law_source.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "scalinglab/fit/fit_json.h"
#include "scalinglab/fit/frontier.h"
#include "scalinglab/io/input_error.h"

namespace scalinglab::plan {

namespace {

using nlohmann::json;

fit::Range range_from(const json& r, const char* key) {
  fit::Range out;
  if (r.is_object() && r.contains(key)) {
    const json& j = r[key];
    if (j.is_array() && j.size() == 2 && j[0].is_number() && j[1].is_number())
      out = {j[0].get<double>(), j[1].get<double>()};
  }
  return out;
}

fit::DataRange data_range(const json& doc) {
  fit::DataRange r;
  if (!doc.contains("data_range")) return r;
  const json& d = doc["data_range"];
  r.n = range_from(d, "N");
  r.d = range_from(d, "D");
  r.c = range_from(d, "C");
  r.tokens_per_param = range_from(d, "tokens_per_param");
  r.loss = range_from(d, "loss");
  return r;
}

PlanLaw data_constrained(const std::string& path, const json& doc) {
  auto field = [&](const std::string& name) -> double {
    if (!doc.contains("params") || !doc["params"].is_object())
      throw io::InputError(path, 0, "", "field 'params': expected an object with E, A, B, alpha, beta, R_D_star, R_N_star");
    const json& p = doc["params"];
    if (p.contains(name) && p[name].is_null())  // written so when unbounded or not finite (FIT_JSON.md)
      throw io::InputError(path, 0, "", "field 'params." + name + "': null — the fit did not determine it (" +
                                            doc.value("identification_reason", json::object()).value(name, "not finite") +
                                            "); refit with --fix " + name + "=VALUE");
    if (!p.contains(name) || !p[name].is_number())
      throw io::InputError(path, 0, "", "field 'params." + name + "': expected a number (data-constrained law)");
    const double v = p[name].get<double>();
    if (!(v > 0) || !std::isfinite(v))
      throw io::InputError(path, 0, "", "field 'params." + name + "': expected a positive number, got " + p[name].dump());
    return v;
  };
  PlanLaw law;
  law.point = fit::ChinchillaParams{field("E"), field("A"), field("B"), field("alpha"), field("beta")};
  law.data_defaults.r_d_star = field("R_D_star");
  law.data_defaults.r_n_star = field("R_N_star");
  law.from_data_constrained_fit = true;
  law.range = data_range(doc);
  law.fitted_c_max = std::isfinite(law.range.c.max) ? law.range.c.max : 0;
  law.name = path;
  law.note = "a data-constrained fit: intervals are not propagated (its bootstrap is read back only for the "
             "Chinchilla and kaplan-nd laws)";
  return law;
}

}  // namespace

PlanLaw load_plan_law(const std::string& what) {
  if (!std::filesystem::exists(what)) {
    PlanLaw law;
    law.point = preset_surface(what);  // throws std::invalid_argument for an unknown name
    law.name = what;
    law.note = preset_note(what);
    return law;
  }
  std::ifstream in(what);
  if (!in) throw io::InputError(what, 0, "", "cannot open fit file");
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::parse_error& e) {
    throw io::InputError(what, 0, "", std::string("not valid JSON (") + e.what() + ")");
  }
  if (auto why = fit::summary_instead_of_fit(what, doc); !why.empty()) throw io::InputError(what, 0, "", why);
  if (doc.is_object() && doc.contains("approach") && !doc.contains("law"))
    throw io::InputError(what, 0, "",
                         "field 'approach': an approach 1/2 fit gives N_opt ~ C^a but no loss surface; the planner "
                         "needs an approach 3 fit (law chinchilla, kaplan-nd or data-constrained)");
  if (!doc.is_object() || !doc.contains("law") || !doc["law"].is_string())
    throw io::InputError(what, 0, "", "field 'law': expected a law name (a file written by `scalinglab fit --json`)");
  const std::string name = doc["law"].get<std::string>();
  if (name == "data-constrained") return data_constrained(what, doc);
  if (name != "chinchilla" && name != "kaplan-nd")
    throw io::InputError(what, 0, "",
                         "field 'law': the planner supports chinchilla, kaplan-nd and data-constrained fits (this fit is " +
                             name + ", which has no L(N, D))");
  const fit::FittedLaw f = fit::fit_from_json(doc, what);
  auto to_surface = [&](const std::vector<double>& theta) -> Surface {
    if (name == "chinchilla") return fit::chinchilla_params(*f.model, theta);
    auto p = f.model->to_public(theta.data());
    return KaplanParams{p[0], p[1], p[2], p[3]};  // N_c, D_c, alpha_N, alpha_D
  };
  PlanLaw law;
  law.point = to_surface(f.theta);
  for (const auto& t : f.bootstrap_theta) law.replicates.push_back(to_surface(t));
  law.range = f.range;
  law.fitted_c_max = std::isfinite(f.range.c.max) ? f.range.c.max : 0;
  law.name = what;
  return law;
}

}  // namespace scalinglab::plan
