#pragma once
// Reading the sweep's stored JSON records, which older versions wrote with fewer fields: a number
// that is absent, null (how a NaN is written) or not a number reads as NaN.
#include <cmath>
#include <nlohmann/json.hpp>

namespace scalinglab::sweep {

inline double number_or_nan(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN;
}

}  // namespace scalinglab::sweep
