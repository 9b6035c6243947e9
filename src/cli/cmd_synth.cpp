// `scalinglab synth`: runs drawn from a known Chinchilla law, for testing fits and for teaching.
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "scalinglab/fit/synthetic.h"
#include "scalinglab/io/atomic_file.h"

namespace scalinglab::cli {

std::string synthetic_csv(const fit::ChinchillaParams& truth, const fit::SyntheticDesign& design) {
  fit::Dataset ds = fit::make_synthetic(truth, design);
  std::ostringstream out;
  out.precision(10);
  out << "# synthetic runs from L = E + A/N^alpha + B/D^beta with E=" << truth.E << " A=" << truth.A << " B=" << truth.B
      << " alpha=" << truth.alpha << " beta=" << truth.beta << ", log-normal noise sigma=" << design.noise
      << ", seed=" << design.seed << "\n";
  out << "N,D,C,loss\n";
  for (const auto& r : ds.runs) out << r.n << "," << r.d << "," << r.c << "," << r.loss << "\n";
  return out.str();
}

namespace {

struct SynthArgs {
  fit::ChinchillaParams truth;
  fit::SyntheticDesign design;
  std::string kind = "isoflop", out = "-";
};

}  // namespace

void register_synth(CLI::App& app) {
  auto a = std::make_shared<SynthArgs>();
  CLI::App* cmd = app.add_subcommand("synth", "Write synthetic runs drawn from a known Chinchilla law (CSV)");
  cmd->add_option("--E", a->truth.E, "irreducible loss")->capture_default_str();
  cmd->add_option("--A", a->truth.A)->capture_default_str();
  cmd->add_option("--B", a->truth.B)->capture_default_str();
  cmd->add_option("--alpha", a->truth.alpha)->capture_default_str();
  cmd->add_option("--beta", a->truth.beta)->capture_default_str();
  cmd->add_option("--design", a->kind, "isoflop (budgets x sizes) | grid (sizes x tokens per parameter)")
      ->check(CLI::IsMember({"isoflop", "grid"}));
  cmd->add_option("--c-min", a->design.c_min, "smallest budget (isoflop)")->capture_default_str();
  cmd->add_option("--c-max", a->design.c_max, "largest budget (isoflop)")->capture_default_str();
  cmd->add_option("--budgets", a->design.budgets)->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--per-budget", a->design.per_budget)->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--n-span", a->design.n_span, "N ranges over [N_opt/span, N_opt*span] per budget (isoflop)")
      ->capture_default_str();
  cmd->add_option("--n-min", a->design.n_min, "smallest N (grid)")->capture_default_str();
  cmd->add_option("--n-max", a->design.n_max, "largest N (grid)")->capture_default_str();
  cmd->add_option("--noise", a->design.noise, "sigma of log-normal loss noise")->capture_default_str();
  cmd->add_option("--seed", a->design.seed)->capture_default_str();
  cmd->add_option("-o,--out", a->out, "output CSV ('-' for stdout)");
  cmd->callback([a] {
    a->design.kind = a->kind == "grid" ? fit::SyntheticDesign::Kind::kGrid : fit::SyntheticDesign::Kind::kIsoFlop;
    io::write_file_atomic(a->out, synthetic_csv(a->truth, a->design));
  });
}

}  // namespace scalinglab::cli
