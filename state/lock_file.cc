#include "state/lock_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

namespace topod::agent {

Result<LockFile> LockFile::acquire(const std::string& path) {
  // O_NOFOLLOW | O_NONBLOCK: a link planted at the lock's name would make root truncate its
  // target below, and a FIFO would block the open.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP) return Error(ErrorCode::FailedPrecondition, "lock file " + path + " is a symbolic link; refusing it", err);
    return Error::fromErrno(err, "opening lock file " + path);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    int err = errno;
    bool regular = S_ISREG(st.st_mode);
    ::close(fd);
    if (!regular) return Error::failedPrecondition("lock file " + path + " is not a regular file; refusing it");
    if (st.st_uid != ::geteuid()) {
      return Error::failedPrecondition("lock file " + path + " is owned by uid " + std::to_string(st.st_uid) +
                                       ", not by uid " + std::to_string(::geteuid()) + "; refusing it");
    }
    return Error::fromErrno(err, "checking lock file " + path);
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string holder;
    char buffer[32] = {};
    ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
    if (n > 0) holder = std::string(buffer, static_cast<std::size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Error(ErrorCode::FailedPrecondition,
                   "another topod" + (holder.empty() ? std::string() : " (pid " + holder + ")") +
                       " holds " + path + "; two agents must not share a state directory",
                   err);
    }
    return Error::fromErrno(err, "locking " + path);
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    int err = errno;
    ::close(fd);
    return Error::fromErrno(err, "writing pid to lock file " + path);
  }
  return LockFile(path, fd);
}

LockFile::LockFile(LockFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

LockFile& LockFile::operator=(LockFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

LockFile::~LockFile() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace topod::agent
