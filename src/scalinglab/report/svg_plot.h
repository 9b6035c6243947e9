#pragma once
// A small SVG plotting module for the report: linear or log axes with "nice" ticks, series as
// polylines and markers, error bars, shaded bands, a viridis colour bar and a legend. Output is
// a self-contained <svg> element (no fonts, scripts or images loaded). Every marker carries a
// data-tip attribute (and an SVG <title> as a fallback) that the report's script shows on hover.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace scalinglab::report {

enum class ScaleKind { kLinear, kLog };

// Maps a data interval [d0, d1] onto pixels [r0, r1] (r1 < r0 for a y axis), linearly in the
// value or in its log10.
struct Scale {
  ScaleKind kind = ScaleKind::kLinear;
  double d0 = 0, d1 = 1, r0 = 0, r1 = 1;
  double map(double v) const;
};

struct Tick {
  double value = 0;
  std::string label;  // empty: an unlabelled minor tick
  bool major = true;
};

// Linear ticks at multiples of a 1, 2 or 5 × 10^k step, about `target` of them, inside [lo, hi].
double nice_step(double span, int target = 6);
std::vector<Tick> linear_ticks(double lo, double hi, int target = 6);
// Log ticks: labelled majors at powers of ten inside [lo, hi], minors at 2 and 5 × 10^k
// (labelled too when the range spans under two decades). Wide ranges label every 2nd/3rd decade.
// A range narrower than a decade gets nice linear ticks placed on the log axis instead, since
// it may contain no power of ten at all (a loss axis from 2.1 to 4.5).
std::vector<Tick> log_ticks(double lo, double hi);
// A domain that contains [lo, hi] with a little padding (ticks then fall inside, not on the frame).
std::pair<double, double> padded_domain(double lo, double hi, ScaleKind kind);

// Viridis (matplotlib's default colour map), t in [0, 1] → "#rrggbb"; interpolated between 9
// samples of the published map, so no table needs vendoring.
std::string viridis(double t);

struct PlotPoint {
  double x = 0, y = 0;
  double y_lo = NAN, y_hi = NAN;  // error bar / band, when finite
  double x_lo = NAN, x_hi = NAN;  // horizontal error bar, when finite
  std::string tip = {};           // hover text (plain text; escaped on output); empty: no marker tip
};

enum class MarkerShape { kCircle, kSquare, kDiamond, kStar };

struct Series {
  // Members all have initialisers so designated initialisers may name only what differs.
  std::string name = {};  // legend entry; empty: not in the legend
  std::string color = "#1f77b4";
  std::vector<PlotPoint> points = {};
  bool line = true;
  bool markers = false;
  MarkerShape shape = MarkerShape::kCircle;
  double marker_size = 3.5;
  double line_width = 1.6;
  std::string dash = {};    // SVG stroke-dasharray, e.g. "6 4"
  bool error_bars = false;  // draw y_lo..y_hi (and x_lo..x_hi) as whiskers
  bool band = false;        // draw y_lo..y_hi as a translucent band along the line
  double opacity = 1;
  // Tooltip targets along a line without visible markers (curves with many points): at most this
  // many points, evenly chosen, get invisible hover circles. 0: none.
  int hover_points = 0;
};

struct ColorBar {
  std::string title;
  double lo = 1, hi = 10;
  ScaleKind kind = ScaleKind::kLog;
};

struct PlotSpec {
  std::string id;  // unique in the page: prefixes gradient ids
  std::string title, x_label, y_label;
  ScaleKind x_scale = ScaleKind::kLinear, y_scale = ScaleKind::kLinear;
  std::optional<std::pair<double, double>> x_domain, y_domain;  // default: from the data
  int width = 640, height = 420;
  std::vector<Series> series;
  std::optional<ColorBar> color_bar;
  bool legend = true;
  std::string note;  // small text under the plot area
};

// The colour of value v on a colour bar (same normalisation the bar's axis uses).
std::string color_for(const ColorBar& bar, double v);

// Renders the plot as one <svg class="plot"> element. Non-finite points and, on log axes,
// non-positive ones are skipped. Throws nothing; an empty plot still gets axes.
std::string render_svg(const PlotSpec& spec);

}  // namespace scalinglab::report
