#include "scalinglab/fit/fit_json.h"

#include <filesystem>
#include <fstream>

#include "scalinglab/io/input_error.h"

namespace scalinglab::fit {
namespace {

using nlohmann::json;

// Unbounded magnitudes (estimate.h) are null too: their identification_reason says why.
json num(double v) { return std::isfinite(v) && !is_unbounded(v) ? json(v) : json(nullptr); }

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

json to_json(const FittedLaw& r) {
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
  // Identifiability of each parameter (identifiability.h), keyed like params.
  json ident = json::object(), ident_reason = json::object(), ident_remedy = json::object();
  for (size_t i = 0; i < r.param_names.size() && i < r.params.size(); ++i) {
    ident[r.param_names[i]] = to_string(r.params[i].ident.verdict);
    ident_reason[r.param_names[i]] = r.params[i].ident.reason;
    if (!r.params[i].ident.remedy.empty()) ident_remedy[r.param_names[i]] = r.params[i].ident.remedy;
  }
  j["identified"] = ident;
  j["identification_reason"] = ident_reason;
  j["identification_remedy"] = ident_remedy;
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

std::string summary_instead_of_fit(const std::string& path, const nlohmann::json& doc) {
  if (!doc.is_object() || doc.value("schema", "") != "scalinglab.summary/1") return "";
  const auto dir = std::filesystem::path(path).parent_path();
  const std::string fits = (dir.empty() ? std::filesystem::path("fits") : dir / "fits").string();
  return "field 'schema': this is a sweep summary (scalinglab.summary/1), not a fit; give a fit written beside it, " +
         fits + "/chinchilla.json (or " + fits + "/kaplan-nd.json)";
}

namespace {

double number_or_nan(const json& j) { return j.is_number() ? j.get<double>() : NAN; }

// A field of an object as a double (null or absent: NaN).
double field(const json& j, const char* key) { return j.is_object() && j.contains(key) ? number_or_nan(j[key]) : NAN; }
// The same where to_json writes a finite default (0) for "absent", e.g. a residual's N.
double field_or_zero(const json& j, const char* key) {
  const double v = field(j, key);
  return std::isnan(v) ? 0.0 : v;
}

Interval interval_from(const json& j) {
  Interval iv;
  if (j.is_array() && j.size() == 2) {
    iv.lo = number_or_nan(j[0]);
    iv.hi = number_or_nan(j[1]);
  }
  return iv;
}

// The verdict, reason and remedy as to_json(const Estimate&) writes them (absent: not assessed).
void read_ident(Identification& id, const json& verdict, const json& reason, const json& remedy) {
  if (verdict.is_string()) id.verdict = identified_from(verdict.get<std::string>());
  if (reason.is_string()) id.reason = reason.get<std::string>();
  if (remedy.is_string()) id.remedy = remedy.get<std::string>();
}

// The inverse of to_json(const Estimate&): {value, se, se_analytic, ci95, identified, ...}, null as NaN.
Estimate estimate_from(const json& j) {
  Estimate e;
  if (!j.is_object()) return e;
  e.value = field(j, "value");
  e.se = field(j, "se");
  e.se_analytic = field(j, "se_analytic");
  const Interval iv = interval_from(j.value("ci95", json()));
  e.lo = iv.lo;
  e.hi = iv.hi;
  read_ident(e.ident, j.value("identified", json()), j.value("identification_reason", json()),
             j.value("identification_remedy", json()));
  return e;
}

template <typename T>
T value_or(const json& j, const char* key, T fallback) {
  return j.is_object() && j.contains(key) && !j[key].is_null() ? j[key].get<T>() : fallback;
}

}  // namespace

FittedLaw fit_from_json(const json& d, const std::string& path) {
  auto field_error = [&](const std::string& name, const std::string& what) {
    return io::InputError(path, 0, "", "field '" + name + "': " + what);
  };
  if (auto why = summary_instead_of_fit(path, d); !why.empty()) throw io::InputError(path, 0, "", why);
  if (!d.is_object() || d.value("schema", "") != "scalinglab.fit/1")
    throw field_error("schema", "expected \"scalinglab.fit/1\" (a file written by `scalinglab fit --json`)");
  if (!d.contains("law") || !d["law"].is_string()) throw field_error("law", "expected a law name");
  FittedLaw f;
  f.law = d["law"].get<std::string>();
  if (d.contains("law_options") && d["law_options"].is_object()) {
    f.law_options.irreducible = d["law_options"].value("irreducible", false);
    if (d["law_options"].contains("fixed")) {
      const json& fixed = d["law_options"]["fixed"];
      if (!fixed.is_object()) throw field_error("law_options.fixed", "expected an object of parameter values");
      for (const auto& [name, value] : fixed.items()) {
        if (!value.is_number()) throw field_error("law_options.fixed." + name, "expected a number");
        f.law_options.fixed.emplace_back(name, value.get<double>());
      }
    }
  }
  try {
    f.model = make_law(f.law, f.law_options);
  } catch (const std::invalid_argument& e) {
    throw field_error("law", e.what());
  }
  const Law& law = *f.model;
  f.param_names = law.param_names();
  f.internal_names = law.internal_names();
  f.formula = value_or<std::string>(d, "formula", law.formula());
  f.method = value_or<std::string>(d, "method", "");
  f.source = value_or<std::string>(d, "source", "");
  f.points = value_or<int>(d, "points", 0);

  if (!d.contains("internal") || !d["internal"].is_object()) throw field_error("internal", "expected an object");
  for (const auto& name : f.internal_names) {
    if (!d["internal"].contains(name) || !d["internal"][name].is_number())
      throw field_error("internal." + name, "expected a number");
    f.theta.push_back(d["internal"][name].get<double>());
  }
  // Public parameters: value, SE and interval as written; a document without them (hand-written)
  // gets the values implied by θ.
  const std::vector<double> pub = law.to_public(f.theta.data());
  for (size_t i = 0; i < f.param_names.size(); ++i) {
    const std::string& name = f.param_names[i];
    Estimate e;
    e.value = d.contains("params") && d["params"].contains(name) ? number_or_nan(d["params"][name]) : pub[i];
    e.se = d.contains("se") ? field(d["se"], name.c_str()) : NAN;
    const Interval iv = d.contains("ci95") && d["ci95"].contains(name) ? interval_from(d["ci95"][name]) : Interval{};
    e.lo = iv.lo;
    e.hi = iv.hi;
    auto keyed = [&](const char* map) { return d.contains(map) && d[map].is_object() ? d[map].value(name, json()) : json(); };
    read_ident(e.ident, keyed("identified"), keyed("identification_reason"), keyed("identification_remedy"));
    f.params.push_back(e);
  }
  f.objective = field(d, "objective");
  f.huber_delta = field(d, "huber_delta");
  f.starts = value_or<int>(d, "starts", 0);
  f.converged_starts = value_or<int>(d, "converged_starts", 0);
  f.starts_at_best = value_or<int>(d, "starts_at_best", 0);
  f.status = value_or<std::string>(d, "status", "");
  f.status_detail = value_or<std::string>(d, "status_detail", "");
  f.continued_starts = value_or<int>(d, "continued_starts", f.continued_starts);
  if (d.contains("quality")) {
    const json& q = d["quality"];
    f.quality.points = f.points;
    f.quality.parameters = value_or<int>(q, "parameters", 0);
    f.quality.r2_log = field(q, "r2_log");
    f.quality.rmse_log = field(q, "rmse_log");
    f.quality.mean_abs_rel_error = field(q, "mean_abs_rel_error");
    f.quality.aic = field(q, "aic");
    f.quality.bic = field(q, "bic");
  }
  if (d.contains("residuals") && d["residuals"].is_array())
    for (const auto& r : d["residuals"]) {
      if (!r.contains("log_residual") || !r["log_residual"].is_number())
        throw field_error("residuals", "every residual needs a numeric log_residual");
      f.residuals.push_back({value_or<long>(r, "line", 0), field_or_zero(r, "N"), field_or_zero(r, "D"),
                             field_or_zero(r, "C"), field_or_zero(r, "x"), field(r, "loss"), field(r, "predicted"),
                             field(r, "log_residual"), field_or_zero(r, "U")});
    }
  if (d.contains("derived") && d["derived"].is_object()) {
    const json& dv = d["derived"];
    for (const auto& [name, value] : dv.items())
      if (name != "at_compute" && name != "at_point") f.derived.push_back({name, estimate_from(value)});
    // to_json writes an object, whose keys come back sorted: restore the law's order (a, b, G).
    if (f.law == "chinchilla") {
      std::vector<NamedEstimate> ordered;
      for (const char* n : {"a", "b", "G"})
        for (const auto& x : f.derived)
          if (x.name == n) ordered.push_back(x);
      if (ordered.size() == f.derived.size()) f.derived = ordered;
    }
    if (dv.contains("at_compute"))
      for (const auto& c : dv["at_compute"]) {
        ComputePrediction cp;
        cp.compute = field(c, "C");
        cp.orders_past_data = field(c, "orders_past_data");
        cp.loss = estimate_from(c.value("loss", json()));
        if (c.contains("N_opt")) {
          cp.n_opt = estimate_from(c["N_opt"]);
          cp.d_opt = estimate_from(c.value("D_opt", json()));
          cp.tokens_per_param = estimate_from(c.value("tokens_per_param", json()));
        }
        f.at_compute.push_back(cp);
      }
    if (dv.contains("at_point"))
      for (const auto& p : dv["at_point"])
        f.at_points.push_back({field(p, "N"), field(p, "D"), field(p, "C"), field(p, "x"), field_or_zero(p, "U"),
                               field(p, "orders_past_data"), estimate_from(p.value("loss", json())),
                               interval_from(p.value("pi95", json()))});
  }
  if (d.contains("holdout") && d["holdout"].is_object()) {
    const json& h = d["holdout"];
    Holdout ho;
    ho.k = value_or<int>(h, "k", 0);
    ho.by = value_or<std::string>(h, "by", "C");
    ho.train_points = value_or<int>(h, "train_points", 0);
    ho.mean_abs_rel_error = field(h, "mean_abs_rel_error");
    ho.max_abs_rel_error = field(h, "max_abs_rel_error");
    if (h.contains("runs"))
      for (const auto& r : h["runs"]) {
        HoldoutRow row;
        row.line = value_or<long>(r, "line", 0);
        row.n = field(r, "N");
        row.d = field(r, "D");
        row.c = field(r, "C");
        row.x = field(r, "x");
        row.u = field_or_zero(r, "U");
        row.actual = field(r, "actual");
        row.predicted = estimate_from(r.value("predicted", json()));
        row.rel_error = field(r, "rel_error");
        row.pi95 = interval_from(r.value("pi95", json()));
        row.orders_past_data = field(r, "orders_past_data");
        row.inside_ci95 = value_or<bool>(r, "inside_ci95", false);
        row.inside_pi95 = value_or<bool>(r, "inside_pi95", false);
        ho.rows.push_back(row);
      }
    f.holdout = ho;
  }
  if (d.contains("data_range")) {
    const json& r = d["data_range"];
    f.range.n = range_from(r.value("N", json()));
    f.range.d = range_from(r.value("D", json()));
    f.range.c = range_from(r.value("C", json()));
    f.range.x = range_from(r.value("x", json()));
    f.range.u = range_from(r.value("U", json()));
    f.range.tokens_per_param = range_from(r.value("tokens_per_param", json()));
    f.range.loss = range_from(r.value("loss", json()));
  }
  if (d.contains("bootstrap") && d["bootstrap"].is_object()) {
    const json& b = d["bootstrap"];
    if (b.contains("internal_samples")) {
      for (const auto& s : b["internal_samples"]) {
        if (!s.is_array() || s.size() != f.theta.size())
          throw field_error("bootstrap.internal_samples", "each sample must have " + std::to_string(f.theta.size()) + " numbers");
        f.bootstrap_theta.push_back(s.get<std::vector<double>>());
      }
    }
    f.bootstrap_requested = value_or<int>(b, "requested", 0);
    f.bootstrap_done = value_or<int>(b, "done", static_cast<int>(f.bootstrap_theta.size()));
    f.bootstrap_failed = value_or<int>(b, "failed", 0);
    f.seed = value_or<uint64_t>(b, "seed", 0);
  }
  if (d.contains("warnings") && d["warnings"].is_array())
    for (const auto& w : d["warnings"])
      if (w.is_string()) f.warnings.push_back(w.get<std::string>());
  f.wall_s = value_or<double>(d, "wall_s", 0.0);
  return f;
}

FittedLaw load_fit(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw io::InputError(path, 0, "", "cannot open fit file");
  json d;
  try {
    d = json::parse(in);
  } catch (const json::parse_error& e) {
    throw io::InputError(path, 0, "", std::string("not valid JSON (") + e.what() + ")");
  }
  return fit_from_json(d, path);
}

}  // namespace scalinglab::fit
