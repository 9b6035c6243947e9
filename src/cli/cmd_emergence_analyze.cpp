// `scalinglab emergence analyze FILE`: a long results table (CSV/TSV/JSONL; published tables or
// the lab's own export) → per curve I, B, L, the emergence point, the logistic with a bootstrap
// interval for x0, a verdict; per task the mirage test's verdict; forecasts; JSON and HTML.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/format.h"
#include "scalinglab/emergence/analysis_html.h"
#include "scalinglab/emergence/analyze.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/io/table.h"

namespace scalinglab::cli {
namespace {

using namespace scalinglab::emergence;

struct AnalyzeArgs {
  std::string file, format = "auto", x = "auto", bootstrap_kind = "residuals", json, html;
  AnalyzeOptions options;
  bool quiet = false;
};

std::string b_text(double b) {
  if (std::isinf(b)) return b > 0 ? "+inf" : "-inf";
  return fmt(b, 3);
}

}  // namespace

void print_emergence_analysis(const AnalysisResult& r, std::ostream& out) {
  size_t w = 10;
  for (const auto& a : r.curves) w = std::max(w, a.curve.label().size());
  w = std::min<size_t>(w, 64) + 1;
  out << "emergence analysis of " << r.source << ": " << r.curves.size() << " curves by " << r.x_column
      << ", bootstrap " << r.options.bootstrap << " (" << to_string(r.options.bootstrap_kind) << "), seed " << r.options.seed
      << "\n\n";
  out << pad("curve", w) << pad("n", 4) << pad("I", 10) << pad("B", 9) << pad("L", 8) << pad("sharp", 8) << pad("midpoint", 10)
      << pad("logistic x0 [95%]", 28) << "verdict\n";
  for (const auto& a : r.curves) {
    const auto& f = a.logistic;
    std::string x0 = "-";
    if (f.fitted) {
      x0 = fmt(f.p.x0, 4);
      if (std::isfinite(f.x0_lo)) x0 += " [" + fmt(f.x0_lo, 4) + ", " + fmt(f.x0_hi, 4) + "]";
      if (f.k_at_max) x0 += " step";
      else if (!f.x0_inside) x0 += " out";
    }
    out << pad(a.curve.label(), w) << pad(std::to_string(a.curve.points.size()), 4) << pad(fmt(a.bt.I, 3), 10)
        << pad(b_text(a.bt.B), 9) << pad(fmt(a.bt.L, 3), 8) << pad(fmt(a.sharpness, 3), 8)
        << pad(fmt(a.midpoint_log10_x, 4), 10) << pad(x0, 28) << a.verdict << "\n";
  }
  out << "  (x in log10 " << r.x_column << "; sharp = |B|/(n-1) on the value for discrete metrics, on log q for continuous "
      << "ones; sharp at >= " << fmt(r.options.sharp_threshold, 3) << ")\n";

  out << "\nverdict per task:\n";
  for (const auto& t : r.verdicts)
    out << "  " << t.group << ": " << t.verdict << (t.decided_by.empty() ? "" : "  [" + t.decided_by + ": " + t.reason + "]")
        << "\n";

  if (!r.mirage.empty()) {
    out << "\nmirage test (exact match predicted as p^L):\n";
    for (const auto& m : r.mirage)
      out << "  " << pad(m.exact_label, w) << "L=" << pad(std::to_string(m.answer_len), 4) << "p from " << pad(m.source_metric, 17)
          << "max |err| " << pad(fmt(m.max_abs_error, 3), 10) << (m.tracks ? "tracks" : "does not track")
          << (m.note.empty() ? "" : " (" + m.note + ")") << "\n";
  }

  out << "\nforecast of the larger half from the smaller (lead: scales before the jump it was predictable):\n";
  for (const auto& a : r.curves) {
    const auto& f = a.forecast;
    std::string lead = f.lead_scales >= 0 ? std::to_string(f.lead_scales) : std::isfinite(f.jump_log10_x) ? "not predictable" : "-";
    out << "  " << pad(a.curve.label(), w) << pad(f.method, 10) << "mean |err| " << pad(fmt(f.mean_abs_error, 3), 10)
        << "max |err| " << pad(fmt(f.max_abs_error, 3), 10) << "lead " << lead << (f.note.empty() ? "" : "  (" + f.note + ")")
        << "\n";
  }

  if (!r.two_step.empty()) {
    out << "\ntwo-step task forecast (task loss vs " << r.x_column << ", then accuracy vs task loss):\n";
    for (const auto& t : r.two_step) {
      out << "  " << t.accuracy_label << ": ";
      if (!t.ok) {
        out << t.note << "\n";
        continue;
      }
      out << "fitted on " << t.fit_points << " of " << t.models << " scales; held-out mean errors: step 1 "
          << fmt(100 * t.step1_mean_abs_rel_error, 3) << "% (loss), step 2 " << fmt(t.step2_mean_abs_error, 3)
          << ", chained " << fmt(t.chained_mean_abs_error, 3) << "\n";
      for (const auto& p : t.held_out)
        out << "    " << pad(p.model, 16) << "accuracy " << pad(fmt(p.accuracy_measured, 3), 8) << "predicted "
            << fmt(p.accuracy_predicted, 3)
            << (std::isfinite(p.accuracy_lo) ? " [" + fmt(p.accuracy_lo, 3) + ", " + fmt(p.accuracy_hi, 3) + "]" : "") << "\n";
      for (const auto& p : t.predictions)
        out << "    at " << pad(fmt(p.x, 4), 12) << "accuracy " << fmt(p.accuracy_predicted, 3)
            << (std::isfinite(p.accuracy_lo) ? " [" + fmt(p.accuracy_lo, 3) + ", " + fmt(p.accuracy_hi, 3) + "]" : "") << "\n";
    }
  }
  if (!r.notes.empty()) {
    out << "\nnotes:\n";
    for (const auto& n : r.notes) out << "  " << n << "\n";
  }
}

namespace {

void run_analyze(AnalyzeArgs& a) {
  try {
    a.options.x = scale_axis_from(a.x, "--x");
    a.options.bootstrap_kind = bootstrap_kind_from(a.bootstrap_kind, "--bootstrap-kind");
    validate(a.options);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  io::TableFormat format = io::TableFormat::kAuto;
  if (a.format == "csv") format = io::TableFormat::kCsv;
  if (a.format == "tsv") format = io::TableFormat::kTsv;
  if (a.format == "jsonl") format = io::TableFormat::kJsonl;
  const io::Table table = io::read_table(a.file, format);
  const AnalysisResult r = analyze_table(table, a.options);
  for (const auto& w : r.warnings) std::cerr << "scalinglab: warning: " << w << "\n";
  if (!a.json.empty()) io::write_file_atomic(a.json, to_json(r).dump(2) + "\n");
  if (!a.html.empty()) write_emergence_html(r, a.html);
  if (a.json != "-" && !a.quiet) print_emergence_analysis(r, std::cout);
}

}  // namespace

void register_emergence_analyze(CLI::App& emergence) {
  auto a = std::make_shared<AnalyzeArgs>();
  CLI::App* cmd = emergence.add_subcommand(
      "analyze", "Analyse a long results table (one row per model x curve value): I, B, L, emergence point, logistic, "
                 "mirage verdict, forecasts");
  cmd->add_option("file", a->file, "CSV/TSV/JSONL with model, params and/or compute, task, metric, value (docs/EMERGENCE.md)")
      ->required();
  cmd->add_option("--format", a->format, "input format: auto (by extension) | csv | tsv | jsonl")
      ->check(CLI::IsMember({"auto", "csv", "tsv", "jsonl"}));
  cmd->add_option("--x", a->x, "scale column: compute | params | auto (compute when present)")
      ->check(CLI::IsMember({"auto", "compute", "params"}));
  cmd->add_option("--col-model", a->options.col_model, "column naming the model of each row (default: model)");
  cmd->add_option("--bootstrap", a->options.bootstrap, "bootstrap replicates for the x0 and two-step intervals (0: none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--bootstrap-kind", a->bootstrap_kind, "x0 interval: residuals (default) | cases")
      ->check(CLI::IsMember({"residuals", "cases"}));
  cmd->add_option("--seed", a->options.seed, "seed of the bootstrap");
  cmd->add_option("--sharp-threshold", a->options.sharp_threshold, "sharp when |B|/(n-1) >= this (default 3)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--flat-tolerance", a->options.flat_tolerance,
                  "flat when |I| <= this fraction of the metric's scale (or 2 standard errors; default 0.02)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--mirage-tolerance", a->options.mirage_tolerance, "p^L tracks exact match within this (default 0.1)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--forecast-tolerance", a->options.forecast_tolerance,
                  "forecast within this fraction of the curve's range (default 0.1)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--offset", a->options.power_law_offset, "power laws with an irreducible offset, q = c + a x^-b");
  cmd->add_option("--predict-at", a->options.predict_at, "two-step forecast: predict accuracy at these scales (x units)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", a->options.threads, "threads (default: all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--json", a->json, "write the analysis as JSON to FILE ('-': stdout, nothing else printed)");
  cmd->add_option("--html", a->html, "write the report page to FILE");
  cmd->add_flag("-q,--quiet", a->quiet, "no table");
  cmd->callback([a] { run_analyze(*a); });
}

}  // namespace scalinglab::cli
