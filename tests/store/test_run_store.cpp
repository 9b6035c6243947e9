// The run store: persistence, idempotence, the claim protocol between processes (fork), crash
// safety under SIGKILL, readers beside a writer, and refusal of files that are not a store.
// Child processes only open their own store handle after fork (an SQLite connection must not cross
// a fork), report through exit codes and pipes, and leave with _exit.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <span>
#include <sstream>
#include <thread>

#include "scalinglab/io/input_error.h"
#include "scalinglab/store/run_store.h"

namespace fs = std::filesystem;
using namespace scalinglab::store;
using scalinglab::io::InputError;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("sl_store_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

NewRun make_run(int i) {
  NewRun r;
  double n = 1e5 * (i + 1), d = 20 * n;
  char key[64];
  std::snprintf(key, sizeof key, "N%.1e-D%.1e-s1", n, d);
  r.key = key;
  r.spec = {{"d_model", 64 + i}, {"tokens", d}, {"seed", 1}};
  r.seed = 1;
  r.params_total = static_cast<int64_t>(n) + 1000;
  r.params_non_embedding = static_cast<int64_t>(n);
  r.tokens = d;
  r.flops = 6 * n * d;
  r.run_dir = "runs/" + r.key;
  return r;
}

std::vector<NewRun> make_runs(int count) {
  std::vector<NewRun> v;
  for (int i = 0; i < count; ++i) v.push_back(make_run(i));
  return v;
}

const nlohmann::json kSweepSpec = {{"grid", "isoflop"}, {"budgets", {1e15, 1e16}}, {"seeds", 1}};

// A store at `path` holding one sweep with `count` queued runs; returns the sweep id.
int64_t make_store(const std::string& path, int count) {
  auto store = RunStore::open(path);
  auto sweep = store.create_sweep("pilot", kSweepSpec);
  auto runs = make_runs(count);
  store.add_runs(sweep.id, runs);
  return sweep.id;
}

RunResult result(RunStatus status, std::string message = "", double train_loss = NAN, double eval_loss = NAN) {
  RunResult r;
  r.status = status;
  r.message = std::move(message);
  r.train_loss = train_loss;
  r.eval_loss = eval_loss;
  return r;
}

Point make_point(uint64_t step, double loss) {
  Point p;
  p.step = step;
  p.tokens = step * 2048;
  p.flops = 6e5 * static_cast<double>(p.tokens);
  p.train_loss = loss;
  if (step % 10 == 0) p.eval_loss = loss + 0.1;
  p.lr = 1e-3;
  p.elapsed_s = 0.01 * static_cast<double>(step);
  return p;
}

std::vector<Point> make_points(uint64_t first, uint64_t count, double loss = 3.0) {
  std::vector<Point> v;
  for (uint64_t s = first; s < first + count; ++s) v.push_back(make_point(s, loss));
  return v;
}

// ---- processes --------------------------------------------------------------------------------

template <class F>
pid_t fork_child(F&& body) {
  std::fflush(nullptr);  // or the child would flush the parent's buffered output again
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int code = 0;
    try {
      code = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child %d: %s\n", ::getpid(), e.what());
      code = 99;
    } catch (...) {
      code = 98;
    }
    ::_exit(code);
  }
  return pid;
}

