#include "scalinglab/study/emergence_demo.h"

#include <chrono>
#include <filesystem>

#include "scalinglab/emergence/analysis_html.h"
#include "scalinglab/emergence/results_export.h"
#include "scalinglab/emergence/results_views.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/store/run_store.h"
#include "scalinglab/study/sweep_run_options.h"

namespace scalinglab::study {

sweep::SweepSpec default_emergence_spec() {
  // The measurements behind every number: docs/EMERGENCE.md, "The demo's family".
  return sweep::sweep_from_json(nlohmann::json::parse(R"({
    "name": "emergence-demo", "corpus": "kjv",
    "family": {"aspect": 16, "head_dim": 16, "d_multiple": 8, "ctx": 64, "rope": true,
               "min_layers": 2, "max_layers": 2},
    "hyper": {"lr_base": 3e-3, "lr_base_width": 128, "lr_width_exponent": 0.5,
              "batch_tokens": 512, "warmup_frac": 0.05, "schedule": "cosine"},
    "design": {"kind": "grid", "n_min": 1.07e4, "n_max": 1.165e5, "sizes": 6, "tokens_per_param": [30]},
    "eval_windows": 32, "eval_fraction": 0.1, "seeds": [1],
    "emergence": {
      "tasks": [{"name": "add2", "kind": "addition", "digits": 2, "n_train": 8500, "n_eval": 500, "seed": 1},
                {"name": "mod97", "kind": "mod_add", "modulus": 97, "n_train": 8000, "n_eval": 500, "seed": 1}],
      "mix_fraction": 0.75, "checkpoints": 9, "checkpoint_spacing": "linear", "max_eval_examples": 500}})"));
}

EmergenceDemoResult run_emergence_demo(const sweep::SweepSpec& spec, const EmergenceDemoOptions& o) {
  namespace fs = std::filesystem;
  if (!spec.emergence)
    throw std::invalid_argument("sweep spec: field 'emergence' is missing: the emergence demo trains and scores tasks");
  const auto start = std::chrono::steady_clock::now();
  fs::create_directories(o.out_dir);
  EmergenceDemoResult r;
  r.store_path = (fs::path(o.out_dir) / "store.db").string();
  r.sweep = sweep::run_sweep(spec, sweep_run_options(o, r.store_path));
  auto finish = [&] {
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
  };
  if (r.sweep.interrupted) {
    r.interrupted = true;
    return finish();
  }
  io::Table results;
  {
    const store::RunStore st = store::RunStore::open(r.store_path, {store::OpenMode::kReadOnly});
    results = emergence::export_results(st, r.sweep.sweep_id, {}, r.store_path);
  }
  auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = (fs::path(o.out_dir) / name).string();
    io::write_file_atomic(path, text);
    r.files.push_back(path);
  };
  write("results.csv", emergence::results_csv(results));
  r.results_csv = r.files.back();
  emergence::AnalyzeOptions ao;
  ao.bootstrap = o.bootstrap;
  ao.threads = o.threads;
  struct View {
    const char* name;
    io::Table (*make)(const io::Table&);
    emergence::AnalysisResult* out;
  };
  for (const View& v : {View{"family", emergence::family_view, &r.family}, View{"training", emergence::training_view, &r.training}}) {
    io::Table t = v.make(results);
    t.source = (fs::path(o.out_dir) / (std::string(v.name) + ".csv")).string();
    write(std::string(v.name) + ".csv", emergence::results_csv(t));
    *v.out = emergence::analyze_table(t, ao);
    write(std::string(v.name) + ".json", emergence::to_json(*v.out).dump(2) + "\n");
    write(std::string(v.name) + ".html", emergence::render_emergence_page(*v.out));
  }
  return finish();
}

}  // namespace scalinglab::study
