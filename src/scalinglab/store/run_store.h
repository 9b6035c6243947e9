#pragma once
// The crash-safe run store of a sweep: one SQLite file that records sweeps, their runs (queued →
// running → done / diverged / failed) and each run's logged points. Several processes use it at
// once — a sweep writer or several sweep workers claiming runs, readers such as report and
// monitor — so every write is one short IMMEDIATE transaction and the file is in WAL mode (readers
// never block the writer nor see half a transaction).
//
// Guarantees:
//   * a run is claimed by exactly one worker at a time (claim_next is one IMMEDIATE transaction);
//   * a worker killed mid-run (kill -9, OOM) leaves a stale claim that the next claim_next on the
//     same host takes over (the claimant's pid is checked, with its start time against pid reuse);
//   * a finished run (done/diverged/failed) is never claimed again, and its row survives crashes,
//     power loss included (synchronous=FULL, see run_store.cpp);
//   * a batch of points is stored whole or not at all.
//
// Limits: WAL needs every process on one host with a local filesystem (shared memory; not NFS), so
// workers on several cluster nodes need one store per node or another backend. A stale claim is
// only recognised on the host that made it (a claim from a dead node stays `running` until
// requeue() is called for it). A RunStore must not be carried across fork(): open one in the child.
// Opening runs PRAGMA quick_check, which reads the whole file (0.25 s for a 43 MB store
// of 1 M points on the development machine).
//
// Errors: a file that is not a usable store (not SQLite, truncated/corrupt, another program's
// SQLite database, a newer store version, missing) throws io::InputError with one line naming the
// file; a request that contradicts what is stored (a sweep name reused with another spec, a run
// key with another spec, finishing a run that is not running) throws std::invalid_argument; a
// failure of SQLite itself (lock held past the busy timeout, disk full, I/O) throws StoreError.
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scalinglab/train/metrics.h"

struct sqlite3;

namespace scalinglab::store {

// SQLite failed (busy past the timeout, disk full, I/O error). The message names the store file.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class RunStatus { kQueued, kRunning, kDone, kDiverged, kFailed };
std::string_view to_string(RunStatus s);             // "queued", "running", "done", ...
RunStatus status_from_string(std::string_view s);  // throws std::invalid_argument
inline bool is_final(RunStatus s) { return s == RunStatus::kDone || s == RunStatus::kDiverged || s == RunStatus::kFailed; }

struct SweepRecord {
  int64_t id = 0;
  std::string name;
  nlohmann::json spec;
  std::string created;  // UTC, ISO 8601
};

// A run to add to a sweep. N, D and C are the planned values (from the spec), for fits and
// reports before the run has finished.
struct NewRun {
  std::string key;  // unique and stable within the sweep, e.g. "N3.2e5-D6.4e6-s1"
  nlohmann::json spec;
  uint64_t seed = 0;
  int64_t params_total = 0, params_non_embedding = 0;
  double tokens = 0;  // D
  double flops = 0;   // C
  std::string run_dir;
};

struct RunRecord {
  int64_t id = 0, sweep_id = 0;
  std::string key;
  nlohmann::json spec;
  uint64_t seed = 0;
  RunStatus status = RunStatus::kQueued;
  int64_t params_total = 0, params_non_embedding = 0;
  double tokens = 0, flops = 0;  // planned; finish_run may replace them with the amounts used
  std::optional<double> train_loss, eval_loss;  // final, once finished (absent if not finite)
  std::string message;
  std::string run_dir, checkpoint;
  int64_t attempts = 0;  // times claimed
  // The last claimant: a free-form worker label and the process that claimed it.
  std::string worker, host;
  int64_t pid = 0;
  std::string created, claimed, finished;  // UTC, ISO 8601; empty if not yet
};

// One scored metric of a run at one of its checkpoints on one task (an emergence sweep's row, see
// docs/EMERGENCE.md): the seam between the sweep's scoring and the results table. Identified by
// (run, step, task, metric).
struct Evaluation {
  uint64_t step = 0;         // optimizer steps behind the scored weights
  double tokens = 0;         // training tokens at that step, D
  double flops = 0;          // C = 6·N·D at that step
  double progress = 0;       // nominal fraction of the run (emergence::EvalPoint::progress)
  std::string task, metric;  // task name; metric name as in emergence/score.h
  double value = NAN;        // non-finite values are stored as NULL and read back as NaN
  double stderr = NAN, ci_lo = NAN, ci_hi = NAN;
  int64_t n = 0;             // examples behind the value
  bool higher_is_better = true;
  int answer_len = 0;        // the task's L, target length in tokens
};

// The outcome of a run, for finish_run.
struct RunResult {
  RunStatus status = RunStatus::kDone;  // done, diverged or failed
  std::string message;
  double train_loss = NAN, eval_loss = NAN;  // final; non-finite values are stored as NULL
  std::optional<double> tokens, flops;       // the amounts actually used, if known
  std::string checkpoint;                    // path of the last checkpoint, if any
};

// One logged point of a run's training curve (a metrics.jsonl line).
struct Point {
  uint64_t step = 0;
  uint64_t tokens = 0;
  double flops = 0;
  double train_loss = NAN;  // NaN (diverged) is stored as NULL and read back as NaN
  std::optional<double> eval_loss;
  double lr = 0;
  double elapsed_s = 0;
};
Point to_point(const train::MetricsRow& row);

struct StatusCounts {
  int64_t queued = 0, running = 0, done = 0, diverged = 0, failed = 0;
  int64_t total() const { return queued + running + done + diverged + failed; }
  int64_t finished() const { return done + diverged + failed; }
};

enum class OpenMode {
  kCreate,     // read-write; a missing (or empty) file becomes a new store
  kReadWrite,  // read-write; the store must exist
  kReadOnly,   // for readers (report, monitor); the store must exist
};

struct StoreOptions {
  OpenMode mode = OpenMode::kCreate;
  // How long a statement waits for another process's write lock before failing with StoreError.
  // Write transactions are milliseconds long, so this is only reached if a process hangs.
  int busy_timeout_ms = 30000;
};

class RunStore {
 public:
  // Opens (or creates) the store at `path`, checks it (file format, application id, store version,
  // PRAGMA quick_check) and refuses anything else with io::InputError.
  static RunStore open(const std::string& path, const StoreOptions& options = {});

