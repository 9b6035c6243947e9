#include <chrono>
#include <thread>
#include "scalinglab/store/run_store.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "scalinglab/io/input_error.h"

namespace scalinglab::store {

namespace {

// PRAGMA application_id marks the file as ours ("SLRS": ScalingLab Run Store) and user_version is
// the schema version; a file with another id is another program's database and is refused.
constexpr int32_t kApplicationId = 0x534C5253;
constexpr int kSchemaVersion = 3;  // 2 added `artifacts`, 3 `evals`

constexpr const char* kSchema = R"sql(
CREATE TABLE sweeps(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,                 -- JSON
  created TEXT NOT NULL);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
  key TEXT NOT NULL,                  -- unique, stable name within the sweep
  spec TEXT NOT NULL,                 -- JSON
  seed INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued'
    CHECK(status IN ('queued', 'running', 'done', 'diverged', 'failed')),
  params_total INTEGER NOT NULL,      -- N, both conventions
  params_non_embedding INTEGER NOT NULL,
  tokens REAL NOT NULL,               -- D
  flops REAL NOT NULL,                -- C
  train_loss REAL,                    -- final, NULL until finished (or not finite)
  eval_loss REAL,
  message TEXT NOT NULL DEFAULT '',
  run_dir TEXT NOT NULL DEFAULT '',
  checkpoint TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  created TEXT NOT NULL,
  claimed TEXT,
  finished TEXT,
  worker TEXT NOT NULL DEFAULT '',    -- the last claimant: label, host, pid, and the
  host TEXT NOT NULL DEFAULT '',      -- process identity "boot_id pid_namespace start_time"
  pid INTEGER NOT NULL DEFAULT 0,     -- that tells a live claimant from a reused pid
  proc_id TEXT NOT NULL DEFAULT '',
  UNIQUE(sweep_id, key));
CREATE INDEX runs_by_status ON runs(sweep_id, status, id);
CREATE TABLE points(
  run_id INTEGER NOT NULL REFERENCES runs(id),
  step INTEGER NOT NULL,
  tokens INTEGER NOT NULL,
  flops REAL NOT NULL,
  train_loss REAL,                    -- NULL when not finite (a diverged step)
  eval_loss REAL,                     -- NULL on steps without an evaluation
  lr REAL NOT NULL,
  elapsed_s REAL NOT NULL,
  PRIMARY KEY(run_id, step)) WITHOUT ROWID;
)sql"
    // Version 2. Results derived from a sweep's runs that must outlive the process that made
    // them (the held-out validation: its prediction is stored before the run is trained).
    R"sql(
CREATE TABLE IF NOT EXISTS artifacts(
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
  name TEXT NOT NULL,
  value TEXT NOT NULL,                -- JSON
  updated TEXT NOT NULL,
  PRIMARY KEY(sweep_id, name));
)sql"
    // Version 3. The emergence sweep's scores: one row per run × checkpoint × task × metric.
    R"sql(
CREATE TABLE IF NOT EXISTS evals(
  run_id INTEGER NOT NULL REFERENCES runs(id),
  step INTEGER NOT NULL,
  tokens REAL NOT NULL,
  flops REAL NOT NULL,                -- C = 6ND at the checkpoint
  progress REAL NOT NULL,             -- nominal fraction of the run
  task TEXT NOT NULL,
  metric TEXT NOT NULL,
  value REAL,                         -- NULL when not finite
  stderr REAL,
  ci_lo REAL,
  ci_hi REAL,
  n INTEGER NOT NULL,
  higher_is_better INTEGER NOT NULL,
  answer_len INTEGER NOT NULL,
  PRIMARY KEY(run_id, step, task, metric)) WITHOUT ROWID;
)sql";

// The tables added since version 1, for the in-place upgrade (the same statements as above).
constexpr const char* kEvalsTable = "CREATE TABLE IF NOT EXISTS evals(\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL, tokens REAL NOT NULL, flops REAL NOT NULL,\n"
    "  progress REAL NOT NULL, task TEXT NOT NULL, metric TEXT NOT NULL, value REAL, stderr REAL, ci_lo REAL,\n"
    "  ci_hi REAL, n INTEGER NOT NULL, higher_is_better INTEGER NOT NULL, answer_len INTEGER NOT NULL,\n"
    "  PRIMARY KEY(run_id, step, task, metric)) WITHOUT ROWID";

constexpr const char* kArtifactsTable = "CREATE TABLE IF NOT EXISTS artifacts(\n"
    "  sweep_id INTEGER NOT NULL REFERENCES sweeps(id), name TEXT NOT NULL, value TEXT NOT NULL,\n"
    "  updated TEXT NOT NULL, PRIMARY KEY(sweep_id, name))";

constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

constexpr const char* kRunColumns =
    "id, sweep_id, key, spec, seed, status, params_total, params_non_embedding, tokens, flops, "
    "train_loss, eval_loss, message, run_dir, checkpoint, attempts, worker, host, pid, "
    "ifnull(created, ''), ifnull(claimed, ''), ifnull(finished, ''), proc_id";

