#include "nri/socket_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace topod::nri {
namespace {

// "/a/b" -> "/a", "/a" -> "/", "a" -> ".", "a/b" -> "a".
std::string parentOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string baseOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The path component right below `dir` on the way to `path` (dir is an ancestor of path).
std::string childToward(const std::string& dir, const std::string& path) {
  std::string child = path;
  while (parentOf(child) != dir) {
    const std::string up = parentOf(child);
    if (up == child) break;  // "/" or "."
    child = up;
  }
  return baseOf(child);
}

// Events of the watched directory: an entry appearing, or the directory itself going away.
constexpr uint32_t kWatchMask = IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
// Room for many events per read (each is a header plus a name of up to NAME_MAX + 1 bytes).
constexpr size_t kEventBuffer = 16 * (sizeof(inotify_event) + 256);

}  // namespace

InotifySocketWatcher::InotifySocketWatcher(std::string socket_path) : path_(std::move(socket_path)) {
  // Trailing slashes name no socket; keep the path as given otherwise (relative paths work too).
  while (path_.size() > 1 && path_.back() == '/') path_.pop_back();
}

InotifySocketWatcher::~InotifySocketWatcher() {
  stop();
}

Status InotifySocketWatcher::start(std::function<void()> appeared) {
  if (thread_.joinable() || inotify_fd_.valid()) {
    return Error::failedPrecondition("the socket watcher for " + path_ + " was already started");
  }
  if (path_.empty()) return Error::invalidArgument("cannot watch an empty socket path");
  inotify_fd_ = UniqueFd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!inotify_fd_.valid()) return Error::fromErrno(errno, "inotify_init1 for watching " + path_);
  stop_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_fd_.valid()) return Error::fromErrno(errno, "eventfd for the socket watcher of " + path_);
  Status armed = arm();
  if (!armed.has_value()) return armed;
  appeared_ = std::move(appeared);
  thread_ = std::thread([this] { run(); });
  return okStatus();
}

void InotifySocketWatcher::stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_fd_.get(), &one, sizeof(one));
  thread_.join();
}

std::string InotifySocketWatcher::watchedDirectory() const {
  std::lock_guard<std::mutex> lock(mu_);
  return watched_dir_;
}

Status InotifySocketWatcher::arm() {
  std::lock_guard<std::mutex> lock(mu_);
  if (wd_ >= 0) {
    ::inotify_rm_watch(inotify_fd_.get(), wd_);  // fails harmlessly when the kernel dropped it
    wd_ = -1;
  }
  std::string dir = parentOf(path_);
  for (;;) {
    const int wd = ::inotify_add_watch(inotify_fd_.get(), dir.c_str(), kWatchMask);
    if (wd >= 0) {
      wd_ = wd;
      watched_dir_ = dir;
      next_name_ = childToward(dir, path_);
      return okStatus();
    }
    const int err = errno;
    const std::string up = parentOf(dir);
    // Missing (or not a directory): climb. Anything else (EACCES, ENOSPC for the watch limit)
    // is an error; so is running out of ancestors.
    if ((err != ENOENT && err != ENOTDIR) || up == dir) {
      return Error::fromErrno(err, "inotify watch on " + dir + " (for the NRI socket " + path_ + ")");
    }
    dir = up;
  }
}

void InotifySocketWatcher::run() {
  for (;;) {
    pollfd pfds[2] = {{inotify_fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    const int rc = ::poll(pfds, 2, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return;  // cannot happen with valid fds; the plugin's safety re-check still runs
    }
    if (pfds[1].revents != 0) return;
    if (pfds[0].revents != 0 && handleEvents() && appeared_) appeared_();
  }
}

bool InotifySocketWatcher::handleEvents() {
  alignas(inotify_event) char buffer[kEventBuffer];
  bool appeared = false;
  bool rearm = false;
  std::string lost;  // the watched directory, when it went away
  for (;;) {
    const ssize_t n = ::read(inotify_fd_.get(), buffer, sizeof(buffer));
    if (n <= 0) break;  // EAGAIN: all read
    std::lock_guard<std::mutex> lock(mu_);
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if ((event->mask & IN_Q_OVERFLOW) != 0) {
        // Events were lost: look again from the top and let the plugin try.
        rearm = true;
        appeared = true;
        continue;
      }
      if (event->wd != wd_) continue;  // a watch replaced meanwhile
      if ((event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0) {
        rearm = true;  // the watched directory went away: climb
        lost = watched_dir_;
        continue;
      }
      if ((event->mask & (IN_CREATE | IN_MOVED_TO)) == 0 || event->len == 0) continue;
      if (std::strcmp(event->name, next_name_.c_str()) != 0) continue;  // another entry
      if (watched_dir_ == parentOf(path_)) {
        appeared = true;
      } else {
        // A directory on the way was created: descend. The socket may already be inside it
        // (mkdir -p and bind in quick succession), so the plugin tries once too.
        rearm = true;
        appeared = true;
      }
    }
  }
  if (rearm) (void)arm();  // an error leaves no watch; the plugin's safety re-check remains
  if (!lost.empty()) {
    // The directory may have come back before the new watch was set (rmdir and mkdir in quick
    // succession): the watch then lands on it again, or deeper, and its creation event is gone.
    // Every directory watched lies on the way to the socket, so a path at least as long is that
    // far along: say so, as the creation event would have.
    std::lock_guard<std::mutex> lock(mu_);
    if (wd_ >= 0 && watched_dir_.size() >= lost.size()) appeared = true;
  }
  return appeared;
}

}  // namespace topod::nri
