#include "common/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace topod {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

int UniqueFd::closeNow() {
  int rc = ::close(fd_);
  fd_ = -1;
  return rc;
}

Result<std::string> readRegularFile(const std::string& path, const ReadFileOptions& options) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (options.no_follow ? O_NOFOLLOW : 0);
  UniqueFd fd(::open(path.c_str(), flags));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT) return Error(ErrorCode::NotFound, path + " does not exist", err);
    if (err == ELOOP)
      return Error(ErrorCode::FailedPrecondition, path + " is a symbolic link; refusing to follow it", err);
    return Error::fromErrno(err, "opening " + path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error::fromErrno(errno, "checking " + path);
  if (!S_ISREG(st.st_mode)) return Error::failedPrecondition(path + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > options.max_bytes) {
    return Error(ErrorCode::OutOfRange, path + " is " + std::to_string(st.st_size) + " bytes, more than the " +
                                            std::to_string(options.max_bytes) + " allowed");
  }
  std::string content;
  content.reserve(static_cast<std::size_t>(st.st_size));
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno(errno, "reading " + path);
    }
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
    // A file that grows while it is read (or lies about its size, as procfs does) stays bounded.
    if (content.size() > options.max_bytes) {
      return Error(ErrorCode::OutOfRange,
                   path + " holds more than the " + std::to_string(options.max_bytes) + " bytes allowed");
    }
  }
  return content;
}

Status checkPrivateOwnership(const std::string& path, uid_t owner, const char* what) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return Error::fromErrno(errno, std::string("checking ") + what + " " + path);
  if (S_ISLNK(st.st_mode)) {
    return Error::failedPrecondition(std::string(what) + " " + path + " is a symbolic link; refusing to follow it");
  }
  if (st.st_uid != owner) {
    return Error::failedPrecondition(std::string(what) + " " + path + " is owned by uid " + std::to_string(st.st_uid) +
                                     ", not by uid " + std::to_string(owner) +
                                     " that topod runs as; refusing to use it");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Error::failedPrecondition(std::string(what) + " " + path + " is writable by group or others (mode " + mode +
                                     "); refusing to use it (chmod go-w)");
  }
  return okStatus();
}

}  // namespace topod
