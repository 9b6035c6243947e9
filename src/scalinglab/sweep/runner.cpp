#include "scalinglab/sweep/runner.h"

#include <fcntl.h>
#include <omp.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <sstream>
#include <thread>

#include "scalinglab/data/corpus.h"
#include "scalinglab/emergence/mixed_corpus.h"
#include "scalinglab/emergence/run_scoring.h"
#include "scalinglab/model/bench_train.h"
#include "scalinglab/run/train_run.h"
#include "scalinglab/store/run_store.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/io/read_file.h"
#include "scalinglab/train/checkpoint.h"
#include "scalinglab/train/metrics.h"

namespace scalinglab::sweep {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Tokens per second of one training step of `m` with `threads` threads (a short measurement).
double throughput(const model::GptConfig& m, uint32_t batch, int threads) {
  model::TrainBenchConfig c;
  c.model = m;
  c.batch = static_cast<int>(batch);
  c.threads = threads;
  c.warmup = 1;
  c.steps = 2;
  c.peak_reps = 0;
  return model::bench_train(c).tokens_per_s_best;
}

constexpr int kMaxAttempts = 10;

// ---- WSD branches (Hägele et al. 2024; Hu et al. 2024) ----
//
// A branch never retrains its trunk's prefix. The trunk lives in <runs>/<trunk_key>/ and is
// trained only under an exclusive flock on <runs>/<trunk_key>/lock (the kernel drops the lock when
// its holder dies, kill -9 included). Whichever worker holds a branch that needs the trunk at step
// b_k advances it, stopping at every branch step b_j <= b_k on the way and copying the trunk's
// checkpoint there to branch-<b_j>.bin (atomic, CRC-checked like every checkpoint). The trunk goes
// past b_j only once branch-<b_j>.bin exists, so a snapshot is never missing behind the trunk.
// A branch's own directory is seeded with the trunk's metrics up to b_k and then (the commit point)
// checkpoint.bin = branch-<b_k>.bin; from there train_run resumes it like any interrupted run, with
// the WSD schedule of length D_k, whose lr before b_k equals the trunk's.

namespace fs = std::filesystem;

std::string branch_file(const std::string& trunk_dir, uint64_t step) {
  return trunk_dir + "/branch-" + std::to_string(step) + ".bin";
}

uint64_t checkpoint_step(const std::string& path) {
  return fs::exists(path) ? train::load_checkpoint(path).step : 0;
}

// Copies a checkpoint, verifying it first: a corrupt snapshot must not be propagated.
void copy_checkpoint(const std::string& from, const std::string& to) {
  (void)train::load_checkpoint(from);
  const std::string bytes = io::read_file(from, "checkpoint");
  io::AtomicFileWriter w(to);
  w.write(bytes.data(), bytes.size());
  w.commit();
}

class TrunkLock {
 public:
  explicit TrunkLock(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw std::runtime_error(path + ": cannot open the trunk lock");
  }
  ~TrunkLock() { ::close(fd_); }  // closing releases the flock
  TrunkLock(const TrunkLock&) = delete;
  TrunkLock& operator=(const TrunkLock&) = delete;
  // Waits for the lock; false if Ctrl-C came first.
  bool acquire() {
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) throw std::runtime_error("cannot lock a WSD trunk");
      if (util::interrupted()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

 private:
  int fd_;
};

struct BranchPrep {
  enum { kReady, kInterrupted, kDiverged } status = kReady;
  std::string message;
};

BranchPrep prepare_branch(const store::RunRecord& r, const WsdBranch& w, const SweepRunOptions& o, int threads) {
  const std::string ck = r.run_dir + "/checkpoint.bin";
  if (fs::exists(ck)) return {};  // seeded before: the cooldown resumes from its own checkpoint
  const std::string trunk_dir = (fs::path(r.run_dir).parent_path() / w.trunk_key).string();
  fs::create_directories(trunk_dir);
  TrunkLock lock(trunk_dir + "/lock");
  if (!lock.acquire()) return {BranchPrep::kInterrupted, ""};
  run::RunSpec trunk = w.trunk;
  trunk.threads = threads;
  trunk.cache_dir = o.cache_dir;
  const std::string trunk_ck = trunk_dir + "/checkpoint.bin";
  for (uint64_t b : w.trunk_branch_steps) {
    if (b > w.branch_step) break;
    const std::string snap = branch_file(trunk_dir, b);
    if (fs::exists(snap)) continue;
    const uint64_t at = checkpoint_step(trunk_ck);
    if (at > b)
      throw std::runtime_error(trunk_dir + ": the trunk's checkpoint is at step " + std::to_string(at) +
                               ", past branch step " + std::to_string(b) + " whose snapshot is missing");
    if (at < b) {
      // The trainer polls stop() once after every step but the last: stop exactly at step b.
      uint64_t calls = 0;
      auto stop = [&] { return at + ++calls >= b || util::interrupted(); };
      run::RunOutcome t = run::train_run(trunk, trunk_dir, util::ProgressMode::kQuiet, stop);
      if (t.status == "diverged") return {BranchPrep::kDiverged, "trunk " + w.trunk_key + " diverged: " + t.message};
      if (t.steps != b) return {BranchPrep::kInterrupted, ""};  // Ctrl-C: the trunk checkpointed
    }
    copy_checkpoint(trunk_ck, snap);
  }
  // Seed the branch: the trunk's logged points up to the branch step (its curve before the
  // cooldown), then its state there. The trunk's log is stable while we hold the lock.
  fs::create_directories(r.run_dir);
  std::string kept;
  const std::string trunk_metrics = trunk_dir + "/metrics.jsonl";
  if (fs::exists(trunk_metrics)) {
    std::istringstream in(io::read_file(trunk_metrics, "metrics"));
    for (std::string line; std::getline(in, line);) {
      try {
        if (nlohmann::json::parse(line).at("step").get<uint64_t>() <= w.branch_step) kept += line + "\n";
      } catch (const nlohmann::json::exception&) {  // a line cut by a kill: redone by the trunk
      }
    }
  }
  io::write_file_atomic(r.run_dir + "/metrics.jsonl", kept);
  copy_checkpoint(branch_file(trunk_dir, w.branch_step), ck);
  return {};
}

// ---- emergence sweeps (docs/EMERGENCE.md "Emergence sweeps") ----
//
// Before any worker starts, the driver builds the tasks and writes the mixed corpus the runs train
// on; the workers (forked, so they share both) score each trained run's checkpoints before they
// finish it, so a run is `done` only once all its scores are in the store.

struct EmergenceWork {
  emergence::EmergenceSpec spec;
  std::vector<emergence::Task> tasks;
  emergence::ScoreOptions options;
  std::string corpus_path;  // what the runs train on: the mixed corpus, or the corpus without generated tasks
  nlohmann::json record;    // the store's "emergence_corpus" artifact
};

constexpr const char* kEmergenceArtifact = "emergence_corpus";

// The tasks, and the mixed corpus in `fresh_dir` — or, for a sweep that already has one (its
// artifact names it), that file: verified against the hash in its name, or rebuilt there if it was
// deleted (the mix is a function of the spec and the corpus, so the rebuild has the same name
// unless the corpus changed, which is refused).
EmergenceWork prepare_emergence(const SweepSpec& spec, const std::string& fresh_dir,
                                const std::optional<nlohmann::json>& artifact) {
  EmergenceWork w;
  w.spec = *spec.emergence;
  w.tasks = emergence::make_tasks(w.spec);
  w.options = emergence::score_options(w.spec);
  emergence::check_tasks_fit(w.tasks, spec.family.ctx, w.options);
  if (w.spec.tasks.empty()) {  // task files only: scored, never trained on
    w.corpus_path = spec.corpus;
    w.record = {{"path", spec.corpus}, {"mixed", false}};
    return w;
  }
  std::string expected;
  if (artifact && artifact->is_object() && artifact->contains("path") && (*artifact)["path"].is_string())
    expected = (*artifact)["path"].get<std::string>();
  if (!expected.empty() && fs::exists(expected)) {
    emergence::MixedCorpus on_disk;
    on_disk.text = io::read_file(expected, "mixed corpus");
    if (emergence::mixed_corpus_path(on_disk, fs::path(expected).parent_path().string()) != expected)
      throw std::invalid_argument(expected + ": the sweep's mixed corpus was modified (its content no longer matches the hash "
                                  "in its name); delete it to have it rebuilt");
    w.corpus_path = expected;
    w.record = *artifact;
    return w;
  }
  const std::string text = w.spec.mix_fraction < 1 ? data::read_corpus_text(spec.corpus) : std::string();
  const emergence::MixedCorpus m = emergence::mix_corpus(text, spec.corpus, w.tasks, w.spec.mix_fraction);
  const std::string dir = expected.empty() ? fresh_dir : fs::path(expected).parent_path().string();
  w.corpus_path = emergence::write_mixed_corpus(m, dir);
  if (!expected.empty() && w.corpus_path != expected)
    throw std::invalid_argument(expected + ": the sweep's mixed corpus is missing and rebuilding it gives other text (" +
                                w.corpus_path + "): the corpus " + spec.corpus + " changed since the sweep started");
  nlohmann::json tasks = nlohmann::json::array();
  for (size_t i = 0; i < w.tasks.size(); ++i)
    tasks.push_back({{"name", w.tasks[i].name}, {"bytes", m.bytes_by_task[i]}, {"answer_len", w.tasks[i].answer_len},
                     {"train", w.tasks[i].train.size()}, {"eval", w.tasks[i].eval.size()}, {"source", w.tasks[i].source}});
  w.record = {{"path", w.corpus_path}, {"mixed", true},        {"corpus", spec.corpus},
              {"bytes", m.text.size()}, {"task_bytes", m.task_bytes}, {"corpus_bytes", m.corpus_bytes},
              {"task_fraction", m.task_fraction()}, {"tasks", tasks}};
  return w;
}

// One worker: claim, train, record, until the queue is empty or Ctrl-C. Runs in its own process.
void worker_loop(const SweepRunOptions& o, int64_t sweep_id, int threads, const std::string& label,
                 const EmergenceWork* em) {
  store::RunStore st = store::RunStore::open(o.store_path, {store::OpenMode::kReadWrite});
  omp_set_num_threads(std::max(1, threads));
  while (!util::interrupted()) {
    // A run is abandoned only after many claimants died on it (a run that kills its worker
    // every time, e.g. out of memory); a few deaths are the sweep itself being killed and resumed.
    auto claimed = st.claim_next(sweep_id, label, kMaxAttempts);
    if (!claimed) break;
    const store::RunRecord& r = *claimed;
    run::RunOutcome out;
    run::RunSpec spec;
    try {
      spec = run::spec_from_json(r.spec);
      spec.threads = threads;
      spec.cache_dir = o.cache_dir;
      if (std::optional<WsdBranch> wsd = wsd_branch_from_json(r.spec)) {
        BranchPrep p = prepare_branch(r, *wsd, o, threads);
        if (p.status == BranchPrep::kInterrupted) {
          st.requeue(r.id, "interrupted before its cooldown; the trunk resumes from its checkpoint");
          break;
        }
        if (p.status == BranchPrep::kDiverged) {
          store::RunResult res;
          res.status = store::RunStatus::kDiverged;
          res.message = p.message;
          st.finish_run(r.id, res);
          continue;
        }
      }
      out = run::train_run(spec, r.run_dir, util::ProgressMode::kQuiet);
    } catch (const std::exception& e) {
      store::RunResult res;
      res.status = store::RunStatus::kFailed;
      res.message = e.what();
      st.finish_run(r.id, res);
      continue;
    }
    std::vector<store::Point> points;
    const std::string metrics = r.run_dir + "/metrics.jsonl";
    if (std::filesystem::exists(metrics))
      for (const auto& row : train::read_metrics(metrics)) points.push_back(store::to_point(row));
    st.record_points(r.id, points);
    if (out.status == "interrupted") {
      st.set_checkpoint(r.id, r.run_dir + "/checkpoint.bin");
      st.requeue(r.id, "interrupted; resumes from its checkpoint");
      break;
    }
    if (em && out.status == "done") {
      emergence::RunScoring sc;
      try {
        sc = emergence::score_run(st, r.id, spec, r.run_dir, em->tasks, em->spec.checkpoints, em->spec.checkpoint_spacing, em->options, util::interrupted);
      } catch (const std::exception& e) {
        store::RunResult res;
        res.status = store::RunStatus::kFailed;
        res.message = std::string("scoring its checkpoints: ") + e.what();
        st.finish_run(r.id, res);
        continue;
      }
      if (sc.interrupted) {
        st.set_checkpoint(r.id, r.run_dir + "/checkpoint.bin");
        st.requeue(r.id, "interrupted while scoring its checkpoints; the scores recorded are kept");
        break;
      }
    }
    store::RunResult res;
    res.status = out.status == "done" ? store::RunStatus::kDone : store::RunStatus::kDiverged;
    res.message = out.message;
    res.train_loss = out.train_loss;
    res.eval_loss = out.eval_loss;
    res.tokens = static_cast<double>(out.tokens);
    res.flops = 6.0 * static_cast<double>(out.params_total) * static_cast<double>(out.tokens);
    res.checkpoint = r.run_dir + "/checkpoint.bin";
    st.finish_run(r.id, res);
  }
}

// choose_schedule() runs OpenMP parallel regions; GNU libgomp does not survive fork() once its
// thread pool exists, so the measurement runs in a child of its own and the driver, which forks
// the workers, never starts OpenMP itself.
Schedule choose_schedule_in_child(const std::vector<PlannedRun>& runs, int cores) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("cannot create a pipe");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    Schedule s{1, cores, 0};
    try {
      s = choose_schedule(runs, cores);
    } catch (...) {
    }
    (void)!::write(fds[1], &s, sizeof s);
    std::_Exit(0);
  }
  ::close(fds[1]);
  Schedule s{1, cores, 0};
  if (pid > 0) {
    if (::read(fds[0], &s, sizeof s) != static_cast<ssize_t>(sizeof s)) s = {1, cores, 0};
    ::waitpid(pid, nullptr, 0);
  }
  ::close(fds[0]);
  return s;
}

