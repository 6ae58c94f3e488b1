// The files through which topod and a workload talk during an eviction warning
// (docs/eviction.md): per pod, a directory <run_dir>/evictions/<pod uid>/ that the pod mounts
// (hostPath + subPathExpr: $(POD_UID)), holding
//   notice.json    written by topod: {"version":1,"state":"warning"|"cancelled","pod":...,
//                  "eviction":...,"reason":...,"warnedAt":...,"deadline":...,"deadlineSeconds":N}
//   progress.json  written by the workload: {"state":"running"|"done"|"failed",
//                  "percent":0..100,"message":"..."} (percent and message optional)
// The progress file is hostile input: at most kMaxProgressBytes, strict JSON (duplicate keys,
// unknown keys and wrong types refused), a message of at most kMaxProgressMessage bytes without
// control characters. It is read without following a symlink and only if it is a regular file.
// The notice is written to a fresh temporary name (O_EXCL, no symlink followed) and renamed over
// notice.json, so a workload sees the old or the new notice whole and cannot redirect the write.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/eviction_responder.h"
#include "common/result.h"

namespace topod::agent {

inline constexpr std::size_t kMaxProgressBytes = 4096;
inline constexpr std::size_t kMaxProgressMessage = 1024;

// InvalidArgument naming the problem.
Result<Progress> parseProgress(std::string_view text);

enum class NoticeKind { Warning, Cancelled };

// The notice's JSON text (one line, newline-terminated).
std::string noticeText(const Warning& warning, NoticeKind kind, std::string_view reason);

// The per-pod files. Thread-safety: none needed beyond the filesystem's; one driver calls it.
class WorkloadFiles {
 public:
  virtual ~WorkloadFiles() = default;
  // Creates the pod's directory (mode 0777: the workload may run as any user) when missing and
  // replaces its notice.json.
  virtual Status writeNotice(const Warning& warning, NoticeKind kind, std::string_view reason) = 0;
  // The pod's progress.json; nullopt when there is none yet. Errors: a file that is not a regular
  // file, too large, or does not parse (InvalidArgument / FailedPrecondition / OutOfRange).
  virtual Result<std::optional<Progress>> readProgress(const std::string& pod_uid) = 0;
  // Removes the pod's directory and what is in it (the pod is gone).
  virtual Status remove(const std::string& pod_uid) = 0;
};

// Files under `root` (e.g. /run/topod/evictions), which must be a directory only root can write.
std::unique_ptr<WorkloadFiles> makeWorkloadFiles(std::string root);

// Whether `pod_uid` can name a directory: [0-9a-f-], 1..64 characters (a Kubernetes UID).
bool isSafePodUid(std::string_view pod_uid);

}  // namespace topod::agent