// Exit code, or 128 + signal.
int wait_child(pid_t pid) {
  int st = 0;
  if (::waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (::pipe(fd) != 0) throw std::runtime_error("pipe failed");
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  int r() const { return fd[0]; }
  int w() const { return fd[1]; }
  void close_read() {
    if (fd[0] >= 0) ::close(fd[0]);
    fd[0] = -1;
  }
  void close_write() {
    if (fd[1] >= 0) ::close(fd[1]);
    fd[1] = -1;
  }
};

void send(int fd, int64_t v) {
  if (::write(fd, &v, sizeof v) != static_cast<ssize_t>(sizeof v)) throw std::runtime_error("pipe write failed");
}

// False at end of file.
bool receive(int fd, int64_t* v) {
  size_t got = 0;
  auto* p = reinterpret_cast<char*>(v);
  while (got < sizeof *v) {
    ssize_t n = ::read(fd, p + got, sizeof *v - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

// Blocks until the other side closes its write end (a barrier that releases every waiting child).
void wait_for_close(int fd) {
  char c;
  while (::read(fd, &c, 1) > 0) {
  }
}

std::string expect_refused(const std::string& path, OpenMode mode = OpenMode::kCreate) {
  try {
    RunStore::open(path, {mode});
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << path << " was opened as a run store";
  return "";
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

// ---- persistence -------------------------------------------------------------------------------

TEST(RunStore, CreateAndReopen) {
  TempDir tmp;
  const auto path = tmp.file("sweep.db");
  int64_t sweep_id = make_store(path, 3);

  // The file is in WAL mode: bytes 18 and 19 of the header (read/write format versions) are 2.
  std::string head = file_bytes(path).substr(0, 20);
  EXPECT_EQ(head.substr(0, 15), "SQLite format 3");
  EXPECT_EQ(head[18], 2);
  EXPECT_EQ(head[19], 2);

  auto store = RunStore::open(path, {OpenMode::kReadWrite});
  auto sweep = store.sweep("pilot");
  ASSERT_TRUE(sweep);
  EXPECT_EQ(sweep->id, sweep_id);
  EXPECT_EQ(sweep->spec, kSweepSpec);
  EXPECT_FALSE(sweep->created.empty());
  EXPECT_EQ(store.sweeps().size(), 1u);
  EXPECT_FALSE(store.sweep("other"));

  auto runs = store.runs(sweep_id);
  ASSERT_EQ(runs.size(), 3u);
  auto expected = make_run(1);
  const auto& r = runs[1];
  EXPECT_EQ(r.key, expected.key);
  EXPECT_EQ(r.spec, expected.spec);
  EXPECT_EQ(r.status, RunStatus::kQueued);
  EXPECT_EQ(r.params_total, expected.params_total);
  EXPECT_EQ(r.params_non_embedding, expected.params_non_embedding);
  EXPECT_DOUBLE_EQ(r.tokens, expected.tokens);
  EXPECT_DOUBLE_EQ(r.flops, expected.flops);
  EXPECT_EQ(r.run_dir, expected.run_dir);
  EXPECT_EQ(r.attempts, 0);
  EXPECT_FALSE(r.train_loss);
  EXPECT_TRUE(r.claimed.empty());
  ASSERT_TRUE(store.run(sweep_id, expected.key));
  EXPECT_EQ(store.run(sweep_id, expected.key)->id, r.id);
  EXPECT_EQ(store.counts(sweep_id).queued, 3);

  // Readers open it read-only; a missing store is an error unless asked to create it.
  auto reader = RunStore::open(path, {OpenMode::kReadOnly});
  EXPECT_EQ(reader.runs(sweep_id).size(), 3u);
  EXPECT_THROW(reader.add_run(sweep_id, make_run(9)), StoreError);
  std::string msg = expect_refused(tmp.file("missing.db"), OpenMode::kReadWrite);
  EXPECT_NE(msg.find("missing.db: no such run store"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(tmp.file("missing.db")));
}

TEST(RunStore, CreateSweepIsIdempotentByName) {
  TempDir tmp;
  auto store = RunStore::open(tmp.file("s.db"));
  auto a = store.create_sweep("pilot", kSweepSpec);
  // The same spec built in another order of keys is the same JSON value.
  nlohmann::json same = {{"seeds", 1}, {"budgets", {1e15, 1e16}}, {"grid", "isoflop"}};
  auto b = store.create_sweep("pilot", same);
  EXPECT_EQ(a.id, b.id);
  auto changed = kSweepSpec;
  changed["seeds"] = 2;
  try {
    store.create_sweep("pilot", changed);
    ADD_FAILURE() << "a sweep was redefined";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'pilot' already exists with a different spec"), std::string::npos) << e.what();
  }
  auto c = store.create_sweep("other", changed);
  EXPECT_NE(c.id, a.id);
  ASSERT_EQ(store.sweeps().size(), 2u);
  EXPECT_EQ(store.sweep("pilot")->spec, kSweepSpec);
}

TEST(RunStore, AddRunsIsIdempotentByKey) {
  TempDir tmp;
  auto store = RunStore::open(tmp.file("s.db"));
  auto sweep = store.create_sweep("pilot", kSweepSpec);
  auto runs = make_runs(3);
  auto ids = store.add_runs(sweep.id, runs);
  ASSERT_EQ(ids.size(), 3u);

  // A finished run stays finished when the sweep is re-planned (a restarted driver re-adds all).
  auto claimed = store.claim_next(sweep.id, "w");
  ASSERT_TRUE(claimed);
  store.finish_run(claimed->id, result(RunStatus::kDone, "", 2.5, 2.6));

  auto more = make_runs(4);
  auto ids2 = store.add_runs(sweep.id, more);
  ASSERT_EQ(ids2.size(), 4u);
  EXPECT_EQ(std::vector<int64_t>(ids2.begin(), ids2.begin() + 3), ids);
  EXPECT_EQ(store.runs(sweep.id).size(), 4u);
  EXPECT_EQ(store.run(ids[0])->status, RunStatus::kDone);
  EXPECT_EQ(store.add_run(sweep.id, make_run(1)), ids[1]);

  // A known key with another spec is refused, and the whole batch with it: the new key is not added.
  std::vector<NewRun> bad = {make_run(7), make_run(0)};
  bad[1].spec["d_model"] = 999;
  EXPECT_THROW(store.add_runs(sweep.id, bad), std::invalid_argument);
  EXPECT_EQ(store.runs(sweep.id).size(), 4u);
  EXPECT_FALSE(store.run(sweep.id, make_run(7).key));
  EXPECT_THROW(store.add_run(sweep.id + 100, make_run(0)), std::invalid_argument);
}

// ---- the claim protocol ------------------------------------------------------------------------

TEST(RunStore, ClaimsInOrderAndRecordsEachResultOnce) {
  TempDir tmp;
  auto store = RunStore::open(tmp.file("s.db"));
  auto sweep = store.create_sweep("pilot", kSweepSpec);
  auto ids = store.add_runs(sweep.id, make_runs(3));

  // Runs that were never claimed cannot be finished.
  EXPECT_THROW(store.finish_run(ids[0], result(RunStatus::kDone)), std::invalid_argument);

  for (int i = 0; i < 3; ++i) {
    auto r = store.claim_next(sweep.id, "worker-a");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->id, ids[i]);  // in the order they were added
    EXPECT_EQ(r->status, RunStatus::kRunning);
    EXPECT_EQ(r->attempts, 1);
    EXPECT_EQ(r->worker, "worker-a");
    EXPECT_EQ(r->pid, ::getpid());
    EXPECT_FALSE(r->host.empty());
    EXPECT_FALSE(r->claimed.empty());
  }
  // Every run is claimed by this live process: nothing to hand out.
  EXPECT_FALSE(store.claim_next(sweep.id, "worker-a"));
  EXPECT_EQ(store.counts(sweep.id).running, 3);

  RunResult done = result(RunStatus::kDone, "", 2.25, 2.5);
  done.tokens = 4.1e6;
  done.flops = 3e15;
  done.checkpoint = "runs/x/checkpoint.bin";
  store.finish_run(ids[0], done);
  RunResult diverged = result(RunStatus::kDiverged, "loss spiked at step 40");
  store.finish_run(ids[1], diverged);
  store.set_checkpoint(ids[2], "runs/y/checkpoint.bin");
  store.requeue(ids[2], "interrupted");

  auto r0 = store.run(ids[0]);
  EXPECT_EQ(r0->status, RunStatus::kDone);
  EXPECT_EQ(r0->train_loss, 2.25);
  EXPECT_EQ(r0->eval_loss, 2.5);
  EXPECT_EQ(r0->tokens, 4.1e6);  // the tokens actually trained replace the planned D
  EXPECT_EQ(r0->flops, 3e15);
  EXPECT_EQ(r0->checkpoint, "runs/x/checkpoint.bin");
  EXPECT_FALSE(r0->finished.empty());
  auto r1 = store.run(ids[1]);
  EXPECT_EQ(r1->status, RunStatus::kDiverged);
  EXPECT_FALSE(r1->train_loss);  // NaN is stored as NULL
  EXPECT_EQ(r1->message, "loss spiked at step 40");
  EXPECT_EQ(r1->tokens, make_run(1).tokens);  // not given: the planned D stays

  // A recorded result is final: finishing again, or with a non-final status, is refused.
  try {
    store.finish_run(ids[0], done);
    ADD_FAILURE() << "a done run was finished twice";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("it is done, not running"), std::string::npos) << e.what();
  }
  EXPECT_THROW(store.finish_run(ids[2], result(RunStatus::kRunning)), std::invalid_argument);
  EXPECT_THROW(store.requeue(ids[0], "again"), std::invalid_argument);

  // Only the requeued run comes back, with its checkpoint; done and diverged runs never do.
  auto again = store.claim_next(sweep.id, "worker-b");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, ids[2]);
  EXPECT_EQ(again->attempts, 2);
  EXPECT_EQ(again->checkpoint, "runs/y/checkpoint.bin");
  EXPECT_FALSE(store.claim_next(sweep.id, "worker-b"));
  store.finish_run(ids[2], result(RunStatus::kFailed, "out of memory"));
  EXPECT_FALSE(store.claim_next(sweep.id, "worker-b"));

  auto c = store.counts(sweep.id);
  EXPECT_EQ(c.done, 1);
  EXPECT_EQ(c.diverged, 1);
  EXPECT_EQ(c.failed, 1);
  EXPECT_EQ(c.total(), 3);
  EXPECT_EQ(store.runs(sweep.id, RunStatus::kDone).size(), 1u);
  EXPECT_EQ(store.runs(sweep.id, RunStatus::kQueued).size(), 0u);
}

// Two processes create the same new store and sweep at the same moment (two workers started
// together on an empty path): one schema, one sweep, no error.
TEST(RunStore, ConcurrentCreationMakesOneStore) {
  TempDir tmp;
  const auto path = tmp.file("new.db");
  Pipe barrier;
  auto creator = [&] {
    barrier.close_write();
    wait_for_close(barrier.r());
    auto store = RunStore::open(path);
    auto sweep = store.create_sweep("pilot", kSweepSpec);
    auto runs = make_runs(5);
    store.add_runs(sweep.id, runs);
    return 0;
  };
  pid_t a = fork_child(creator);
  pid_t b = fork_child(creator);
  barrier.close_write();
  EXPECT_EQ(wait_child(a), 0);
  EXPECT_EQ(wait_child(b), 0);
  auto store = RunStore::open(path, {OpenMode::kReadOnly});
  ASSERT_EQ(store.sweeps().size(), 1u);
  EXPECT_EQ(store.runs(store.sweeps()[0].id).size(), 5u);
}

// Two worker processes start claiming at the same moment (released by one barrier) and finish
// what they claim. Every run must be claimed exactly once: a claim that read the queue and then
// updated it in separate transactions would hand some runs to both.
TEST(RunStore, TwoProcessesClaimEachRunExactlyOnce) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  constexpr int kRuns = 60;
  int64_t sweep_id = make_store(path, kRuns);

  Pipe barrier, out_a, out_b;
  auto worker = [&](const char* name, int out_fd) {
    return [&, name, out_fd] {
      barrier.close_write();  // the inherited write end would keep the barrier shut
      auto store = RunStore::open(path, {OpenMode::kReadWrite});
      wait_for_close(barrier.r());
      while (auto r = store.claim_next(sweep_id, name)) {
        send(out_fd, r->id);
        store.finish_run(r->id, result(RunStatus::kDone, "", 2.0, 2.1));
      }
      return 0;
    };
  };
  pid_t a = fork_child(worker("a", out_a.w()));
  pid_t b = fork_child(worker("b", out_b.w()));
  barrier.close_write();
  out_a.close_write();
  out_b.close_write();

  std::vector<int64_t> claimed;
  for (int fd : {out_a.r(), out_b.r()}) {
    int64_t id;
    while (receive(fd, &id)) claimed.push_back(id);
  }
  EXPECT_EQ(wait_child(a), 0);
  EXPECT_EQ(wait_child(b), 0);

  std::sort(claimed.begin(), claimed.end());
  EXPECT_EQ(std::set<int64_t>(claimed.begin(), claimed.end()).size(), claimed.size()) << "a run was claimed twice";
  auto store = RunStore::open(path, {OpenMode::kReadOnly});
  std::vector<int64_t> all;
  for (const auto& r : store.runs(sweep_id)) {
    all.push_back(r.id);
    EXPECT_EQ(r.status, RunStatus::kDone) << r.key;
    EXPECT_EQ(r.attempts, 1) << r.key;
    EXPECT_TRUE(r.worker == "a" || r.worker == "b") << r.worker;
  }
  EXPECT_EQ(claimed, all);
  EXPECT_EQ(store.counts(sweep_id).done, kRuns);
}

// A worker is killed with SIGKILL mid-run. While it lives its claim is respected; once it is dead
// (here: a zombie not yet reaped, which kill(pid, 0) still reports as existing) the next claim
// takes the run over and the points it logged are still there.
TEST(RunStore, StaleClaimIsRecoveredAfterSigkill) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  int64_t sweep_id = make_store(path, 2);

  Pipe out;
  pid_t child = fork_child([&] {
    auto store = RunStore::open(path, {OpenMode::kReadWrite});
    auto r = store.claim_next(sweep_id, "doomed");
    if (!r) return 1;
    store.record_points(r->id, make_points(0, 5));
    send(out.w(), r->id);
    for (;;) ::pause();  // "training" until killed
  });
  out.close_write();
  int64_t doomed_id = 0;
  ASSERT_TRUE(receive(out.r(), &doomed_id));

  auto store = RunStore::open(path, {OpenMode::kReadWrite});
  auto other = store.claim_next(sweep_id, "survivor");
  ASSERT_TRUE(other);
  EXPECT_NE(other->id, doomed_id);  // the live claim is not taken
  EXPECT_FALSE(store.claim_next(sweep_id, "survivor"));

  ASSERT_EQ(::kill(child, SIGKILL), 0);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);  // dead, not reaped

  auto taken = store.claim_next(sweep_id, "survivor");
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->id, doomed_id);
  EXPECT_EQ(taken->attempts, 2);
  EXPECT_EQ(taken->worker, "survivor");
  EXPECT_EQ(taken->pid, ::getpid());
  EXPECT_NE(taken->message.find("reclaimed after worker 'doomed'"), std::string::npos) << taken->message;
  EXPECT_EQ(store.points(doomed_id).size(), 5u);
  EXPECT_EQ(wait_child(child), 128 + SIGKILL);

  store.finish_run(doomed_id, result(RunStatus::kDone, "", 2.0, 2.1));
  EXPECT_FALSE(store.claim_next(sweep_id, "survivor"));
}