SweepOutcome drive(const SweepRunOptions& o, int64_t sweep_id, const std::vector<PlannedRun>& plan_runs,
                   const EmergenceWork* em) {
  auto t0 = std::chrono::steady_clock::now();
  Schedule sch;
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (o.workers > 0) {
    sch.workers = o.workers;
    sch.threads = o.threads_per_worker > 0 ? o.threads_per_worker : std::max(1, cores / o.workers);
  } else {
    sch = choose_schedule_in_child(plan_runs, cores);
  }
  util::install_interrupt_handler();
  std::vector<pid_t> children;
  for (int w = 0; w < sch.workers; ++w) {
    pid_t pid = ::fork();
    if (pid == 0) {
      util::install_interrupt_handler(false);
      int code = 0;
      try {
        worker_loop(o, sweep_id, sch.threads, "worker-" + std::to_string(w), em);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "scalinglab: sweep worker %d: %s\n", w, e.what());
        code = 1;
      }
      std::_Exit(code);
    }
    if (pid < 0) throw std::runtime_error("cannot start a sweep worker process");
    children.push_back(pid);
  }

  // The parent only watches: overall progress from the store, which the workers update.
  store::RunStore st = store::RunStore::open(o.store_path, {store::OpenMode::kReadOnly});
  double total_flops = 0;
  for (const auto& r : st.runs(sweep_id)) total_flops += r.flops;
  util::Progress bar("sweep", total_flops, "FLOPs", o.progress);
  size_t running = children.size();
  bool forwarded = false;
  while (running > 0) {
    // Ctrl-C on a terminal reaches the whole process group; a SIGINT sent to the driver alone
    // is passed on, so the workers checkpoint and requeue their runs either way.
    if (util::interrupted() && !forwarded) {
      for (pid_t pid : children)
        if (pid > 0) ::kill(pid, SIGINT);
      forwarded = true;
    }
    for (auto& pid : children) {
      if (pid > 0 && ::waitpid(pid, nullptr, WNOHANG) == pid) {
        pid = -1;
        --running;
      }
    }
    double done_flops = 0;
    int64_t finished = 0, total = 0;
    for (const auto& r : st.runs(sweep_id)) {
      ++total;
      if (store::is_final(r.status)) {
        done_flops += r.flops;
        ++finished;
      }
    }
    bar.set_note(std::to_string(finished) + "/" + std::to_string(total) + " runs" +
                 (em ? ", " + std::to_string(st.count_evals(sweep_id)) + " scores" : std::string()));
    bar.set(done_flops);
    if (running > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  bar.finish();
  auto c = st.counts(sweep_id);
  SweepOutcome out;
  out.sweep_id = sweep_id;
  out.total = c.total();
  out.done = c.done;
  out.diverged = c.diverged;
  out.failed = c.failed;
  out.queued = c.queued + c.running;
  out.workers = sch.workers;
  out.threads_per_worker = sch.threads;
  out.interrupted = util::interrupted();
  out.wall_s = seconds_since(t0);
  return out;
}

}  // namespace

