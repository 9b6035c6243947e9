#include "scalinglab/report/escape.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace scalinglab::report {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string power_of_ten(int k) {
  static const char* kSup[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
  std::string out = "10";
  if (k < 0) out += "⁻";
  std::string digits = std::to_string(std::abs(k));
  for (char d : digits) out += kSup[d - '0'];
  return out;
}

namespace {

// Fixed-point with `decimals` places, trailing zeros (and a bare point) removed.
std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

}  // namespace

std::string format_number(double v, int digits) {
  if (std::isnan(v)) return "–";
  // An estimate the optimiser drove towards infinity (≥ 1e300) is no number to read: say so.
  if (std::isinf(v) || std::fabs(v) >= 1e300) return v > 0 ? "unbounded" : "−unbounded";
  if (v == 0) return "0";
  if (digits < 1) digits = 1;
  int e = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  // Plain decimals between 0.001 and 99,999: what people read in loss values and exponents.
  if (e >= -3 && e < 5) return fixed(v, std::max(0, digits - 1 - e));
  double mantissa = v / std::pow(10.0, e);
  // Rounding can carry the mantissa to 10 (9.996 → "10"): renormalise.
  if (std::fabs(std::stod(fixed(mantissa, digits - 1))) >= 10) {
    ++e;
    mantissa = v / std::pow(10.0, e);
  }
  std::string m = fixed(mantissa, digits - 1);
  if (m == "1") return power_of_ten(e);
  if (m == "-1") return "−" + power_of_ten(e);
  return m + "×" + power_of_ten(e);
}

}  // namespace scalinglab::report
