// Checkpoint: the agent's State on disk (STYLE.md practice 10), as two kinds of file in the state
// directory:
//   - state.json: a full document, the engine's versioned, checksummed JSON
//     (state/state_json.h), replaced atomically (StateFile: temp file, fsync, rename, fsync of
//     the directory);
//   - journal.NNNNNNNNNN: the changes since, one record per change (state_journal.h).
// record() appends to the journal before the agent replies to the runtime, which costs
// microseconds instead of rewriting the whole document. A worker thread folds closed journal
// segments into state.json (compaction), reading them back from disk, so the NRI path never
// waits for it and never copies the State. In JournalSync::Background mode the same worker
// fdatasyncs the journal at most kBackgroundSyncInterval after a change.
//
// Compaction order makes every crash point safe: the new state.json is in place (renamed and
// the directory synced) before any segment it contains is deleted, and replaying records that
// state.json already contains changes nothing (records carry whole values). So the files always
// hold "some state.json plus every change after it".
//
// A checkpoint that cannot be trusted (unreadable JSON, wrong checksum or hash, unknown version,
// records missing, or a State that does not fit the current topology and options) is moved aside
// whole, never used: the runtime's Synchronize rebuilds the truth.
//
// Thread-safety: record() and compact() may be called from any thread; load() once, first.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/result.h"
#include "policies/policy.h"
#include "policies/policy_options.h"
#include "policies/state.h"
#include "state/state_file.h"
#include "state/state_journal.h"
#include "topology/model.h"

namespace topod::agent {

struct LoadedState {
  policies::State state;
  // One line for the log: what was restored, or why nothing was and where the bad files went.
  std::string report;
  bool moved_aside = false;
  // Moved aside because it did not fit this machine and configuration (fewer CPUs, more
  // reserved ones, another policy), not because it was damaged: allocations it held may not be
  // re-made at Synchronize.
  bool misfit = false;
  // Something was lost or skipped: the report is logged as a warning.
  bool warning = false;
};

// What observe_journal times.
enum class JournalOperation {
  Append,  // record(): the write, plus its fdatasync in EveryChange mode (the NRI path waits for it)
  Sync,    // the worker's fdatasync of what Background mode left unsynced
};

struct CheckpointOptions {
  JournalSync sync = JournalSync::EveryChange;
  // Records per journal segment: how much a compaction folds at once. At ~600 bytes a record the
  // default keeps the journal under ~1 MiB between compactions.
  uint64_t records_per_segment = 1024;
  // Where the worker reports what it could not do in the background (an fdatasync or a
  // compaction that failed; nothing is lost, it retries). The state module does not log: the
  // agent passes its logger. Unset: the problems are dropped (tests).
  std::function<void(const Error&, const std::string& consequence)> report_background_error;
  // Times the background fdatasync; nullptr: the real clock. Must outlive the Checkpoint.
  const Clock* clock = nullptr;
  // Told how long each journal operation took, successful or not (the agent feeds its metrics;
  // the state module does not know them). Called on the recording thread or the worker, outside
  // every lock of the Checkpoint; must be thread-safe and fast. Unset: nothing is timed.
  std::function<void(JournalOperation, Clock::Duration)> observe_journal;
};

class Checkpoint {
 public:
  static constexpr const char* kFileName = "state.json";
  // Background mode: how long a change may stay in the page cache before fdatasync.
  static constexpr std::chrono::milliseconds kBackgroundSyncInterval{1000};

  explicit Checkpoint(std::string state_dir, CheckpointOptions options = {});
  // close() if the owner did not; its error then goes to report_background_error.
  ~Checkpoint();
  Checkpoint(const Checkpoint&) = delete;
  Checkpoint& operator=(const Checkpoint&) = delete;

  // Restores state.json plus the journal, validates the result against the topology and options,
  // opens the journal for appends and starts the worker. Errors for a directory that cannot be
  // trusted (checkStateDirectory: another owner, writable by others) or files in it that are not
  // ours (another owner, a symlink, a FIFO, larger than kMaxStateFileBytes), and for I/O failures
  // that make it unusable; content that does not verify is moved aside instead.
  Result<LoadedState> load(const topology::Topology& topology, const policies::PolicyOptions& options,
                           const policies::Policy& policy);

  // Persists the changes (in order, as one write, numbered by the journal) before the caller
  // acknowledges them. On error nothing of them is persisted. Before load() or after close():
  // FailedPrecondition.
  Status record(const std::vector<policies::StateChange>& changes);

  // Folds every closed journal segment into state.json now (the worker does this on its own).
  Status compact();
  // Stops the worker, then folds the whole journal into state.json (a clean shutdown leaves one
  // file). An error leaves the journal for the next start to replay; nothing is lost either way.
  // After close(), record() fails with FailedPrecondition; a second close() does nothing.
  Status close();
  // Completed compactions (tests and the bench watch the worker with it).
  uint64_t compactions() const;
  // Waits until compactions() >= count; false after `timeout` of real time (a bound for tests
  // and the bench, which wait for the worker, not for the clock).
  bool awaitCompactions(uint64_t count, std::chrono::milliseconds timeout) const;
  // Whether recorded changes still wait for their fdatasync (Background mode; never true after
  // record() returns in EveryChange mode).
  bool syncPending() const;
  // Why changes cannot be recorded (not loaded, closed, or a journal that refuses writes), or
  // empty while they can: what the health endpoint reports.
  std::string problem() const;

  const std::string& path() const { return snapshot_.path(); }
  const std::string& dir() const { return dir_; }

  // The State the files of `state_dir` hold (state.json plus journal, a torn last record left
  // out), without validating it against a machine: for tests, benchmarks and inspection.
  static Result<policies::State> readOnDisk(const std::string& state_dir);

 private:
  Result<LoadedState> moveAside(const std::string& why);
  // Every state file is owned by us and writable by nobody else (common/file_io.h).
  Status checkStateFiles() const;
  void workerLoop();

  const std::string dir_;
  const CheckpointOptions options_;
  const Clock& clock_;
  StateFile snapshot_;
  std::unique_ptr<StateJournal> journal_;

  std::mutex compaction_mutex_;  // one compaction at a time (worker or compact())

  mutable std::mutex worker_mutex_;
  std::condition_variable worker_cv_;
  mutable std::condition_variable compacted_cv_;
  bool compaction_wanted_ = false;
  std::size_t closed_seen_ = 0;  // closed segments the worker was last woken for
  bool stop_ = false;
  bool closed_ = false;
  uint64_t compactions_ = 0;
  std::thread worker_;
};

}  // namespace topod::agent