// The claimant's pid alone is not trusted: the store also records the process's start time, the
// boot id and the pid namespace. Here the claimant (this process) is alive, and its recorded
// identity is edited to look like an older process that had the same pid (pid reuse), the same
// pid before a reboot, or a process in another container.
TEST(RunStore, ReusedPidOrRebootMakesAClaimStale) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  int64_t sweep_id = make_store(path, 1);
  auto store = RunStore::open(path, {OpenMode::kReadWrite});
  auto claimed = store.claim_next(sweep_id, "me");
  ASSERT_TRUE(claimed);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto query = [&](const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  };
  std::istringstream rec(query("SELECT proc_id FROM runs"));
  std::string boot, ns, start;
  rec >> boot >> ns >> start;
  ASSERT_FALSE(start.empty());
  auto set_identity = [&](const std::string& id) { query("UPDATE runs SET proc_id = '" + id + "'"); };

  set_identity(boot + " " + ns + " " + start);
  EXPECT_FALSE(store.claim_next(sweep_id, "me")) << "a live claim was taken";
  set_identity(boot + " other-namespace 1");
  EXPECT_FALSE(store.claim_next(sweep_id, "me")) << "a claim from another pid namespace cannot be checked and is kept";
  set_identity(boot + " " + ns + " 1");
  auto reused = store.claim_next(sweep_id, "me");
  ASSERT_TRUE(reused) << "a claim by an earlier process with the same pid was kept";
  EXPECT_EQ(reused->attempts, 2);
  set_identity("another-boot " + ns + " " + start);
  auto rebooted = store.claim_next(sweep_id, "me");
  ASSERT_TRUE(rebooted) << "a claim from before a reboot was kept";
  EXPECT_EQ(rebooted->attempts, 3);
  sqlite3_close(db);
}

