// The report in a real browser: headless Chromium loads a report built from a synthetic fit,
// with a check script injected ahead of everything else. The script records JavaScript errors
// (window.onerror) and Content-Security-Policy violations (any attempt to load from the network),
// counts the rendered plots, and hovers a point to see the tooltip appear. It writes its findings
// into attributes of <body>, which --dump-dom prints. Skipped where Chromium is not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "scalinglab/report/html_report.h"
#include "synthetic_report.h"

namespace scalinglab::report {
namespace {

constexpr const char* kChromium = "/usr/bin/chromium";

constexpr const char* kCheck = R"JS(<script>
window.__errors = [];
window.onerror = function (msg) { window.__errors.push(String(msg)); };
document.addEventListener('securitypolicyviolation', function (e) {
  window.__errors.push('CSP blocked ' + e.blockedURI);
});
window.addEventListener('load', function () {
  var b = document.body;
  try {
    var plots = document.querySelectorAll('svg.plot');
    var drawn = 0;
    for (var i = 0; i < plots.length; i++) {
      var r = plots[i].getBoundingClientRect();
      if (r.width > 100 && r.height > 100 && plots[i].querySelector('polyline, circle')) drawn++;
    }
    b.setAttribute('data-check-plots', String(plots.length));
    b.setAttribute('data-check-drawn', String(drawn));
    var pt = document.querySelector('svg.plot .pt');
    var r = pt.getBoundingClientRect();
    pt.dispatchEvent(new MouseEvent('mouseover', {bubbles: true, clientX: r.left + 1, clientY: r.top + 1}));
    var tip = document.getElementById('tooltip');
    b.setAttribute('data-check-tooltip', tip && tip.style.display === 'block' ? tip.textContent.split('\n')[0] : 'none');
    b.setAttribute('data-check-titles-left', String(document.querySelectorAll('[data-tip] > title').length));
  } catch (e) {
    window.__errors.push('check: ' + e);
  }
  b.setAttribute('data-check-errors', String(window.__errors.length));
  b.setAttribute('data-check-error-text', window.__errors.join(' | '));
  b.setAttribute('data-check-done', 'yes');
});
</script>
)JS";

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  ::pclose(p);
  return out;
}

std::string attr(const std::string& dom, const std::string& name) {
  std::smatch m;
  if (std::regex_search(dom, m, std::regex(name + "=\"([^\"]*)\""))) return m[1];
  return "<missing>";
}

TEST(Chromium, ReportRendersWithoutErrorsAndTooltipsWork) {
  if (!std::filesystem::exists(kChromium)) GTEST_SKIP() << kChromium << " not installed";
  ReportData data = testing::synthetic_report();
  // A hostile run name must stay text in the browser too.
  data.runs[0].name = "<script>window.__errors.push('injected')</script>";
  std::string html = render_html(data);
  size_t head = html.find("<head>");
  ASSERT_NE(head, std::string::npos);
  html.insert(head + 6, std::string("\n<meta charset=\"utf-8\">\n") + kCheck);

  auto dir = std::filesystem::temp_directory_path() / ("scalinglab-chromium-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "profile");
  auto page = dir / "report.html";
  { std::ofstream(page) << html; }
  // Flags: no sandbox (tests may run as root), no GPU, and none of the background traffic
  // (component updates, sync, QUIC probes) a fresh profile would otherwise start.
  std::string cmd = std::string("timeout 60 ") + kChromium +
                    " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                    " --disable-background-networking --disable-component-update --disable-sync"
                    " --disable-dev-shm-usage --window-size=1400,3000 --virtual-time-budget=5000"
                    " --user-data-dir=" + (dir / "profile").string() + " --dump-dom file://" + page.string() +
                    " 2>/dev/null";
  std::string dom = run(cmd);
  std::filesystem::remove_all(dir);

  ASSERT_EQ(attr(dom, "data-check-done"), "yes") << "the check script did not finish; DOM:\n" << dom.substr(0, 2000);
  EXPECT_EQ(attr(dom, "data-check-errors"), "0") << attr(dom, "data-check-error-text");
  EXPECT_EQ(attr(dom, "data-check-plots"), "7");
  EXPECT_EQ(attr(dom, "data-check-drawn"), "7");
  // The report's script ran: it wired the tooltip targets and replaced the native <title>s.
  EXPECT_GT(std::stoi("0" + std::regex_replace(attr(dom, "data-tooltips"), std::regex("[^0-9]"), "")), 100);
  EXPECT_EQ(attr(dom, "data-check-titles-left"), "0");
  std::string tip = attr(dom, "data-check-tooltip");
  EXPECT_NE(tip, "none");
  EXPECT_NE(tip, "<missing>");
  // The first hover target is on the hostile run's curve: its name shows as text.
  EXPECT_NE(tip.find("window.__errors.push("), std::string::npos) << tip;
}

}  // namespace
}  // namespace scalinglab::report
