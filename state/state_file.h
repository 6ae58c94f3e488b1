// File mechanics of the agent's checkpoint: atomic replace, read, and moving a bad file aside.
// What the bytes mean (versioned JSON with a checksum) is the engine's business
// (state/state_json.h); this only guarantees that a reader sees either the old or the new
// content in full, even across a crash or power loss at any point.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace topod::agent {

// Bound on one state file (state.json or a journal segment): 1,000 containers take about 600 KB.
inline constexpr std::size_t kMaxStateFileBytes = std::size_t{256} << 20;

// The whole content of the state file `path`: a regular file, not reached through a symlink, of
// at most kMaxStateFileBytes (common/file_io.h). NotFound when it does not exist; other errors
// carry errno.
Result<std::string> readWholeFile(const std::string& path);

// Renames `path` to "<path>.corrupt-<stamp>" (a numeric suffix when taken) and fsyncs its
// directory. `stamp` is a UTC timestamp (utcStamp()), shared by the files of one checkpoint so a
// post-mortem finds them together. Returns the new path.
Result<std::string> moveFileAside(const std::string& path, const std::string& stamp);
std::string utcStamp();

// fsync of a directory: makes renames, creations and unlinks in it survive a power loss.
Status fsyncDirectory(const std::string& dir);

class StateFile {
 public:
  // The file `name` inside directory `dir` (which must exist; see ensureDirectory).
  StateFile(std::string dir, std::string name);

  const std::string& path() const { return path_; }

  // The whole content. NotFound when the file does not exist; other errors carry errno.
  Result<std::string> read() const;

  // Replaces the content atomically: write a temp file in the same directory, fsync it, rename it
  // over the file, fsync the directory. On error the old content is intact.
  Status write(std::string_view content) const;

  // Renames the file to "<name>.corrupt-<UTC timestamp>" (with a numeric suffix if taken) so it
  // is kept for a post-mortem but never read again. Returns the new path.
  Result<std::string> moveAside() const { return moveFileAside(path_, utcStamp()); }

 private:
  std::string dir_;
  std::string name_;
  std::string path_;
};

// mkdir -p with mode 0700 for created components (the state is root's business only).
Status ensureDirectory(const std::string& path);

// The state directory may be trusted: a directory (not a symlink) owned by the effective uid and
// writable by nobody else. Anyone who can write into it could plant links and files that root
// then reads or writes. FailedPrecondition naming the problem.
Status checkStateDirectory(const std::string& path);

}  // namespace topod::agent