// A run whose every claimant dies is given up after max_attempts instead of being retried forever.
TEST(RunStore, RunThatKillsItsWorkersIsAbandoned) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  int64_t sweep_id = make_store(path, 1);
  for (int i = 0; i < 2; ++i) {
    pid_t child = fork_child([&] {
      auto store = RunStore::open(path, {OpenMode::kReadWrite});
      return store.claim_next(sweep_id, "w" + std::to_string(i), 2) ? 0 : 1;  // and dies holding it
    });
    ASSERT_EQ(wait_child(child), 0) << "claim " << i;
  }
  auto store = RunStore::open(path, {OpenMode::kReadWrite});
  EXPECT_FALSE(store.claim_next(sweep_id, "parent", 2));
  auto r = store.runs(sweep_id).at(0);
  EXPECT_EQ(r.status, RunStatus::kFailed);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_NE(r.message.find("abandoned: claimed 2 times"), std::string::npos) << r.message;
}

// ---- points ------------------------------------------------------------------------------------

TEST(RunStore, PointsAreUpsertedByStep) {
  TempDir tmp;
  auto store = RunStore::open(tmp.file("s.db"));
  auto sweep = store.create_sweep("pilot", kSweepSpec);
  int64_t id = store.add_run(sweep.id, make_run(0));

  store.record_points(id, make_points(0, 10, 3.0));
  // A resumed run re-logs steps 5..9 from its checkpoint and goes on to 14.
  auto resumed = make_points(5, 10, 2.0);
  resumed.back().train_loss = NAN;  // a diverged last step
  store.record_points(id, resumed);

  auto pts = store.points(id);
  ASSERT_EQ(pts.size(), 15u);
  for (uint64_t s = 0; s < 15; ++s) {
    EXPECT_EQ(pts[s].step, s);
    EXPECT_EQ(pts[s].tokens, s * 2048);
    if (s < 14) {
      EXPECT_EQ(pts[s].train_loss, s < 5 ? 3.0 : 2.0) << s;
    }
    EXPECT_EQ(pts[s].eval_loss.has_value(), s % 10 == 0) << s;
  }
  EXPECT_TRUE(std::isnan(pts[14].train_loss));
  EXPECT_EQ(*pts[10].eval_loss, 2.1);
  EXPECT_DOUBLE_EQ(pts[7].elapsed_s, 0.07);

  scalinglab::train::MetricsRow row;
  row.step = 20;
  row.tokens = 40960;
  row.flops = 1e12;
  row.train_loss = 1.5;
  row.lr = 2e-4;
  row.elapsed_s = 3;
  Point p = to_point(row);
  store.record_points(id, std::span<const Point>(&p, 1));
  EXPECT_EQ(store.points(id).back().step, 20u);
  EXPECT_EQ(store.points(id).back().lr, 2e-4);
  EXPECT_FALSE(store.points(id).back().eval_loss);

  EXPECT_THROW(store.record_points(id + 1000, make_points(0, 1)), std::invalid_argument);
}

