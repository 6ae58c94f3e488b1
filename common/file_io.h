// File reading and descriptors with the checks a root daemon needs for files whose location it
// does not fully control: no symlink is followed at the last component, only regular files are
// read (a FIFO or a device would block or never end), and reads are bounded in size.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <utility>

#include "common/result.h"

namespace topod {

// Owns a file descriptor; closes it on every path.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);
  // Closes now and returns close()'s result (it can carry a deferred write error).
  int closeNow();

 private:
  int fd_ = -1;
};

struct ReadFileOptions {
  // Larger files are refused (OutOfRange) instead of read into memory.
  std::size_t max_bytes = std::size_t{64} << 20;
  // The last path component may not be a symbolic link (FailedPrecondition).
  bool no_follow = true;
};

// The whole content of the regular file `path`. NotFound when it does not exist;
// FailedPrecondition when it is a symlink (no_follow) or not a regular file; OutOfRange when it
// is larger than max_bytes; other errors carry errno. Never blocks on a FIFO or a device.
Result<std::string> readRegularFile(const std::string& path, const ReadFileOptions& options = {});

// Whether a file or directory may hold a root daemon's state: not a symbolic link, owned by
// `owner` (the effective uid) and not writable by group or others. `what` names it in the error (FailedPrecondition).
Status checkPrivateOwnership(const std::string& path, uid_t owner, const char* what);

}  // namespace topod