std::string sqlite_message(sqlite3* db, int rc) {
  const char* m = db ? sqlite3_errmsg(db) : nullptr;
  return m ? m : sqlite3_errstr(rc);
}

[[noreturn]] void fail(sqlite3* db, const std::string& path, int rc, const std::string& what) {
  std::ostringstream s;
  s << path << ": " << what << ": ";
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
    s << "the store stayed locked by another process past the busy timeout";
  else
    s << sqlite_message(db, rc);
  throw StoreError(s.str());
}

// A prepared statement with typed binds and reads. NaN binds as NULL and NULL reads as NaN.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& path, const std::string& sql) : db_(db), path_(path) {
    int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr);
    if (rc != SQLITE_OK) fail(db, path, rc, "preparing a query");
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& i64(int i, int64_t v) { return check(sqlite3_bind_int64(s_, i, v)); }
  Stmt& f64(int i, double v) {
    return check(std::isfinite(v) ? sqlite3_bind_double(s_, i, v) : sqlite3_bind_null(s_, i));
  }
  Stmt& opt(int i, const std::optional<double>& v) { return v ? f64(i, *v) : null(i); }
  Stmt& text(int i, const std::string& v) {
    return check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Stmt& null(int i) { return check(sqlite3_bind_null(s_, i)); }

  // True when a row is available.
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, path_, rc, "query failed");
  }
  void run() {
    while (step()) {
    }
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

  bool is_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  int64_t col_i64(int c) const { return sqlite3_column_int64(s_, c); }
  double col_f64(int c) const { return is_null(c) ? NAN : sqlite3_column_double(s_, c); }
  std::optional<double> col_opt(int c) const {
    if (is_null(c)) return std::nullopt;
    return sqlite3_column_double(s_, c);
  }
  std::string col_text(int c) const {
    const auto* p = sqlite3_column_text(s_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, c)))
             : std::string();
  }

 private:
  Stmt& check(int rc) {
    if (rc != SQLITE_OK) fail(db_, path_, rc, "binding a query parameter");
    return *this;
  }
  sqlite3* db_;
  const std::string& path_;
  sqlite3_stmt* s_ = nullptr;
};

void exec(sqlite3* db, const std::string& path, const char* sql, const char* what) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  sqlite3_free(err);  // the connection's errmsg says the same
  if (rc != SQLITE_OK) fail(db, path, rc, what);
}

// One write transaction. BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy
// timeout), so a transaction never has to upgrade a read lock halfway — the upgrade that fails with
// SQLITE_BUSY in WAL mode when another writer committed in between, which the busy handler cannot
// wait out. Rolls back unless committed (an exception mid-transaction leaves the store as it was).
class WriteTx {
 public:
  WriteTx(sqlite3* db, const std::string& path) : db_(db), path_(path) {
    exec(db, path, "BEGIN IMMEDIATE", "starting a write transaction");
  }
  ~WriteTx() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec(db_, path_, "COMMIT", "committing");
    done_ = true;
  }

 private:
  sqlite3* db_;
  const std::string& path_;
  bool done_ = false;
};

nlohmann::json parse_json(const std::string& text, const std::string& path, const char* what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw StoreError(path + ": " + what + " is not valid JSON: " + e.what());
  }
}

RunRecord read_run(const Stmt& s, const std::string& path) {
  RunRecord r;
  r.id = s.col_i64(0);
  r.sweep_id = s.col_i64(1);
  r.key = s.col_text(2);
  r.spec = parse_json(s.col_text(3), path, "a run spec");
  r.seed = static_cast<uint64_t>(s.col_i64(4));
  r.status = status_from_string(s.col_text(5));
  r.params_total = s.col_i64(6);
  r.params_non_embedding = s.col_i64(7);
  r.tokens = s.col_f64(8);
  r.flops = s.col_f64(9);
  r.train_loss = s.col_opt(10);
  r.eval_loss = s.col_opt(11);
  r.message = s.col_text(12);
  r.run_dir = s.col_text(13);
  r.checkpoint = s.col_text(14);
  r.attempts = s.col_i64(15);
  r.worker = s.col_text(16);
  r.host = s.col_text(17);
  r.pid = s.col_i64(18);
  r.created = s.col_text(19);
  r.claimed = s.col_text(20);
  r.finished = s.col_text(21);
  return r;
}

SweepRecord read_sweep(const Stmt& s, const std::string& path) {
  return {s.col_i64(0), s.col_text(1), parse_json(s.col_text(2), path, "a sweep spec"), s.col_text(3)};
}

// ---- the claimant's process identity --------------------------------------------------------

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

