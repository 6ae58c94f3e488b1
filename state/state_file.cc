#include "state/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/file_io.h"

namespace topod::agent {

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

Status fsyncDirectory(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Error::fromErrno(errno, "opening directory " + dir);
  if (::fsync(fd.get()) != 0) return Error::fromErrno(errno, "fsync of directory " + dir);
  return okStatus();
}

Result<std::string> readWholeFile(const std::string& path) {
  return readRegularFile(path, {.max_bytes = kMaxStateFileBytes, .no_follow = true});
}

std::string utcStamp() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  return stamp;
}

Result<std::string> moveFileAside(const std::string& path, const std::string& stamp) {
  std::string target = path + ".corrupt-" + stamp;
  for (int n = 1; exists(target); ++n) target = path + ".corrupt-" + stamp + "-" + std::to_string(n);
  if (::rename(path.c_str(), target.c_str()) != 0) {
    return Error::fromErrno(errno, "moving " + path + " aside to " + target);
  }
  auto slash = path.rfind('/');
  TOPOD_RETURN_IF_ERROR(fsyncDirectory(slash == std::string::npos ? "." : path.substr(0, slash)));
  return target;
}

StateFile::StateFile(std::string dir, std::string name)
    : dir_(std::move(dir)), name_(std::move(name)), path_(dir_ + "/" + name_) {}

Result<std::string> StateFile::read() const {
  auto content = readWholeFile(path_);
  if (!content.has_value() && content.error().code() == ErrorCode::NotFound) {
    return Error(ErrorCode::NotFound, "state file " + path_ + " does not exist", content.error().sysErrno());
  }
  return content;
}

Status StateFile::write(std::string_view content) const {
  std::string tmp = dir_ + "/." + name_ + ".tmp";
  // A leftover temp file (a crash mid-write) goes first; O_EXCL | O_NOFOLLOW then create a new
  // file and never write through a link someone put there.
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) return Error::fromErrno(errno, "removing stale " + tmp);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return Error::fromErrno(errno, "creating " + tmp);
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::unlink(tmp.c_str());
      return Error::fromErrno(err, "writing " + tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || fd.closeNow() != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Error::fromErrno(err, "flushing " + tmp);
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Error::fromErrno(err, "renaming " + tmp + " to " + path_);
  }
  // Without this the rename itself may not survive a power loss.
  return fsyncDirectory(dir_);
}

Status ensureDirectory(const std::string& path) {
  if (path.empty()) return Error::invalidArgument("empty directory path");
  std::string partial;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      return Error::fromErrno(errno, "creating directory " + partial);
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error::fromErrno(errno, "checking directory " + path);
  if (!S_ISDIR(st.st_mode)) return Error::failedPrecondition(path + " exists but is not a directory");
  return okStatus();
}

Status checkStateDirectory(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return Error::fromErrno(errno, "checking state directory " + path);
  if (!S_ISDIR(st.st_mode)) return Error::failedPrecondition("state directory " + path + " is not a directory");
  return checkPrivateOwnership(path, ::geteuid(), "state directory");
}

}  // namespace topod::agent