// A writer is killed while it logs batch after batch: the store holds whole batches only.
TEST(RunStore, KillMidBatchNeverLeavesHalfABatch) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  int64_t sweep_id = make_store(path, 1);
  constexpr uint64_t kBatch = 200;

  Pipe started;
  pid_t child = fork_child([&] {
    auto store = RunStore::open(path, {OpenMode::kReadWrite});
    auto r = store.claim_next(sweep_id, "writer");
    if (!r) return 1;
    for (uint64_t b = 0;; ++b) {
      store.record_points(r->id, make_points(b * kBatch, kBatch));
      if (b == 0) send(started.w(), r->id);
    }
  });
  started.close_write();
  int64_t run_id = 0;
  ASSERT_TRUE(receive(started.r(), &run_id));
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  EXPECT_EQ(wait_child(child), 128 + SIGKILL);

  auto store = RunStore::open(path, {OpenMode::kReadWrite});  // passes quick_check
  auto pts = store.points(run_id);
  ASSERT_GE(pts.size(), kBatch);
  EXPECT_EQ(pts.size() % kBatch, 0u) << pts.size() << " points: a batch was cut";
  for (size_t i = 0; i < pts.size(); ++i) ASSERT_EQ(pts[i].step, i);
}

// ---- readers beside a writer -------------------------------------------------------------------

