// SocketWatcher: tells the NRI plugin the moment the runtime's socket may have (re)appeared, so
// that it reconnects at once instead of when a grown backoff runs out (issue 14: after a
// containerd restart topod took 6.5 s to come back, and containers created meanwhile started
// unpinned). Real: InotifySocketWatcher. Tests: tests/fakes/fake_socket_watcher.h.
//
// The plugin keeps its backoff only for a socket that exists but refuses connections; a missing
// socket is waited for through the watcher (with a long safety re-check, should an event be lost).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/file_io.h"
#include "common/result.h"
#include "nri/thread_annotations.h"

namespace topod::nri {

class SocketWatcher {
 public:
  virtual ~SocketWatcher() = default;
  // Starts watching until stop(). `appeared` is called, on a thread of the watcher's, each time an
  // entry with the socket's name is created in (or moved into) the socket's directory; it must
  // not block and must not call stop(). A spurious call is harmless (the plugin just tries to
  // connect). Errors: the watch cannot be set up (e.g. inotify limits); the plugin then falls back
  // to backoff alone. Not restartable after stop().
  virtual Status start(std::function<void()> appeared) = 0;
  // Stops watching; no `appeared` call is running or follows once it returns. Idempotent. Any
  // thread except the watcher's own (i.e. not from `appeared`).
  virtual void stop() = 0;
};

// Watches a socket path with inotify. When the socket's directory (or directories above it) do
// not exist yet, it watches the nearest existing ancestor and descends as the missing directories
// are created; when a watched directory is removed or moved away, it climbs back up.
class InotifySocketWatcher final : public SocketWatcher {
 public:
  explicit InotifySocketWatcher(std::string socket_path);
  ~InotifySocketWatcher() override;
  InotifySocketWatcher(const InotifySocketWatcher&) = delete;
  InotifySocketWatcher& operator=(const InotifySocketWatcher&) = delete;

  Status start(std::function<void()> appeared) override;
  void stop() override;

  // The directory watched now (the socket's own directory once it exists). For tests and logs.
  std::string watchedDirectory() const;

 private:
  void run();
  // (Re)points the single watch at the deepest existing directory on the socket's path.
  Status arm();
  // Reads and handles the queued events; true if the socket appeared.
  bool handleEvents();

  std::string path_;
  std::function<void()> appeared_;
  UniqueFd inotify_fd_;
  UniqueFd stop_fd_;
  std::thread thread_;
  mutable std::mutex mu_;  // the watch state: written by start() and the watcher thread
  int wd_ TOPOD_GUARDED_BY(mu_) = -1;
  std::string watched_dir_ TOPOD_GUARDED_BY(mu_);
  std::string next_name_ TOPOD_GUARDED_BY(mu_);  // the entry of watched_dir_ on the way to the socket
};

}  // namespace topod::nri