Schedule choose_schedule(const std::vector<PlannedRun>& runs, int cores) {
  Schedule best;
  if (runs.empty()) return best;
  auto smallest = std::min_element(runs.begin(), runs.end(), [](auto& a, auto& b) { return a.n < b.n; });
  auto largest = std::max_element(runs.begin(), runs.end(), [](auto& a, auto& b) { return a.n < b.n; });
  // Seconds per token at both ends of the family, interpolated in N for the runs in between.
  auto seconds = [&](int threads) {
    double s_small = 1.0 / throughput(smallest->spec.model, smallest->spec.batch, threads);
    double s_large = 1.0 / throughput(largest->spec.model, largest->spec.batch, threads);
    double total = 0;
    for (const auto& r : runs) {
      double f = largest->n > smallest->n ? (r.n - smallest->n) / (largest->n - smallest->n) : 0;
      total += r.d_trained * (s_small + f * (s_large - s_small));
    }
    return total;
  };
  const double one_run_all_threads = seconds(cores);
  const double parallel = cores > 1 ? seconds(1) / cores : one_run_all_threads;
  if (cores > 1 && parallel < one_run_all_threads && runs.size() >= static_cast<size_t>(cores)) {
    best = {cores, 1, parallel};
  } else {
    best = {1, cores, one_run_all_threads};
  }
  return best;
}