// A writer holds the write lock mid-transaction (rows inserted, not committed). A reader still
// opens the store at once and sees the last committed state; a second writer waits for the lock
// and, past its busy timeout, fails with a clear error instead of hanging.
TEST(RunStore, ReaderOpensWhileAWriterHoldsTheLock) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  int64_t sweep_id = make_store(path, 1);
  int64_t run_id = RunStore::open(path).runs(sweep_id).at(0).id;

  Pipe locked, go;
  pid_t child = fork_child([&] {
    go.close_write();
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return 1;
    std::string sql = "BEGIN IMMEDIATE;";
    for (int s = 0; s < 50; ++s)
      sql += "INSERT INTO points VALUES (" + std::to_string(run_id) + ", " + std::to_string(s) + ", 0, 0, 3.0, NULL, 0.001, 0);";
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) return 2;
    send(locked.w(), 1);
    wait_for_close(go.r());
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return 3;
    sqlite3_close(db);
    return 0;
  });
  locked.close_write();
  go.close_read();
  int64_t signal = 0;
  ASSERT_TRUE(receive(locked.r(), &signal));

  // With a 200 ms busy timeout, a reader that needed the writer's lock would fail here.
  auto reader = RunStore::open(path, {OpenMode::kReadOnly, 200});
  EXPECT_EQ(reader.points(run_id).size(), 0u);  // uncommitted rows are invisible
  EXPECT_EQ(reader.runs(sweep_id).size(), 1u);

  auto writer = RunStore::open(path, {OpenMode::kReadWrite, 200});
  try {
    writer.record_points(run_id, make_points(100, 1));
    ADD_FAILURE() << "wrote while another process held the write lock";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("locked by another process"), std::string::npos) << e.what();
  }

  go.close_write();
  EXPECT_EQ(wait_child(child), 0);
  EXPECT_EQ(reader.points(run_id).size(), 50u);  // a new statement sees the commit
  writer.record_points(run_id, make_points(100, 1));
  EXPECT_EQ(reader.points(run_id).size(), 51u);
}

// Readers open and read the store over and over while a writer logs batches: every read is a
// whole number of batches, in step order, and never goes back.
TEST(RunStore, ReadersSeeWholeBatchesWhileAWriterWrites) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  int64_t sweep_id = make_store(path, 1);
  int64_t run_id = RunStore::open(path).runs(sweep_id).at(0).id;
  constexpr uint64_t kBatch = 20, kBatches = 100;

  pid_t child = fork_child([&] {
    auto store = RunStore::open(path, {OpenMode::kReadWrite});
    for (uint64_t b = 0; b < kBatches; ++b) {
      store.record_points(run_id, make_points(b * kBatch, kBatch));
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return 0;
  });

  size_t last = 0, reads = 0;
  bool child_done = false;
  while (!child_done) {
    child_done = ::waitpid(child, nullptr, WNOHANG) == child;  // read once more after it ends
    auto reader = RunStore::open(path, {OpenMode::kReadOnly});
    auto pts = reader.points(run_id);
    ++reads;
    ASSERT_EQ(pts.size() % kBatch, 0u) << "a reader saw part of a batch";
    ASSERT_GE(pts.size(), last);
    for (size_t i = 0; i < pts.size(); ++i) ASSERT_EQ(pts[i].step, i);
    last = pts.size();
  }
  EXPECT_EQ(last, kBatch * kBatches);
  EXPECT_GT(reads, 1u);
}

// ---- refusals ----------------------------------------------------------------------------------

TEST(RunStore, RefusesATextFile) {
  TempDir tmp;
  const auto path = tmp.file("notes.txt");
  std::ofstream(path) << "step,loss\n1,3.2\n";
  std::string msg = expect_refused(path);
  EXPECT_EQ(msg, path + ": not a scalinglab run store (not a SQLite database)");
  EXPECT_EQ(file_bytes(path), "step,loss\n1,3.2\n");  // untouched
  EXPECT_NE(expect_refused(tmp.path.string()).find("is a directory"), std::string::npos);
}