std::string read_line(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

struct ProcStat {
  char state = '?';
  std::string start_time;  // clock ticks after boot (field 22 of /proc/PID/stat)
};

std::optional<ProcStat> proc_stat(int64_t pid) {
  std::string line = read_line("/proc/" + std::to_string(pid) + "/stat");
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  ProcStat st;
  rest >> st.state;
  std::string field;
  for (int i = 4; i <= 22 && rest >> field; ++i) {
    if (i == 22) st.start_time = field;
  }
  if (st.start_time.empty()) return std::nullopt;
  return st;
}

std::string pid_namespace(const std::string& pid) {
  char buf[128] = {};
  ssize_t n = ::readlink(("/proc/" + pid + "/ns/pid").c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("-");
}

// "boot_id pid_namespace start_time": the same pid after a reboot, in another container sharing
// the hostname, or reused by a new process reads differently.
std::string proc_identity(int64_t pid, const std::string& start_time) {
  std::string boot = read_line("/proc/sys/kernel/random/boot_id");
  return (boot.empty() ? "-" : boot) + " " + pid_namespace(pid == ::getpid() ? "self" : std::to_string(pid)) + " " +
         start_time;
}

std::string self_identity() {
  auto st = proc_stat(::getpid());
  return proc_identity(::getpid(), st ? st->start_time : "-");
}

// Whether the process that claimed a run (on this host) has died. Errs towards "alive": wrongly
// reclaiming a live worker's run would train it twice at once, while a wrongly kept claim only
// leaves one run for a person to look at.
bool claimant_dead(int64_t pid, const std::string& recorded_identity) {
  if (pid <= 0) return true;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return true;
  auto st = proc_stat(pid);
  if (!st) return false;  // no /proc (or the process just died): trust kill(2)
  // A killed child that its parent has not reaped yet is a zombie: kill(pid, 0) still succeeds.
  if (st->state == 'Z' || st->state == 'X') return true;
  if (recorded_identity.empty()) return false;
  std::istringstream rec(recorded_identity);
  std::string boot, ns, start;
  rec >> boot >> ns >> start;
  std::istringstream now(proc_identity(pid, st->start_time));
  std::string boot_now, ns_now, start_now;
  now >> boot_now >> ns_now >> start_now;
  if (boot != boot_now) return true;  // the host rebooted since the claim: every claimant is gone
  if (ns != ns_now) return false;     // another pid namespace: this pid says nothing, keep the claim
  return start != start_now;          // the pid now belongs to a newer process
}

// ---- opening -----------------------------------------------------------------------------------

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw io::InputError(path, 0, "", why);
}

// Maps SQLite's verdict on a file that is not a healthy database to a one-line refusal.
[[noreturn]] void refuse_sqlite(sqlite3* db, const std::string& path, int rc) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      refuse(path, "not a scalinglab run store (not a SQLite database)");
    case SQLITE_CORRUPT:
      refuse(path, "corrupt run store (truncated or damaged: " + sqlite_message(db, rc) + ")");
    case SQLITE_CANTOPEN:
      refuse(path, "cannot open the run store: " + sqlite_message(db, rc));
    default:
      fail(db, path, rc, "opening the run store");
  }
}

std::optional<int64_t> try_pragma_int(sqlite3* db, const std::string& path, const char* sql, int* rc_out) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(s);
  std::optional<int64_t> v;
  if (rc == SQLITE_ROW) {
    v = sqlite3_column_int64(s, 0);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(s);
  *rc_out = rc;
  return v;
}

// Any SQLite error while checking the file is the file's fault (not a database, corrupt).
int64_t pragma_int(sqlite3* db, const std::string& path, const char* sql) {
  int rc = SQLITE_OK;
  auto v = try_pragma_int(db, path, sql, &rc);
  if (rc != SQLITE_OK) refuse_sqlite(db, path, rc);
  return v.value_or(0);
}

std::vector<std::string> table_names(sqlite3* db, const std::string& path) {
  std::vector<std::string> names;
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name", -1, &s, nullptr);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
      names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE && rc != SQLITE_OK) refuse_sqlite(db, path, rc);
  return names;
}

void quick_check(sqlite3* db, const std::string& path) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &s, nullptr);
  std::string verdict;
  if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    const auto* t = sqlite3_column_text(s, 0);
    verdict = t ? reinterpret_cast<const char*>(t) : "";
    rc = SQLITE_OK;
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_OK) refuse_sqlite(db, path, rc);
  if (verdict != "ok") {
    for (char& c : verdict)
      if (c == '\n') c = ' ';
    refuse(path, "corrupt run store (quick_check: " + verdict + ")");
  }
}

// The 16-byte header of every SQLite 3 database file. Checked before SQLite opens the file so a
// text file or a checkpoint given by mistake gets a plain answer.
bool has_sqlite_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[16] = {};
  in.read(head, sizeof head);
  return in.gcount() == 16 && std::memcmp(head, "SQLite format 3", 16) == 0;
}

}  // namespace

std::string_view to_string(RunStatus s) {
  switch (s) {
    case RunStatus::kQueued: return "queued";
    case RunStatus::kRunning: return "running";
    case RunStatus::kDone: return "done";
    case RunStatus::kDiverged: return "diverged";
    case RunStatus::kFailed: return "failed";
  }
  return "?";
}

RunStatus status_from_string(std::string_view s) {
  for (auto st : {RunStatus::kQueued, RunStatus::kRunning, RunStatus::kDone, RunStatus::kDiverged, RunStatus::kFailed})
    if (to_string(st) == s) return st;
  throw std::invalid_argument("unknown run status '" + std::string(s) +
                              "' (expected queued, running, done, diverged or failed)");
}

