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
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600));
  if (!fd.valid()) {
    int err = errno;
    if (err == ELOOP)
      return Error(ErrorCode::FailedPrecondition, "lock file " + path + " is a symbolic link; refusing it", err);
    return Error::fromErrno(err, "opening lock file " + path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    int err = errno;
    bool regular = S_ISREG(st.st_mode);
    if (!regular) return Error::failedPrecondition("lock file " + path + " is not a regular file; refusing it");
    if (st.st_uid != ::geteuid()) {
      return Error::failedPrecondition("lock file " + path + " is owned by uid " + std::to_string(st.st_uid) +
                                       ", not by uid " + std::to_string(::geteuid()) + "; refusing it");
    }
    return Error::fromErrno(err, "checking lock file " + path);
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string holder;
    char buffer[32] = {};
    ssize_t n = ::pread(fd.get(), buffer, sizeof buffer - 1, 0);
    if (n > 0) holder = std::string(buffer, static_cast<std::size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    if (err == EWOULDBLOCK) {
      return Error(ErrorCode::FailedPrecondition,
                   "another topod" + (holder.empty() ? std::string() : " (pid " + holder + ")") + " holds " + path +
                       "; two agents must not share a state directory",
                   err);
    }
    return Error::fromErrno(err, "locking " + path);
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
    int err = errno;
    return Error::fromErrno(err, "writing pid to lock file " + path);
  }
  return LockFile(path, std::move(fd));
}

}  // namespace topod::agent