  RunStore(RunStore&&) noexcept;
  RunStore& operator=(RunStore&&) noexcept;
  ~RunStore();

  const std::string& path() const { return path_; }

  // Idempotent by name: returns the existing sweep when its spec equals `spec` (as JSON values),
  // throws std::invalid_argument when it differs.
  SweepRecord create_sweep(const std::string& name, const nlohmann::json& spec);
  std::optional<SweepRecord> sweep(const std::string& name) const;
  std::vector<SweepRecord> sweeps() const;

  // Idempotent by key: a key already in the sweep with an equal spec is left as it is (whatever
  // its status); with a different spec it throws std::invalid_argument and nothing is added.
  // All runs are added in one transaction. Returns the run ids, in the order given.
  std::vector<int64_t> add_runs(int64_t sweep_id, std::span<const NewRun> runs);
  int64_t add_run(int64_t sweep_id, const NewRun& run);

  // Atomically picks the sweep's lowest-id run that is queued, or running under a claim whose
  // process is dead (same host only: the pid is checked with kill(pid, 0) and /proc), marks it
  // running under this process (attempts + 1) and returns it; nullopt when there is none. A stale
  // run already claimed `max_attempts` times is marked failed instead: a run that kills its
  // worker every time (out of memory) must not be retried forever.
  std::optional<RunRecord> claim_next(int64_t sweep_id, const std::string& worker, int max_attempts = 3);

  // Upserts points by (run, step) in one transaction: a resumed run re-logs the steps after its
  // checkpoint and these replace the earlier ones.
  void record_points(int64_t run_id, std::span<const Point> points);

  // Marks a running run done/diverged/failed with its outcome. Throws std::invalid_argument if the
  // run is not running (already finished, or never claimed): a result is recorded once.
  void finish_run(int64_t run_id, const RunResult& result);
  // Puts a running run back in the queue (the worker was interrupted, e.g. Ctrl-C, and will not
  // finish it); its points and attempts are kept.
  void requeue(int64_t run_id, const std::string& message);
  // Records the run's checkpoint path (after each checkpoint of a running run).
  void set_checkpoint(int64_t run_id, const std::string& checkpoint);

  // Named JSON results of a sweep (e.g. "validation"), replaced whole on each put.
  void put_artifact(int64_t sweep_id, const std::string& name, const nlohmann::json& value);
  std::optional<nlohmann::json> artifact(int64_t sweep_id, const std::string& name) const;

  std::optional<RunRecord> run(int64_t run_id) const;
  std::optional<RunRecord> run(int64_t sweep_id, const std::string& key) const;
  std::vector<RunRecord> runs(int64_t sweep_id, std::optional<RunStatus> status = std::nullopt) const;
  std::vector<Point> points(int64_t run_id) const;  // by step

  // Upserts evaluations by (run, step, task, metric) in one transaction: a batch is stored whole or
  // not at all, and scoring a checkpoint again (a worker killed mid-way) replaces its rows instead
  // of adding to them. Throws std::invalid_argument for an unknown run or an empty task/metric name.
  void record_evals(int64_t run_id, std::span<const Evaluation> evals);
  std::vector<Evaluation> evals(int64_t run_id) const;  // by step, task, metric
  // Every evaluation of a sweep's runs, with the run's id: by run id, step, task, metric.
  std::vector<std::pair<int64_t, Evaluation>> sweep_evals(int64_t sweep_id) const;
  int64_t count_evals(int64_t sweep_id) const;
  StatusCounts counts(int64_t sweep_id) const;

 private:
  RunStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  std::string path_;
  sqlite3* db_ = nullptr;
};

// The sweep named `name`, or with `name` empty the store's only sweep. Throws
// std::invalid_argument naming the field `sweep` and the store when there is none, several (listing
// them) or none of that name.
SweepRecord select_sweep(const RunStore& st, const std::string& name);

}  // namespace scalinglab::store