SweepOutcome run_sweep(const SweepSpec& spec, const SweepRunOptions& o) {
  std::vector<PlannedRun> planned = plan(spec);
  std::filesystem::create_directories(o.out_dir + "/runs");
  {
    store::RunStore st = store::RunStore::open(o.store_path, {store::OpenMode::kCreate});
    // A spec stored by an earlier version lacks the fields added since, which now serialise with
    // their defaults: compare what the specs mean, not how they were written, so such a sweep resumes.
    nlohmann::json spec_json = to_json(spec);
    if (auto existing = st.sweep(spec.name)) {
      try {
        if (to_json(sweep_from_json(existing->spec)) == spec_json) spec_json = existing->spec;
      } catch (const std::invalid_argument&) {
        // Not a spec this version reads: create_sweep refuses it as different.
      }
    }
    // An emergence sweep's tasks and mixed corpus, before the sweep is recorded: a spec whose
    // tasks or mix cannot be made leaves nothing in the store.
    std::optional<EmergenceWork> em;
    if (spec.emergence) {
      std::optional<nlohmann::json> artifact;
      if (auto existing = st.sweep(spec.name)) artifact = st.artifact(existing->id, kEmergenceArtifact);
      em = prepare_emergence(spec, fs::absolute(o.out_dir + "/emergence").string(), artifact);
      for (auto& r : planned) r.spec.corpus = em->corpus_path;
    }
    store::SweepRecord sw = st.create_sweep(spec.name, spec_json);
    if (em) st.put_artifact(sw.id, kEmergenceArtifact, em->record);
    std::vector<store::NewRun> add;
    for (const auto& r : planned) {
      store::NewRun n;
      n.key = r.key;
      n.spec = stored_spec(r);
      n.seed = r.spec.seed;
      n.params_total = r.spec.model.params_total();
      n.params_non_embedding = r.spec.model.params_non_embedding();
      n.tokens = r.d;
      n.flops = r.c;
      n.run_dir = std::filesystem::absolute(o.out_dir + "/runs/" + r.key).string();
      add.push_back(n);
    }
    st.add_runs(sw.id, add);
    return drive(o, sw.id, planned, em ? &*em : nullptr);
  }
}

SweepOutcome resume_sweep(const SweepRunOptions& o, const std::string& sweep_name) {
  store::RunStore st = store::RunStore::open(o.store_path, {store::OpenMode::kReadWrite});
  auto sweeps = st.sweeps();
  if (sweeps.empty()) throw std::invalid_argument(o.store_path + ": the store holds no sweep");
  std::optional<store::SweepRecord> sw;
  if (sweep_name.empty()) {
    if (sweeps.size() > 1) throw std::invalid_argument(o.store_path + ": several sweeps; name one with --sweep");
    sw = sweeps[0];
  } else {
    sw = st.sweep(sweep_name);
    if (!sw) throw std::invalid_argument(o.store_path + ": no sweep named '" + sweep_name + "'");
  }
  SweepSpec spec = sweep_from_json(sw->spec);
  std::optional<EmergenceWork> em;
  if (spec.emergence)
    em = prepare_emergence(spec, fs::absolute(o.out_dir + "/emergence").string(), st.artifact(sw->id, kEmergenceArtifact));
  return drive(o, sw->id, plan(spec), em ? &*em : nullptr);
}

}  // namespace scalinglab::sweep