// A real store cut in half (a copy that stopped midway, a full disk) must not be read as a
// smaller, valid-looking store.
TEST(RunStore, RefusesATruncatedStore) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  {
    int64_t sweep_id = make_store(path, 4);
    auto store = RunStore::open(path);
    store.record_points(store.runs(sweep_id).at(0).id, make_points(0, 3000));
  }  // closed: the WAL is checkpointed into the file and removed
  ASSERT_FALSE(fs::exists(path + "-wal"));
  auto size = fs::file_size(path);
  ASSERT_GT(size, 16u * 4096u);
  const auto cut = tmp.file("cut.db");
  fs::copy_file(path, cut);
  fs::resize_file(cut, size / 2);

  std::string msg = expect_refused(cut);
  EXPECT_EQ(msg.rfind(cut + ": corrupt run store", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_EQ(expect_refused(cut, OpenMode::kReadOnly), msg);

  // Same size, damaged contents (pages overwritten in the middle): PRAGMA quick_check finds it.
  const auto damaged = tmp.file("damaged.db");
  fs::copy_file(path, damaged);
  {
    std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    std::string junk(3 * 4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  ASSERT_EQ(fs::file_size(damaged), size);
  msg = expect_refused(damaged);
  EXPECT_EQ(msg.rfind(damaged + ": corrupt run store", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(RunStore, RefusesAForeignSqliteDatabase) {
  TempDir tmp;
  const auto path = tmp.file("app.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ada');"
                         "CREATE TABLE runs(x);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const std::string before = file_bytes(path);

  std::string msg = expect_refused(path);
  EXPECT_EQ(msg, path + ": not a scalinglab run store (a SQLite database of another program, with tables runs, users)");
  EXPECT_EQ(file_bytes(path), before) << "the foreign database was modified (e.g. switched to WAL)";

  // Another program's database that sets its own application_id.
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA application_id = 1234", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  msg = expect_refused(path);
  EXPECT_EQ(msg, path + ": not a scalinglab run store (a SQLite database with application_id 0x4d2)");
}

TEST(RunStore, RefusesAStoreFromANewerVersion) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  make_store(path, 1);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  std::string msg = expect_refused(path, OpenMode::kReadOnly);
  EXPECT_EQ(msg, path + ": run store version 99 was written by a newer scalinglab (this one reads up to version 3)");
}

TEST(RunStore, ArtifactsAreReplacedWholeAndSurviveReopening) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  int64_t sweep_id = make_store(path, 1);
  {
    auto store = RunStore::open(path, {OpenMode::kReadWrite});
    EXPECT_FALSE(store.artifact(sweep_id, "validation"));
    store.put_artifact(sweep_id, "validation", {{"status", "running"}, {"predicted_loss", 1.5}});
    store.put_artifact(sweep_id, "validation", {{"status", "done"}, {"actual_loss", 1.52}});
    store.put_artifact(sweep_id, "other", {1, 2, 3});
  }
  auto reader = RunStore::open(path, {OpenMode::kReadOnly});
  auto v = reader.artifact(sweep_id, "validation");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, (nlohmann::json{{"status", "done"}, {"actual_loss", 1.52}}));  // the whole value, replaced
  EXPECT_EQ(*reader.artifact(sweep_id, "other"), (nlohmann::json{1, 2, 3}));
  EXPECT_FALSE(reader.artifact(sweep_id + 1, "validation"));
  EXPECT_THROW(reader.put_artifact(sweep_id, "x", 1), StoreError);  // read-only
}

TEST(RunStore, VersionOneStoreIsUpgradedOnTheFirstWrite) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  int64_t sweep_id = make_store(path, 2);
  // Make it look like a store written before artifacts (and evaluations) existed.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE artifacts; DROP TABLE evals; PRAGMA user_version = 1", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  {
    auto reader = RunStore::open(path, {OpenMode::kReadOnly});  // readers never write: no upgrade
    EXPECT_FALSE(reader.artifact(sweep_id, "validation"));
    EXPECT_EQ(reader.runs(sweep_id).size(), 2u);
  }
  {
    auto store = RunStore::open(path, {OpenMode::kReadWrite});
    store.put_artifact(sweep_id, "validation", {{"status", "done"}});
    EXPECT_EQ(store.runs(sweep_id).size(), 2u);  // nothing else changed
  }
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(q, 0), 3);
  sqlite3_finalize(q);
  sqlite3_close(db);
  // Both tables the later versions add are there and usable.
  auto store = RunStore::open(path, {OpenMode::kReadWrite});
  EXPECT_TRUE(store.artifact(sweep_id, "validation"));
  Evaluation e;
  e.step = 1;
  e.task = "add2";
  e.metric = "exact_match";
  e.value = 0.5;
  store.record_evals(store.runs(sweep_id)[0].id, std::span<const Evaluation>(&e, 1));
  EXPECT_EQ(store.count_evals(sweep_id), 1);
}

namespace {

Evaluation make_eval(uint64_t step, const std::string& task, const std::string& metric, double value) {
  Evaluation e;
  e.step = step;
  e.tokens = static_cast<double>(step) * 256;
  e.flops = 6 * 1e4 * e.tokens;
  e.progress = step / 8.0;
  e.task = task;
  e.metric = metric;
  e.value = value;
  e.stderr = value / 10;
  e.ci_lo = value - 0.2;
  e.ci_hi = value + 0.2;
  e.n = 16;
  e.higher_is_better = metric != "edit_distance";
  e.answer_len = 4;
  return e;
}

int64_t version_of(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_step(q), SQLITE_ROW);
  const int64_t v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return v;
}

}  // namespace

