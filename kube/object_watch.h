// ObjectWatch: keeps a caller informed of what the server holds for a (narrowed) collection,
// the way client-go's reflector does, on its own thread: list, then watch from the list's
// resourceVersion (bookmarks keep that version fresh), watch again when the server ends a watch,
// list again when the version is too old (410 Gone, OutOfRange), and after any other error wait
// with jittered exponential backoff and resume the watch from the last version seen.
//
// The caller gets `on_list(items)` after every (re)list, with the whole narrowed collection,
// then `on_event` for each ADDED/MODIFIED/DELETED event. Both run on the watch thread and must
// not block for long: a watch that is not read makes the server drop it.
//
// Thread-safety: start(), stop() and stats() from any thread; the callbacks only from the watch
// thread, one at a time. stop() ends a waiting watch within about a second (the transport polls
// the cancel flag) and joins the thread; the destructor stops.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "kube/client.h"

namespace topod::kube {

struct ObjectWatchOptions {
  std::string collection;  // "/apis/<group>/<version>/<plural>"
  std::string label_selector;
  std::string field_selector;  // "metadata.name=<node>" for one object
  // The server ends each watch after this long (timeoutSeconds); the next starts at once.
  std::chrono::seconds watch_timeout{300};
  RetryOptions retry{.max_attempts = 0,
                     .initial_backoff = std::chrono::milliseconds(500),
                     .max_backoff = std::chrono::seconds(30),
                     .jitter = 0.2};
};

struct ObjectWatchStats {
  uint64_t lists = 0;    // successful lists (the first included)
  uint64_t relists = 0;  // of which after 410 Gone
  uint64_t watches = 0;  // watches that ended normally (server timeout)
  uint64_t events = 0;   // ADDED/MODIFIED/DELETED events delivered
  uint64_t failures = 0;
  std::string last_error;
};

class ObjectWatch {
 public:
  using ListFn = std::function<void(const nlohmann::json& items)>;
  using EventFn = std::function<void(const WatchEvent& event)>;
  // A failure (with when it retries) or a recovery, for the agent's log.
  using Reporter = std::function<void(bool ok, const std::string& message)>;

  ObjectWatch(ListWatcher& source, ObjectWatchOptions options, const Clock& clock, ListFn on_list, EventFn on_event,
              Reporter report, uint64_t seed = 1);
  ~ObjectWatch();
  ObjectWatch(const ObjectWatch&) = delete;
  ObjectWatch& operator=(const ObjectWatch&) = delete;

  void start();
  void stop();
  ObjectWatchStats stats() const;

 private:
  void run();
  // Waits `delay` on the clock or until stop(); false when stopping.
  bool pause(Clock::Duration delay);
  bool stopping() const;
  void fail(const Error& error, const char* what);

  ListWatcher& source_;
  ObjectWatchOptions options_;
  const Clock& clock_;
  ListFn on_list_;
  EventFn on_event_;
  Reporter report_;
  Backoff backoff_;
  int failed_in_a_row_ = 0;  // watch thread only

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  ObjectWatchStats stats_;
  std::thread worker_;
};

}  // namespace topod::kube
