// Keeps the node's NodeResourceTopology object equal to what topod's state says, from a
// background thread; the NRI path only calls markChanged(), which never blocks on the network.
//
// When it writes:
//   - after markChanged(): at the next moment allowed by `min_interval` (at most one write per
//     interval; changes in between coalesce into that write, built from the state at write time,
//     so only the latest desired object ever exists: memory stays bounded when the server is down);
//   - every `resync_interval`: re-reads the object (a deletion or a change by someone else is
//     then repaired) and rewrites it when it differs;
//   - after a change by someone else, seen by watching the object (watchWith(): list+watch with
//     fieldSelector metadata.name=<node>): an edit (a resourceVersion other than the one last
//     written or read) or a deletion is corrected at the next moment allowed by `min_interval`,
//     starting from the object the watch delivered (no extra GET); our own writes' echoes are
//     ignored. Without a watch, such changes wait for the resync (or the next change);
//   - after a failure: retries with jittered exponential backoff (initial_retry .. max_retry).
// How: GET (404 -> POST create), PUT with the resourceVersion last seen; 409 (someone else wrote
// it) -> re-GET and PUT again; 404 on PUT (deleted) -> create. Nothing is written when the
// server already holds the desired content.
//
// Thread-safety: markChanged() and stats() from any thread; runOnce() only from one thread at a
// time (the worker, or a test driving it with a fake clock).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/result.h"
#include "kube/client.h"
#include "kube/object_watch.h"

namespace topod::kube {

struct PublisherOptions {
  std::string node_name;
  Clock::Duration min_interval = std::chrono::seconds(1);
  Clock::Duration resync_interval = std::chrono::seconds(60);
  RetryOptions retry{.max_attempts = 0,
                     .initial_backoff = std::chrono::milliseconds(500),
                     .max_backoff = std::chrono::seconds(30),
                     .jitter = 0.2};
};

struct PublisherStats {
  uint64_t syncs = 0;            // runs that had something to do
  uint64_t writes = 0;           // successful POSTs and PUTs
  uint64_t creates = 0;          // of which POSTs
  uint64_t conflicts = 0;        // 409s on PUT (someone else wrote the object)
  uint64_t failures = 0;         // runs that ended in an error
  uint64_t foreign_changes = 0;  // edits and deletions by someone else, seen by the watch
  bool healthy = true;           // the last run succeeded
  std::optional<Clock::TimePoint> last_success;
  std::string last_error;
};

class NrtPublisher {
 public:
  // The desired object (metadata.name = the node), built from the current state when called.
  using DesiredFn = std::function<Result<nlohmann::json>()>;
  // What happened, for the agent's log: a failure (with when it retries) or a recovery. Called
  // from the worker thread.
  using Reporter = std::function<void(bool ok, const std::string& message)>;

  NrtPublisher(ObjectClient& client, PublisherOptions options, const Clock& clock, DesiredFn desired, Reporter report,
               uint64_t seed = 1);
  ~NrtPublisher();
  NrtPublisher(const NrtPublisher&) = delete;
  NrtPublisher& operator=(const NrtPublisher&) = delete;

  // Something the object shows changed. Cheap and non-blocking.
  void markChanged();

  // What the server now holds for the node's object (std::nullopt: it does not exist), as a
  // watch saw it. Only the latest observation is kept. Cheap and non-blocking; any thread.
  void observe(std::optional<nlohmann::json> current);

  // Watch the node's object through `source` from the first successful run of the worker
  // (start()) to stop(), feeding observe();
  // `options` gives the retry and watch timeouts (collection and selector are set here). Call
  // before start().
  void watchWith(ListWatcher& source, ObjectWatchOptions options = {}, ObjectWatch::Reporter report = {});
  // The watch's counters (zeros without a watch).
  ObjectWatchStats watchStats() const;

  // Does whatever is due at clock.now(); returns when it next wants to run (sooner if
  // markChanged() is called).
  Clock::TimePoint runOnce();

  // The worker thread: runOnce() whenever due or changed. stop() joins it; the destructor stops.
  void start();
  void stop();

  PublisherStats stats() const;

 private:
  Status sync(const nlohmann::json& desired, bool reread);
  // Takes the pending observation into known_; true when it was someone else's change.
  bool adoptObservation();

  ObjectClient& client_;
  PublisherOptions options_;
  const Clock& clock_;
  DesiredFn desired_;
  Reporter report_;
  Backoff backoff_;

  // Worker-only state.
  std::optional<nlohmann::json> known_;  // the object as last read or written
  std::optional<Clock::TimePoint> last_write_attempt_;
  Clock::TimePoint next_resync_{};
  std::optional<Clock::TimePoint> retry_at_;
  int failed_runs_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool changed_ = true;      // the object has never been published
  uint64_t change_seq_ = 0;  // markChanged() calls, to wake the worker once per call
  bool stopping_ = false;
  // The latest observe() not yet taken: outer empty = none; inner empty = deleted.
  std::optional<std::optional<nlohmann::json>> observed_;
  PublisherStats stats_;
  std::thread worker_;
  std::unique_ptr<ObjectWatch> watch_;
};

}  // namespace topod::kube
