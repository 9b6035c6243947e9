#pragma once
// The monitor's page: one self-contained HTML file (inline SVG from report/svg_plot.h, no
// script, a Content-Security-Policy forbidding every network load) with the observed
// evaluations, the reference curve and its band, the final-loss estimate, warnings and the
// latest points. While following a run the page carries a meta refresh, so a browser left open
// on it shows the run as the monitor rewrites it (atomically, at each update).
#include <string>

#include "scalinglab/monitor/monitor.h"

namespace scalinglab::monitor {

// refresh_s > 0 adds <meta http-equiv="refresh" content="refresh_s">.
std::string render_monitor_html(const Monitor& m, const std::string& format, int refresh_s);

}  // namespace scalinglab::monitor