TEST(RunStore, EvaluationsAreUpsertedByRunStepTaskAndMetric) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  int64_t sweep_id = make_store(path, 2);
  auto store = RunStore::open(path, {OpenMode::kReadWrite});
  const auto runs = store.runs(sweep_id);
  const int64_t a = runs[0].id, b = runs[1].id;
  std::vector<Evaluation> first{make_eval(4, "add2", "exact_match", 0.25), make_eval(4, "add2", "edit_distance", 1.5),
                                make_eval(2, "mod97", "exact_match", 0.0)};
  store.record_evals(a, first);
  store.record_evals(b, std::vector<Evaluation>{make_eval(8, "add2", "exact_match", 0.75)});
  // Scoring step 4 of add2 again (a worker killed after recording it): replaced, not added.
  Evaluation again = make_eval(4, "add2", "exact_match", 0.5);
  again.value = NAN;  // stored as NULL, read back as NaN
  store.record_evals(a, std::span<const Evaluation>(&again, 1));

  auto ea = store.evals(a);
  ASSERT_EQ(ea.size(), 3u);  // by step, task, metric
  EXPECT_EQ(ea[0].step, 2u);
  EXPECT_EQ(ea[0].task, "mod97");
  EXPECT_EQ(ea[1].metric, "edit_distance");
  EXPECT_FALSE(ea[1].higher_is_better);
  EXPECT_EQ(ea[2].metric, "exact_match");
  EXPECT_TRUE(std::isnan(ea[2].value));
  EXPECT_EQ(ea[2].stderr, 0.05);  // every field of the replacement, not a mix of old and new
  // Every field round-trips.
  const Evaluation& e = ea[1];
  const Evaluation want = first[1];
  EXPECT_EQ(e.tokens, want.tokens);
  EXPECT_EQ(e.flops, want.flops);
  EXPECT_EQ(e.progress, want.progress);
  EXPECT_EQ(e.value, want.value);
  EXPECT_EQ(e.stderr, want.stderr);
  EXPECT_EQ(e.ci_lo, want.ci_lo);
  EXPECT_EQ(e.ci_hi, want.ci_hi);
  EXPECT_EQ(e.n, want.n);
  EXPECT_EQ(e.answer_len, want.answer_len);

  auto all = store.sweep_evals(sweep_id);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].first, a);
  EXPECT_EQ(all[3].first, b);
  EXPECT_EQ(all[3].second.value, 0.75);
  EXPECT_EQ(store.count_evals(sweep_id), 4);
  EXPECT_EQ(store.count_evals(sweep_id + 1), 0);

  EXPECT_THROW(store.record_evals(b + 100, first), std::invalid_argument);  // no such run
  Evaluation nameless = make_eval(1, "", "exact_match", 1);
  EXPECT_THROW(store.record_evals(a, std::span<const Evaluation>(&nameless, 1)), std::invalid_argument);
  EXPECT_EQ(store.count_evals(sweep_id), 4);  // a refused batch adds nothing
}

TEST(RunStore, KillMidEvaluationBatchNeverLeavesHalfABatch) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  int64_t sweep_id = make_store(path, 1);
  int64_t run_id = RunStore::open(path).runs(sweep_id)[0].id;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    auto store = RunStore::open(path, {OpenMode::kReadWrite});
    for (uint64_t step = 1;; ++step) {
      std::vector<Evaluation> batch;
      for (int m = 0; m < 50; ++m) batch.push_back(make_eval(step, "t", "m" + std::to_string(m), 1.0 * step));
      store.record_evals(run_id, batch);
      if (step == 3) (void)!write(fds[1], "x", 1);  // three whole batches are in: kill me now
    }
  }
  close(fds[1]);
  char c;
  ASSERT_EQ(read(fds[0], &c, 1), 1);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  close(fds[0]);
  auto store = RunStore::open(path, {OpenMode::kReadOnly});
  auto evals = store.evals(run_id);
  EXPECT_GE(evals.size(), 150u);
  EXPECT_EQ(evals.size() % 50, 0u);  // whole batches only
}

TEST(RunStore, VersionTwoStoreGainsTheEvaluationsTableOnTheFirstWrite) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  int64_t sweep_id = make_store(path, 2);
  RunStore::open(path).put_artifact(sweep_id, "validation", {{"status", "done"}});
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE evals; PRAGMA user_version = 2", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  {
    auto reader = RunStore::open(path, {OpenMode::kReadOnly});  // readers never write: no upgrade
    EXPECT_TRUE(reader.evals(reader.runs(sweep_id)[0].id).empty());
    EXPECT_TRUE(reader.sweep_evals(sweep_id).empty());
    EXPECT_EQ(reader.count_evals(sweep_id), 0);
  }
  EXPECT_EQ(version_of(path), 2);
  {
    auto store = RunStore::open(path, {OpenMode::kReadWrite});
    EXPECT_EQ(version_of(path), 3);
    EXPECT_EQ(*store.artifact(sweep_id, "validation"), (nlohmann::json{{"status", "done"}}));  // kept
    EXPECT_EQ(store.runs(sweep_id).size(), 2u);
    store.record_evals(store.runs(sweep_id)[1].id, std::vector<Evaluation>{make_eval(3, "copy8", "exact_match", 1)});
  }
  auto reader = RunStore::open(path, {OpenMode::kReadOnly});
  ASSERT_EQ(reader.sweep_evals(sweep_id).size(), 1u);
  EXPECT_EQ(reader.sweep_evals(sweep_id)[0].second.task, "copy8");
}

TEST(RunStore, SelectSweepNamesTheOnlyOneOrRefuses) {
  TempDir tmp;
  const auto path = tmp.file("s.db");
  {
    auto store = RunStore::open(path);
    try {
      select_sweep(store, "");
      ADD_FAILURE() << "an empty store has no sweep to select";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()), "sweep: " + path + " holds no sweep yet");
    }
  }
  make_store(path, 1);
  auto store = RunStore::open(path);
  EXPECT_EQ(select_sweep(store, "").name, "pilot");
  EXPECT_EQ(select_sweep(store, "pilot").name, "pilot");
  store.create_sweep("second", kSweepSpec);
  try {
    select_sweep(store, "");
    ADD_FAILURE() << "two sweeps are ambiguous";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "sweep: " + path + " holds 2 sweeps (pilot, second); name one");
  }
  EXPECT_THROW(select_sweep(store, "third"), std::invalid_argument);
}
