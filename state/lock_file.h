// LockFile: an exclusive flock(2) on "<state_dir>/topod.lock", held for the agent's lifetime, so
// that two agents can never checkpoint into the same state directory. The kernel drops the lock
// when the process dies, however it dies (SIGKILL included), so a stale file never blocks a
// restart. The file holds the owner's pid for humans and for the error message.
#pragma once

#include <string>
#include <utility>

#include "common/file_io.h"
#include "common/result.h"

namespace topod::agent {

class LockFile {
 public:
  // Takes the lock without waiting. FailedPrecondition naming the holder's pid when another
  // process holds it.
  static Result<LockFile> acquire(const std::string& path);

  const std::string& path() const { return path_; }

 private:
  LockFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;  // closing it drops the lock
};

}  // namespace topod::agent
