#include "scalinglab/report/svg_plot.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

#include "scalinglab/report/escape.h"

namespace scalinglab::report {

namespace {

constexpr double kEps = 1e-9;

// Coordinates with two decimals: enough for a screen, and keeps files small.
std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

bool usable(double v, ScaleKind kind) { return std::isfinite(v) && (kind == ScaleKind::kLinear || v > 0); }

// The label of a linear tick: as many decimals as the step needs, so 0.25 steps do not print 0.3.
std::string linear_label(double v, double step) {
  if (std::fabs(v) < step * 1e-6) return "0";
  int step_exp = static_cast<int>(std::floor(std::log10(step) + kEps));
  int v_exp = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  int significant = std::clamp(v_exp - step_exp + 1, 1, 6);
  // Step 2.5 × 10^k needs one more digit than its exponent says.
  double mant = step / std::pow(10.0, step_exp);
  if (std::fabs(mant - std::round(mant)) > 1e-6) ++significant;
  return format_number(v, significant);
}

}  // namespace

double Scale::map(double v) const {
  double t;
  if (kind == ScaleKind::kLog) {
    t = (std::log10(v) - std::log10(d0)) / (std::log10(d1) - std::log10(d0));
  } else {
    t = (v - d0) / (d1 - d0);
  }
  return r0 + t * (r1 - r0);
}

double nice_step(double span, int target) {
  if (!(span > 0) || !std::isfinite(span)) return 1;
  double raw = span / std::max(1, target);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double r = raw / mag;
  double nice = r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10;
  return nice * mag;
}

std::vector<Tick> linear_ticks(double lo, double hi, int target) {
  std::vector<Tick> ticks;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return ticks;
  double step = nice_step(hi - lo, target);
  long first = static_cast<long>(std::ceil(lo / step - kEps));
  long last = static_cast<long>(std::floor(hi / step + kEps));
  for (long i = first; i <= last; ++i) {
    double v = static_cast<double>(i) * step;  // multiply, never accumulate: no drift
    ticks.push_back({v, linear_label(v, step), true});
  }
  return ticks;
}

std::vector<Tick> log_ticks(double lo, double hi) {
  std::vector<Tick> ticks;
  if (!(lo > 0) || !(hi > lo) || !std::isfinite(hi)) return ticks;
  double decades = std::log10(hi / lo);
  if (decades < 1) {
    // No power of ten may lie inside; linear ticks (≈5) still read well on a short log axis.
    return linear_ticks(lo, hi, 5);
  }
  int label_every = decades <= 7 ? 1 : decades <= 14 ? 2 : 3;
  bool label_minors = decades < 2;
  int k0 = static_cast<int>(std::floor(std::log10(lo))) - 1;
  int k1 = static_cast<int>(std::ceil(std::log10(hi))) + 1;
  for (int k = k0; k <= k1; ++k) {
    for (int m : {1, 2, 5}) {
      double v = m * std::pow(10.0, k);
      if (v < lo * (1 - kEps) || v > hi * (1 + kEps)) continue;
      if (m == 1) {
        bool labelled = ((k % label_every) + label_every) % label_every == 0;
        ticks.push_back({v, labelled ? power_of_ten(k) : "", true});
      } else {
        ticks.push_back({v, label_minors ? format_number(v, 1) : "", false});
      }
    }
  }
  return ticks;
}

std::pair<double, double> padded_domain(double lo, double hi, ScaleKind kind) {
  if (kind == ScaleKind::kLog) {
    if (!(lo > 0)) lo = hi > 0 ? hi / 10 : 1;
    if (!(hi > 0)) hi = lo * 10;
    if (hi <= lo * (1 + kEps)) return {lo / 1.5, hi * 1.5};
    double pad = 0.04 * std::log10(hi / lo);
    return {lo / std::pow(10.0, pad), hi * std::pow(10.0, pad)};
  }
  if (hi <= lo) {
    double d = lo != 0 ? std::fabs(lo) * 0.1 : 1;
    return {lo - d, hi + d};
  }
  double pad = 0.04 * (hi - lo);
  return {lo - pad, hi + pad};
}

std::string viridis(double t) {
  // R's viridisLite::viridis(11): matplotlib's viridis at t = 0, 0.1, …, 1.
  static constexpr std::array<std::array<int, 3>, 11> kStops = {{{0x44, 0x01, 0x54},
                                                                 {0x48, 0x25, 0x76},
                                                                 {0x41, 0x44, 0x87},
                                                                 {0x35, 0x60, 0x8d},
                                                                 {0x2a, 0x78, 0x8e},
                                                                 {0x21, 0x90, 0x8c},
                                                                 {0x22, 0xa8, 0x84},
                                                                 {0x43, 0xbf, 0x71},
                                                                 {0x7a, 0xd1, 0x51},
                                                                 {0xbb, 0xdf, 0x27},
                                                                 {0xfd, 0xe7, 0x25}}};
  if (!std::isfinite(t)) t = 0;
  t = std::clamp(t, 0.0, 1.0);
  double pos = t * 10;
  int i = std::min(9, static_cast<int>(pos));
  double f = pos - i;
  char buf[8];
  int rgb[3];
  for (int c = 0; c < 3; ++c) {
    rgb[c] = static_cast<int>(std::lround(kStops[i][c] + f * (kStops[i + 1][c] - kStops[i][c])));
  }
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buf;
}

namespace {

// Viridis' last tenth is a pale yellow that vanishes on white: colour bars use t ∈ [0, 0.9].
constexpr double kMaxT = 0.9;

double bar_fraction(const ColorBar& bar, double v) {
  if (bar.kind == ScaleKind::kLog) {
    if (!(v > 0) || !(bar.lo > 0) || !(bar.hi > bar.lo)) return 0;
    return std::log(v / bar.lo) / std::log(bar.hi / bar.lo);
  }
  if (!(bar.hi > bar.lo)) return 0;
  return (v - bar.lo) / (bar.hi - bar.lo);
}

std::string marker_svg(const Series& s, double x, double y, const std::string& tip) {
  std::string attrs = " fill=\"" + s.color + "\" stroke=\"#fff\" stroke-width=\"0.8\"";
  if (!tip.empty()) attrs += " class=\"pt\" data-tip=\"" + html_escape(tip) + "\"";
  std::string body = tip.empty() ? "" : "<title>" + html_escape(tip) + "</title>";
  double r = s.marker_size;
  std::string el;
  switch (s.shape) {
    case MarkerShape::kSquare:
      el = "<rect x=\"" + px(x - r) + "\" y=\"" + px(y - r) + "\" width=\"" + px(2 * r) + "\" height=\"" +
           px(2 * r) + "\"" + attrs;
      return el + (body.empty() ? "/>" : ">" + body + "</rect>");
    case MarkerShape::kDiamond:
    case MarkerShape::kStar: {
      std::string pts;
      if (s.shape == MarkerShape::kDiamond) {
        pts = px(x) + "," + px(y - 1.3 * r) + " " + px(x + r) + "," + px(y) + " " + px(x) + "," +
              px(y + 1.3 * r) + " " + px(x - r) + "," + px(y);
      } else {
        for (int i = 0; i < 10; ++i) {
          double a = -M_PI / 2 + i * M_PI / 5;
          double rr = i % 2 == 0 ? 1.6 * r : 0.7 * r;
          pts += px(x + rr * std::cos(a)) + "," + px(y + rr * std::sin(a)) + " ";
        }
      }
      el = "<polygon points=\"" + pts + "\"" + attrs;
      return el + (body.empty() ? "/>" : ">" + body + "</polygon>");
    }
    case MarkerShape::kCircle:
    default:
      el = "<circle cx=\"" + px(x) + "\" cy=\"" + px(y) + "\" r=\"" + px(r) + "\"" + attrs;
      return el + (body.empty() ? "/>" : ">" + body + "</circle>");
  }
}

std::vector<Tick> ticks_for(ScaleKind kind, double lo, double hi, int target) {
  return kind == ScaleKind::kLog ? log_ticks(lo, hi) : linear_ticks(lo, hi, target);
}

}  // namespace

std::string color_for(const ColorBar& bar, double v) {
  return viridis(std::clamp(bar_fraction(bar, v), 0.0, 1.0) * kMaxT);
}

std::string render_svg(const PlotSpec& spec) {
  const double W = spec.width, H = spec.height;
  bool has_legend = spec.legend && std::any_of(spec.series.begin(), spec.series.end(),
                                               [](const Series& s) { return !s.name.empty(); });
  bool side = has_legend || spec.color_bar.has_value();
  const double left = 76, right = side ? 190 : 24, top = 36, bottom = spec.note.empty() ? 50 : 68;
  const double px0 = left, px1 = W - right, py0 = top, py1 = H - bottom;

  // Data extent, including error bars, of the values each axis can show.
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  auto grow = [](double v, ScaleKind k, double& mn, double& mx) {
    if (!usable(v, k)) return;
    mn = std::min(mn, v);
    mx = std::max(mx, v);
  };
  for (const auto& s : spec.series) {
    for (const auto& p : s.points) {
      if (!usable(p.x, spec.x_scale) || !usable(p.y, spec.y_scale)) continue;
      grow(p.x, spec.x_scale, xmin, xmax);
      grow(p.y, spec.y_scale, ymin, ymax);
      if (s.error_bars || s.band) {
        grow(p.y_lo, spec.y_scale, ymin, ymax);
        grow(p.y_hi, spec.y_scale, ymin, ymax);
        grow(p.x_lo, spec.x_scale, xmin, xmax);
        grow(p.x_hi, spec.x_scale, xmin, xmax);
      }
    }
  }
  if (!(xmax >= xmin)) xmin = 1, xmax = 10;
  if (!(ymax >= ymin)) ymin = 1, ymax = 10;
  auto [x0, x1] = spec.x_domain ? *spec.x_domain : padded_domain(xmin, xmax, spec.x_scale);
  auto [y0, y1] = spec.y_domain ? *spec.y_domain : padded_domain(ymin, ymax, spec.y_scale);
  Scale sx{spec.x_scale, x0, x1, px0, px1};
  Scale sy{spec.y_scale, y0, y1, py1, py0};
  auto inside_x = [&](double v) { return usable(v, sx.kind); };
  auto inside_y = [&](double v) { return usable(v, sy.kind); };

  std::string id = html_escape(spec.id);
  std::string o;
  o.reserve(16384);
  o += "<svg class=\"plot\" id=\"" + id + "\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + px(W) + " " +
       px(H) + "\" width=\"" + px(W) + "\" height=\"" + px(H) + "\" role=\"img\" aria-label=\"" +
       html_escape(spec.title) + "\">\n";
  o += "<defs><clipPath id=\"" + id + "-clip\"><rect x=\"" + px(px0) + "\" y=\"" + px(py0) + "\" width=\"" +
       px(px1 - px0) + "\" height=\"" + px(py1 - py0) + "\"/></clipPath></defs>\n";
  o += "<rect x=\"0\" y=\"0\" width=\"" + px(W) + "\" height=\"" + px(H) + "\" fill=\"#fff\"/>\n";
  o += "<text class=\"plot-title\" x=\"" + px((px0 + px1) / 2) + "\" y=\"22\" text-anchor=\"middle\">" +
       html_escape(spec.title) + "</text>\n";

  // Grid lines and ticks.
  auto xt = ticks_for(sx.kind, std::min(x0, x1), std::max(x0, x1), 7);
  auto yt = ticks_for(sy.kind, std::min(y0, y1), std::max(y0, y1), 6);
  o += "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">";
  for (const auto& t : xt) {
    if (!t.major && t.label.empty()) continue;
    double x = sx.map(t.value);
    o += "<line x1=\"" + px(x) + "\" y1=\"" + px(py0) + "\" x2=\"" + px(x) + "\" y2=\"" + px(py1) + "\"/>";
  }
  for (const auto& t : yt) {
    if (!t.major && t.label.empty()) continue;
    double y = sy.map(t.value);
    o += "<line x1=\"" + px(px0) + "\" y1=\"" + px(y) + "\" x2=\"" + px(px1) + "\" y2=\"" + px(y) + "\"/>";
  }
  o += "</g>\n<g class=\"axes\" stroke=\"#333\" stroke-width=\"1\" font-size=\"11\">";
  o += "<rect x=\"" + px(px0) + "\" y=\"" + px(py0) + "\" width=\"" + px(px1 - px0) + "\" height=\"" + px(py1 - py0) +
       "\" fill=\"none\"/>";
  for (const auto& t : xt) {
    double x = sx.map(t.value), len = t.major ? 6 : 3;
    o += "<line class=\"tick x\" x1=\"" + px(x) + "\" y1=\"" + px(py1) + "\" x2=\"" + px(x) + "\" y2=\"" +
         px(py1 + len) + "\"/>";
    if (!t.label.empty()) {
      o += "<text class=\"ticklabel x\" stroke=\"none\" fill=\"#333\" x=\"" + px(x) + "\" y=\"" + px(py1 + 19) +
           "\" text-anchor=\"middle\">" + html_escape(t.label) + "</text>";
    }
  }
  for (const auto& t : yt) {
    double y = sy.map(t.value), len = t.major ? 6 : 3;
    o += "<line class=\"tick y\" x1=\"" + px(px0 - len) + "\" y1=\"" + px(y) + "\" x2=\"" + px(px0) + "\" y2=\"" +
         px(y) + "\"/>";
    if (!t.label.empty()) {
      o += "<text class=\"ticklabel y\" stroke=\"none\" fill=\"#333\" x=\"" + px(px0 - 9) + "\" y=\"" + px(y + 4) +
           "\" text-anchor=\"end\">" + html_escape(t.label) + "</text>";
    }
  }
  o += "</g>\n";
  o += "<text class=\"axis-title\" x=\"" + px((px0 + px1) / 2) + "\" y=\"" + px(py1 + 40) +
       "\" text-anchor=\"middle\">" + html_escape(spec.x_label) + "</text>\n";
  o += "<text class=\"axis-title\" transform=\"translate(16 " + px((py0 + py1) / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + html_escape(spec.y_label) + "</text>\n";
  if (!spec.note.empty()) {
    o += "<text class=\"plot-note\" x=\"" + px(px0) + "\" y=\"" + px(H - 8) + "\">" + html_escape(spec.note) +
         "</text>\n";
  }

  // Series: bands first (behind), then lines and error bars, then markers on top.
  o += "<g clip-path=\"url(#" + id + "-clip)\">\n";
  for (const auto& s : spec.series) {
    if (!s.band) continue;
    std::string upper, lower;
    for (const auto& p : s.points) {
      if (!inside_x(p.x) || !inside_y(p.y_lo) || !inside_y(p.y_hi)) continue;
      upper += px(sx.map(p.x)) + "," + px(sy.map(p.y_hi)) + " ";
      lower = px(sx.map(p.x)) + "," + px(sy.map(p.y_lo)) + " " + lower;
    }
    if (!upper.empty()) {
      o += "<polygon class=\"band\" points=\"" + upper + lower + "\" fill=\"" + s.color +
           "\" fill-opacity=\"0.18\" stroke=\"none\"/>\n";
    }
  }
  for (const auto& s : spec.series) {
    std::string op = s.opacity < 1 ? " stroke-opacity=\"" + px(s.opacity) + "\"" : "";
    if (s.line) {
      std::string pts;
      for (const auto& p : s.points) {
        if (!inside_x(p.x) || !inside_y(p.y)) continue;
        pts += px(sx.map(p.x)) + "," + px(sy.map(p.y)) + " ";
      }
      if (!pts.empty()) {
        o += "<polyline class=\"series\" data-series=\"" + html_escape(s.name) + "\" points=\"" + pts +
             "\" fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"" + px(s.line_width) + "\"" + op +
             (s.dash.empty() ? "" : " stroke-dasharray=\"" + s.dash + "\"") + "/>\n";
      }
    }
    if (s.error_bars) {
      o += "<g class=\"errorbars\" stroke=\"" + s.color + "\" stroke-width=\"1.2\"" + op + ">";
      for (const auto& p : s.points) {
        if (!inside_x(p.x) || !inside_y(p.y)) continue;
        double x = sx.map(p.x), y = sy.map(p.y);
        if (inside_y(p.y_lo) && inside_y(p.y_hi)) {
          double a = sy.map(p.y_lo), b = sy.map(p.y_hi);
          o += "<line x1=\"" + px(x) + "\" y1=\"" + px(a) + "\" x2=\"" + px(x) + "\" y2=\"" + px(b) + "\"/>";
          o += "<line x1=\"" + px(x - 3) + "\" y1=\"" + px(a) + "\" x2=\"" + px(x + 3) + "\" y2=\"" + px(a) + "\"/>";
          o += "<line x1=\"" + px(x - 3) + "\" y1=\"" + px(b) + "\" x2=\"" + px(x + 3) + "\" y2=\"" + px(b) + "\"/>";
        }
        if (inside_x(p.x_lo) && inside_x(p.x_hi)) {
          o += "<line x1=\"" + px(sx.map(p.x_lo)) + "\" y1=\"" + px(y) + "\" x2=\"" + px(sx.map(p.x_hi)) +
               "\" y2=\"" + px(y) + "\"/>";
        }
      }
      o += "</g>\n";
    }
  }
  for (const auto& s : spec.series) {
    if (s.markers) {
      o += "<g class=\"markers\">";
      for (const auto& p : s.points) {
        if (!inside_x(p.x) || !inside_y(p.y)) continue;
        o += marker_svg(s, sx.map(p.x), sy.map(p.y), p.tip);
      }
      o += "</g>\n";
    } else if (s.hover_points > 0 && !s.points.empty()) {
      // Invisible hover targets spread along the curve: a tooltip without drawing every point.
      std::vector<size_t> idx;
      size_t n = s.points.size(), k = std::min<size_t>(n, static_cast<size_t>(s.hover_points));
      for (size_t j = 0; j < k; ++j) idx.push_back(k == 1 ? n - 1 : j * (n - 1) / (k - 1));
      idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
      o += "<g class=\"hover\">";
      for (size_t j : idx) {
        const auto& p = s.points[j];
        if (!inside_x(p.x) || !inside_y(p.y) || p.tip.empty()) continue;
        o += "<circle class=\"pt\" cx=\"" + px(sx.map(p.x)) + "\" cy=\"" + px(sy.map(p.y)) +
             "\" r=\"4\" fill=\"transparent\" data-tip=\"" + html_escape(p.tip) + "\"><title>" + html_escape(p.tip) +
             "</title></circle>";
      }
      o += "</g>\n";
    }
  }
  o += "</g>\n";

  // Legend, then colour bar, in the right-hand column.
  double ly = py0 + 4;
  const double lx = px1 + 14;
  if (has_legend) {
    o += "<g class=\"legend\" font-size=\"11\">";
    for (const auto& s : spec.series) {
      if (s.name.empty()) continue;
      std::string label = s.name;
      // Long names are cut (on a UTF-8 boundary) so the legend stays inside the figure; the full
      // name is in the entry's tooltip.
      if (label.size() > 26) {
        size_t cut = 25;
        while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) --cut;
        label = label.substr(0, cut) + "…";
      }
      o += "<g class=\"legend-entry\" data-tip=\"" + html_escape(s.name) + "\">";
      if (s.line) {
        o += "<line x1=\"" + px(lx) + "\" y1=\"" + px(ly + 6) + "\" x2=\"" + px(lx + 22) + "\" y2=\"" + px(ly + 6) +
             "\" stroke=\"" + s.color + "\" stroke-width=\"" + px(s.line_width) + "\"" +
             (s.dash.empty() ? "" : " stroke-dasharray=\"" + s.dash + "\"") + "/>";
      }
      if (s.markers) o += marker_svg(s, lx + 11, ly + 6, "");
      o += "<text x=\"" + px(lx + 28) + "\" y=\"" + px(ly + 10) + "\">" + html_escape(label) + "</text></g>";
      ly += 18;
    }
    o += "</g>\n";
    ly += 10;
  }
  if (spec.color_bar) {
    const auto& bar = *spec.color_bar;
    double bt = ly + 26, bb = py1, bx = lx + 4;  // room for the title and the top tick label
    if (bb - bt < 60) bb = bt + 60;
    o += "<g class=\"colorbar\" font-size=\"11\">";
    o += "<text class=\"colorbar-title\" x=\"" + px(lx) + "\" y=\"" + px(ly + 8) + "\">" + html_escape(bar.title) +
         "</text>";
    std::string grad = id + "-grad";
    o += "<defs><linearGradient id=\"" + grad + "\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
    for (int i = 0; i <= 10; ++i) {
      o += "<stop offset=\"" + px(i / 10.0) + "\" stop-color=\"" + viridis(i / 10.0 * kMaxT) + "\"/>";
    }
    o += "</linearGradient></defs>";
    o += "<rect x=\"" + px(bx) + "\" y=\"" + px(bt) + "\" width=\"14\" height=\"" + px(bb - bt) + "\" fill=\"url(#" +
         grad + ")\" stroke=\"#333\" stroke-width=\"0.8\"/>";
    auto bt_ticks = ticks_for(bar.kind, bar.lo, bar.hi, 5);
    for (const auto& t : bt_ticks) {
      double f = std::clamp(bar_fraction(bar, t.value), 0.0, 1.0);
      double y = bb - f * (bb - bt);
      o += "<line x1=\"" + px(bx + 14) + "\" y1=\"" + px(y) + "\" x2=\"" + px(bx + (t.major ? 19 : 17)) +
           "\" y2=\"" + px(y) + "\" stroke=\"#333\"/>";
      if (!t.label.empty()) {
        o += "<text x=\"" + px(bx + 22) + "\" y=\"" + px(y + 4) + "\">" + html_escape(t.label) + "</text>";
      }
    }
    o += "</g>\n";
  }
  o += "</svg>\n";
  return o;
}

}  // namespace scalinglab::report