Point to_point(const train::MetricsRow& row) {
  Point p;
  p.step = row.step;
  p.tokens = row.tokens;
  p.flops = row.flops;
  p.train_loss = row.train_loss;
  p.eval_loss = row.eval_loss;
  p.lr = row.lr;
  p.elapsed_s = row.elapsed_s;
  return p;
}

RunStore RunStore::open(const std::string& path, const StoreOptions& options) {
  if (path.empty()) refuse(path, "no run store path given");
  struct stat st {};
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) refuse(path, "is a directory, not a run store file");
  if (!exists && options.mode != OpenMode::kCreate) refuse(path, "no such run store");
  // SQLite treats an empty file as an empty database; anything else must carry the header.
  if (exists && st.st_size > 0 && !has_sqlite_header(path))
    refuse(path, "not a scalinglab run store (not a SQLite database)");

  const bool read_only = options.mode == OpenMode::kReadOnly;
  int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_EXRESCODE;
  if (options.mode == OpenMode::kCreate) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  RunStore store(path, raw);  // owns (and closes) the handle from here on, even on failure
  if (rc != SQLITE_OK) refuse_sqlite(raw, path, rc);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);

  // Is this our file? The first read also makes SQLite validate page 1 and the file size against
  // the header (a truncated file fails here with SQLITE_CORRUPT). The reads share one snapshot
  // (a read transaction): otherwise a store that another process creates between two of them
  // would look like "no application id, but tables": a foreign database.
  exec(raw, path, "BEGIN", "starting a read transaction");
  int64_t app_id = pragma_int(raw, path, "PRAGMA application_id");
  int64_t version = pragma_int(raw, path, "PRAGMA user_version");
  bool fresh = false;
  if (app_id == 0 && version == 0) {
    auto tables = table_names(raw, path);
    if (!tables.empty()) {
      std::string list;
      for (size_t i = 0; i < tables.size() && i < 5; ++i) list += (i ? ", " : "") + tables[i];
      if (tables.size() > 5) list += ", ...";
      refuse(path, "not a scalinglab run store (a SQLite database of another program, with tables " + list + ")");
    }
    if (read_only) refuse(path, "empty database, not (yet) a scalinglab run store");
    fresh = true;
  } else if (app_id != kApplicationId) {
    std::ostringstream s;
    s << "not a scalinglab run store (a SQLite database with application_id 0x" << std::hex
      << static_cast<uint32_t>(app_id) << ")";
    refuse(path, s.str());
  } else if (version > kSchemaVersion) {
    refuse(path, "run store version " + std::to_string(version) + " was written by a newer scalinglab (this one reads up to version " +
                     std::to_string(kSchemaVersion) + ")");
  } else if (version < 1) {
    refuse(path, "corrupt run store (application id set but no schema version)");
  }
  if (!fresh) quick_check(raw, path);
  exec(raw, path, "COMMIT", "ending a read transaction");

  if (!read_only) {
    // WAL: readers see the last committed state without blocking the writer, and a process killed
    // mid-transaction leaves a WAL tail that the next opener ignores (not a half-written table).
    // The mode is stored in the file; setting it on a WAL store is a no-op.
    // Switching a new file to WAL takes an exclusive lock, and SQLite answers SQLITE_BUSY at once
    // (without the busy handler, which could deadlock there) while another process creating the
    // same store holds a lock: retry until the busy timeout.
    std::string mode;
    for (const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.busy_timeout_ms);;) {
      try {
        Stmt wal(raw, path, "PRAGMA journal_mode = WAL");
        mode = wal.step() ? wal.col_text(0) : "";
        break;
      } catch (const StoreError&) {
        const int code = sqlite3_extended_errcode(raw) & 0xff;  // kept by the statement's finalize
        if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || std::chrono::steady_clock::now() > deadline) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    if (mode != "wal")
      throw StoreError(path + ": cannot put the run store in WAL mode (journal mode stays '" + mode +
                       "'; WAL needs a local filesystem with shared memory)");
  }
  // synchronous=FULL: in WAL mode NORMAL already survives any process crash (kill -9), but a power
  // loss or kernel crash could undo the last commits — a run marked done would be trained again
  // and a claim could be forgotten. FULL fsyncs the WAL at each commit; the store commits a few
  // times per run and per logged batch, so the fsync costs nothing next to training.
  // foreign_keys: points and runs must belong to existing runs and sweeps.
  exec(raw, path, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", "configuring the connection");

  if (fresh) {
    WriteTx tx(raw, path);
    // Another process may have created the store between our check and our write lock.
    if (pragma_int(raw, path, "PRAGMA application_id") != kApplicationId) {
      if (!table_names(raw, path).empty()) refuse(path, "not a scalinglab run store (tables appeared while creating it)");
      exec(raw, path, kSchema, "creating the run store schema");
      std::string ids = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                        "; PRAGMA user_version = " + std::to_string(kSchemaVersion);
      exec(raw, path, ids.c_str(), "marking the run store");
    }
    tx.commit();
  } else if (version < kSchemaVersion && !read_only) {
    // Upgrade in place: versions 2 and 3 only add tables, so an older store keeps every row. One
    // transaction: a process killed mid-upgrade leaves the old version, upgraded again next time.
    WriteTx tx(raw, path);
    if (pragma_int(raw, path, "PRAGMA user_version") < kSchemaVersion) {  // not upgraded meanwhile
      exec(raw, path, kArtifactsTable, "upgrading the run store to version 2");
      exec(raw, path, kEvalsTable, "upgrading the run store to version 3");
      exec(raw, path, ("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str(), "upgrading the run store");
    }
    tx.commit();
  }
  return store;
}

RunStore::RunStore(RunStore&& o) noexcept : path_(std::move(o.path_)), db_(o.db_) { o.db_ = nullptr; }

RunStore& RunStore::operator=(RunStore&& o) noexcept {
  if (this != &o) {
    if (db_) sqlite3_close_v2(db_);
    path_ = std::move(o.path_);
    db_ = o.db_;
    o.db_ = nullptr;
  }
  return *this;
}

RunStore::~RunStore() {
  if (db_) sqlite3_close_v2(db_);
}

// ---- sweeps ------------------------------------------------------------------------------------

SweepRecord RunStore::create_sweep(const std::string& name, const nlohmann::json& spec) {
  if (name.empty()) throw std::invalid_argument(path_ + ": a sweep needs a name");
  WriteTx tx(db_, path_);
  {
    Stmt q(db_, path_, "SELECT id, name, spec, created FROM sweeps WHERE name = ?");
    q.text(1, name);
    if (q.step()) {
      SweepRecord existing = read_sweep(q, path_);
      if (existing.spec != spec)
        throw std::invalid_argument(path_ + ": sweep '" + name +
                                    "' already exists with a different spec (pick a new sweep name, or use the stored spec)");
      return existing;  // rolls back the (empty) transaction
    }
  }
  Stmt ins(db_, path_, std::string("INSERT INTO sweeps(name, spec, created) VALUES (?, ?, ") + kNow + ")");
  ins.text(1, name).text(2, spec.dump());
  ins.run();
  tx.commit();
  return *sweep(name);
}

std::optional<SweepRecord> RunStore::sweep(const std::string& name) const {
  Stmt q(db_, path_, "SELECT id, name, spec, created FROM sweeps WHERE name = ?");
  q.text(1, name);
  if (!q.step()) return std::nullopt;
  return read_sweep(q, path_);
}

std::vector<SweepRecord> RunStore::sweeps() const {
  Stmt q(db_, path_, "SELECT id, name, spec, created FROM sweeps ORDER BY id");
  std::vector<SweepRecord> out;
  while (q.step()) out.push_back(read_sweep(q, path_));
  return out;
}

// ---- artifacts ---------------------------------------------------------------------------------

void RunStore::put_artifact(int64_t sweep_id, const std::string& name, const nlohmann::json& value) {
  WriteTx tx(db_, path_);
  Stmt q(db_, path_,
         std::string("INSERT INTO artifacts(sweep_id, name, value, updated) VALUES(?, ?, ?, ") + kNow +
             ") ON CONFLICT(sweep_id, name) DO UPDATE SET value = excluded.value, updated = excluded.updated");
  q.i64(1, sweep_id).text(2, name).text(3, value.dump());
  q.run();
  tx.commit();
}

std::optional<nlohmann::json> RunStore::artifact(int64_t sweep_id, const std::string& name) const {
  // A version-1 store opened read-only has no artifacts table (it is added on the first write).
  Stmt t(db_, path_, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'artifacts'");
  if (!t.step()) return std::nullopt;
  Stmt q(db_, path_, "SELECT value FROM artifacts WHERE sweep_id = ? AND name = ?");
  q.i64(1, sweep_id).text(2, name);
  if (!q.step()) return std::nullopt;
  try {
    return nlohmann::json::parse(q.col_text(0));
  } catch (const nlohmann::json::parse_error&) {
    throw io::InputError(path_, 0, "", "corrupt run store (artifact '" + name + "' is not JSON)");
  }
}

// ---- runs --------------------------------------------------------------------------------------

std::vector<int64_t> RunStore::add_runs(int64_t sweep_id, std::span<const NewRun> runs) {
  WriteTx tx(db_, path_);
  {
    Stmt q(db_, path_, "SELECT 1 FROM sweeps WHERE id = ?");
    q.i64(1, sweep_id);
    if (!q.step()) throw std::invalid_argument(path_ + ": no sweep with id " + std::to_string(sweep_id));
  }
  Stmt find(db_, path_, "SELECT id, spec FROM runs WHERE sweep_id = ? AND key = ?");
  Stmt ins(db_, path_,
           std::string("INSERT INTO runs(sweep_id, key, spec, seed, params_total, params_non_embedding, tokens, "
                       "flops, run_dir, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ") +
               kNow + ")");
  std::vector<int64_t> ids;
  ids.reserve(runs.size());
  for (const NewRun& r : runs) {
    if (r.key.empty()) throw std::invalid_argument(path_ + ": a run needs a key");
    find.reset();
    find.i64(1, sweep_id).text(2, r.key);
    if (find.step()) {
      if (parse_json(find.col_text(1), path_, "a run spec") != r.spec)
        throw std::invalid_argument(path_ + ": run '" + r.key + "' is already in the sweep with a different spec");
      ids.push_back(find.col_i64(0));
      continue;
    }
    ins.reset();
    ins.i64(1, sweep_id).text(2, r.key).text(3, r.spec.dump()).i64(4, static_cast<int64_t>(r.seed));
    ins.i64(5, r.params_total).i64(6, r.params_non_embedding).f64(7, r.tokens).f64(8, r.flops).text(9, r.run_dir);
    ins.run();
    ids.push_back(sqlite3_last_insert_rowid(db_));
  }
  tx.commit();
  return ids;
}

int64_t RunStore::add_run(int64_t sweep_id, const NewRun& run) {
  return add_runs(sweep_id, std::span<const NewRun>(&run, 1)).front();
}

std::optional<RunRecord> RunStore::claim_next(int64_t sweep_id, const std::string& worker, int max_attempts) {
  const std::string host = hostname();
  const int64_t pid = ::getpid();
  WriteTx tx(db_, path_);  // nobody else can claim between our look and our update

  std::optional<int64_t> pick;
  {
    Stmt q(db_, path_, "SELECT id FROM runs WHERE sweep_id = ? AND status = 'queued' ORDER BY id LIMIT 1");
    q.i64(1, sweep_id);
    if (q.step()) pick = q.col_i64(0);
  }
  // Running runs claimed on this host whose claimant has died. (Claims from other hosts cannot be
  // checked from here and are left alone.) There are at most as many as there are workers.
  struct Stale {
    int64_t id, attempts, pid;
    std::string worker;
  };
  std::vector<Stale> stale;
  {
    Stmt q(db_, path_,
           "SELECT id, attempts, pid, proc_id, worker FROM runs WHERE sweep_id = ? AND status = 'running' AND host = ? "
           "ORDER BY id");
    q.i64(1, sweep_id).text(2, host);
    while (q.step())
      if (claimant_dead(q.col_i64(2), q.col_text(3))) stale.push_back({q.col_i64(0), q.col_i64(1), q.col_i64(2), q.col_text(4)});
  }
  std::string reclaim_note;
  for (const Stale& s : stale) {
    std::string who = "worker '" + s.worker + "' (pid " + std::to_string(s.pid) + " on " + host + ")";
    if (s.attempts >= max_attempts) {
      Stmt up(db_, path_,
              std::string("UPDATE runs SET status = 'failed', message = ?, finished = ") + kNow + " WHERE id = ?");
      up.text(1, "abandoned: claimed " + std::to_string(s.attempts) + " times and each claimant died (last " + who + ")")
          .i64(2, s.id);
      up.run();
    } else if (!pick || s.id < *pick) {
      pick = s.id;
      reclaim_note = "reclaimed after " + who + " died";
    }
  }
  if (!pick) {
    tx.commit();  // keeps any abandoned runs marked failed
    return std::nullopt;
  }
  {
    Stmt up(db_, path_,
            std::string("UPDATE runs SET status = 'running', attempts = attempts + 1, worker = ?, host = ?, pid = ?, "
                        "proc_id = ?, claimed = ") +
                kNow + ", message = CASE WHEN ? = '' THEN message ELSE ? END WHERE id = ?");
    up.text(1, worker).text(2, host).i64(3, pid).text(4, self_identity());
    up.text(5, reclaim_note).text(6, reclaim_note).i64(7, *pick);
    up.run();
  }
  tx.commit();
  return run(*pick);
}

void RunStore::record_points(int64_t run_id, std::span<const Point> points) {
  WriteTx tx(db_, path_);
  {
    Stmt q(db_, path_, "SELECT 1 FROM runs WHERE id = ?");
    q.i64(1, run_id);
    if (!q.step()) throw std::invalid_argument(path_ + ": no run with id " + std::to_string(run_id));
  }
  Stmt up(db_, path_,
          "INSERT INTO points(run_id, step, tokens, flops, train_loss, eval_loss, lr, elapsed_s) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, step) DO UPDATE SET tokens = excluded.tokens, "
          "flops = excluded.flops, train_loss = excluded.train_loss, eval_loss = excluded.eval_loss, "
          "lr = excluded.lr, elapsed_s = excluded.elapsed_s");
  for (const Point& p : points) {
    up.reset();
    up.i64(1, run_id).i64(2, static_cast<int64_t>(p.step)).i64(3, static_cast<int64_t>(p.tokens)).f64(4, p.flops);
    up.f64(5, p.train_loss).opt(6, p.eval_loss).f64(7, p.lr).f64(8, p.elapsed_s);
    up.run();
  }
  tx.commit();
}

namespace {
// Why a state change of a run that is not running was refused.
[[noreturn]] void not_running(const RunStore& store, int64_t run_id, const std::string& action) {
  auto r = store.run(run_id);
  if (!r) throw std::invalid_argument(store.path() + ": no run with id " + std::to_string(run_id));
  throw std::invalid_argument(store.path() + ": cannot " + action + " run '" + r->key + "': it is " +
                              std::string(to_string(r->status)) + ", not running");
}
}  // namespace

void RunStore::finish_run(int64_t run_id, const RunResult& result) {
  if (!is_final(result.status))
    throw std::invalid_argument(path_ + ": a run finishes as done, diverged or failed, not " +
                                std::string(to_string(result.status)));
  WriteTx tx(db_, path_);
  Stmt up(db_, path_,
          std::string("UPDATE runs SET status = ?, message = ?, train_loss = ?, eval_loss = ?, "
                      "tokens = ifnull(?, tokens), flops = ifnull(?, flops), "
                      "checkpoint = CASE WHEN ? = '' THEN checkpoint ELSE ? END, finished = ") +
              kNow + " WHERE id = ? AND status = 'running'");
  up.text(1, std::string(to_string(result.status))).text(2, result.message);
  up.f64(3, result.train_loss).f64(4, result.eval_loss).opt(5, result.tokens).opt(6, result.flops);
  up.text(7, result.checkpoint).text(8, result.checkpoint).i64(9, run_id);
  up.run();
  if (sqlite3_changes(db_) == 0) not_running(*this, run_id, "finish");
  tx.commit();
}

void RunStore::requeue(int64_t run_id, const std::string& message) {
  WriteTx tx(db_, path_);
  Stmt up(db_, path_, "UPDATE runs SET status = 'queued', message = ? WHERE id = ? AND status = 'running'");
  up.text(1, message).i64(2, run_id);
  up.run();
  if (sqlite3_changes(db_) == 0) not_running(*this, run_id, "requeue");
  tx.commit();
}

void RunStore::set_checkpoint(int64_t run_id, const std::string& checkpoint) {
  WriteTx tx(db_, path_);
  Stmt up(db_, path_, "UPDATE runs SET checkpoint = ? WHERE id = ? AND status = 'running'");
  up.text(1, checkpoint).i64(2, run_id);
  up.run();
  if (sqlite3_changes(db_) == 0) not_running(*this, run_id, "set the checkpoint of");
  tx.commit();
}

// ---- readers -----------------------------------------------------------------------------------
// Each is one statement, hence one consistent snapshot of the store.

std::optional<RunRecord> RunStore::run(int64_t run_id) const {
  Stmt q(db_, path_, std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?");
  q.i64(1, run_id);
  if (!q.step()) return std::nullopt;
  return read_run(q, path_);
}

std::optional<RunRecord> RunStore::run(int64_t sweep_id, const std::string& key) const {
  Stmt q(db_, path_, std::string("SELECT ") + kRunColumns + " FROM runs WHERE sweep_id = ? AND key = ?");
  q.i64(1, sweep_id).text(2, key);
  if (!q.step()) return std::nullopt;
  return read_run(q, path_);
}

std::vector<RunRecord> RunStore::runs(int64_t sweep_id, std::optional<RunStatus> status) const {
  Stmt q(db_, path_,
         std::string("SELECT ") + kRunColumns + " FROM runs WHERE sweep_id = ? AND (? IS NULL OR status = ?) ORDER BY id");
  q.i64(1, sweep_id);
  if (status) {
    std::string s(to_string(*status));
    q.text(2, s).text(3, s);
  } else {
    q.null(2).null(3);
  }
  std::vector<RunRecord> out;
  while (q.step()) out.push_back(read_run(q, path_));
  return out;
}

std::vector<Point> RunStore::points(int64_t run_id) const {
  Stmt q(db_, path_,
         "SELECT step, tokens, flops, train_loss, eval_loss, lr, elapsed_s FROM points WHERE run_id = ? ORDER BY step");
  q.i64(1, run_id);
  std::vector<Point> out;
  while (q.step()) {
    Point p;
    p.step = static_cast<uint64_t>(q.col_i64(0));
    p.tokens = static_cast<uint64_t>(q.col_i64(1));
    p.flops = q.col_f64(2);
    p.train_loss = q.col_f64(3);
    p.eval_loss = q.col_opt(4);
    p.lr = q.col_f64(5);
    p.elapsed_s = q.col_f64(6);
    out.push_back(p);
  }
  return out;
}

// ---- evaluations -------------------------------------------------------------------------------

namespace {
// A version-1 or -2 store opened read-only has no evals table (it is added on the first write).
bool has_table(sqlite3* db, const std::string& path, const char* name) {
  Stmt t(db, path, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?");
  t.text(1, name);
  return t.step();
}

// The columns read_eval reads, in its order, each prefixed (e.g. "e." in a join with runs, which
// has tokens and flops too).
std::string eval_columns(const std::string& prefix = "") {
  std::string out;
  for (const char* c : {"step", "tokens", "flops", "progress", "task", "metric", "value", "stderr", "ci_lo", "ci_hi", "n",
                        "higher_is_better", "answer_len"})
    out += (out.empty() ? "" : ", ") + prefix + c;
  return out;
}

Evaluation read_eval(const Stmt& q, int c) {
  Evaluation e;
  e.step = static_cast<uint64_t>(q.col_i64(c + 0));
  e.tokens = q.col_f64(c + 1);
  e.flops = q.col_f64(c + 2);
  e.progress = q.col_f64(c + 3);
  e.task = q.col_text(c + 4);
  e.metric = q.col_text(c + 5);
  e.value = q.col_f64(c + 6);
  e.stderr = q.col_f64(c + 7);
  e.ci_lo = q.col_f64(c + 8);
  e.ci_hi = q.col_f64(c + 9);
  e.n = q.col_i64(c + 10);
  e.higher_is_better = q.col_i64(c + 11) != 0;
  e.answer_len = static_cast<int>(q.col_i64(c + 12));
  return e;
}
}  // namespace

void RunStore::record_evals(int64_t run_id, std::span<const Evaluation> evals) {
  for (const Evaluation& e : evals)
    if (e.task.empty() || e.metric.empty())
      throw std::invalid_argument(path_ + ": an evaluation needs a task and a metric name");
  WriteTx tx(db_, path_);
  {
    Stmt q(db_, path_, "SELECT 1 FROM runs WHERE id = ?");
    q.i64(1, run_id);
    if (!q.step()) throw std::invalid_argument(path_ + ": no run with id " + std::to_string(run_id));
  }
  Stmt up(db_, path_,
          "INSERT INTO evals(run_id, " + eval_columns() +
              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, step, task, metric) DO UPDATE SET "
              "tokens = excluded.tokens, flops = excluded.flops, progress = excluded.progress, value = excluded.value, "
              "stderr = excluded.stderr, ci_lo = excluded.ci_lo, ci_hi = excluded.ci_hi, n = excluded.n, "
              "higher_is_better = excluded.higher_is_better, answer_len = excluded.answer_len");
  for (const Evaluation& e : evals) {
    up.reset();
    up.i64(1, run_id).i64(2, static_cast<int64_t>(e.step)).f64(3, e.tokens).f64(4, e.flops).f64(5, e.progress);
    up.text(6, e.task).text(7, e.metric).f64(8, e.value).f64(9, e.stderr).f64(10, e.ci_lo).f64(11, e.ci_hi);
    up.i64(12, e.n).i64(13, e.higher_is_better ? 1 : 0).i64(14, e.answer_len);
    up.run();
  }
  tx.commit();
}

std::vector<Evaluation> RunStore::evals(int64_t run_id) const {
  std::vector<Evaluation> out;
  if (!has_table(db_, path_, "evals")) return out;
  Stmt q(db_, path_, "SELECT " + eval_columns() + " FROM evals WHERE run_id = ? ORDER BY step, task, metric");
  q.i64(1, run_id);
  while (q.step()) out.push_back(read_eval(q, 0));
  return out;
}

std::vector<std::pair<int64_t, Evaluation>> RunStore::sweep_evals(int64_t sweep_id) const {
  std::vector<std::pair<int64_t, Evaluation>> out;
  if (!has_table(db_, path_, "evals")) return out;
  Stmt q(db_, path_,
         "SELECT e.run_id, " + eval_columns("e.") +
             " FROM evals e JOIN runs r ON r.id = e.run_id WHERE r.sweep_id = ? ORDER BY e.run_id, e.step, e.task, e.metric");
  q.i64(1, sweep_id);
  while (q.step()) out.emplace_back(q.col_i64(0), read_eval(q, 1));
  return out;
}

int64_t RunStore::count_evals(int64_t sweep_id) const {
  if (!has_table(db_, path_, "evals")) return 0;
  Stmt q(db_, path_, "SELECT count(*) FROM evals e JOIN runs r ON r.id = e.run_id WHERE r.sweep_id = ?");
  q.i64(1, sweep_id);
  return q.step() ? q.col_i64(0) : 0;
}

StatusCounts RunStore::counts(int64_t sweep_id) const {
  Stmt q(db_, path_, "SELECT status, count(*) FROM runs WHERE sweep_id = ? GROUP BY status");
  q.i64(1, sweep_id);
  StatusCounts c;
  while (q.step()) {
    int64_t n = q.col_i64(1);
    switch (status_from_string(q.col_text(0))) {
      case RunStatus::kQueued: c.queued = n; break;
      case RunStatus::kRunning: c.running = n; break;
      case RunStatus::kDone: c.done = n; break;
      case RunStatus::kDiverged: c.diverged = n; break;
      case RunStatus::kFailed: c.failed = n; break;
    }
  }
  return c;
}

SweepRecord select_sweep(const RunStore& st, const std::string& name) {
  const std::string& path = st.path();
  if (name.empty()) {
    auto sweeps = st.sweeps();
    if (sweeps.size() != 1) {
      std::string names;
      for (const auto& s : sweeps) names += (names.empty() ? "" : ", ") + s.name;
      if (sweeps.empty()) throw std::invalid_argument("sweep: " + path + " holds no sweep yet");
      throw std::invalid_argument("sweep: " + path + " holds " + std::to_string(sweeps.size()) + " sweeps (" + names +
                                  "); name one");
    }
    return sweeps[0];
  }
  auto sw = st.sweep(name);
  if (!sw) throw std::invalid_argument("sweep: " + path + " holds no sweep named '" + name + "'");
  return *sw;
}

}  // namespace scalinglab::store
