// `scalinglab report STORE -o report.html`: one self-contained HTML page for a sweep (with the
// emergence analysis for an emergence sweep).
#include <iostream>

#include "cli/commands.h"
#include "scalinglab/emergence/report_section.h"
#include "scalinglab/report/from_store.h"
#include "scalinglab/report/html_report.h"

namespace scalinglab::cli {

void register_report(CLI::App& app) {
  struct Args {
    std::string store, out = "report.html";
    report::StoreReportOptions options;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("report", "Write a self-contained HTML report of a sweep's store");
  cmd->add_option("store", a->store, "the sweep's SQLite store")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--out", a->out, "HTML file")->capture_default_str();
  cmd->add_option("--sweep", a->options.sweep, "sweep name, when the store holds several");
  cmd->add_option("--bootstrap", a->options.bootstrap, "bootstrap resamples of the fits")->capture_default_str();
  cmd->add_option("--plan-compute", a->options.plan_budgets, "budgets (FLOPs) for the planner rows");
  cmd->callback([a] {
    report::ReportData data;
    try {
      data = report::report_from_store(a->store, a->options);
      emergence::add_emergence_report(data, a->store, a->options.sweep);  // an emergence sweep's section
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();  // library errors name the field (`sweep: ...`); here it is a flag
      throw UsageError(what.starts_with("sweep: ") ? "--" + what : what);
    }
    report::write_report(data, a->out);
    std::cout << "wrote " << a->out << " (" << data.runs.size() << " runs)\n";
  });
}

}  // namespace scalinglab::cli
