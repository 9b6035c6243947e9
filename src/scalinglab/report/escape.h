#pragma once
// Text that reaches HTML or SVG markup (run names, titles, notes, labels): every user-supplied
// string goes through html_escape, so a run named "<script>…" is shown, never executed.
#include <string>
#include <string_view>

namespace scalinglab::report {

// Escapes & < > " ' as entities: safe in element content and in quoted attribute values.
std::string html_escape(std::string_view s);

// A compact human number with `digits` significant digits: 3.14, 0.0123, 1.2e+21 → "1.2×10²¹".
// Used in tick labels, tables and tooltips. NaN → "–"; ±inf and magnitudes ≥ 1e300 → "unbounded".
std::string format_number(double v, int digits = 3);

// 10^k with a Unicode superscript exponent ("10²¹", "10⁻³").
std::string power_of_ten(int k);

}  // namespace scalinglab::report
