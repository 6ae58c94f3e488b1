#include "agent/eviction_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <random>

#include "common/file_io.h"
#include "common/json.h"

namespace topod::agent {
namespace {

constexpr const char* kNoticeName = "notice.json";
constexpr const char* kProgressName = "progress.json";

Error progressError(std::string_view what) {
  return Error::invalidArgument("progress.json: " + std::string(what));
}

class WorkloadFilesImpl final : public WorkloadFiles {
 public:
  explicit WorkloadFilesImpl(std::string root) : root_(std::move(root)) {}

  Status writeNotice(const Warning& warning, NoticeKind kind, std::string_view reason) override {
    if (!isSafePodUid(warning.pod_uid))
      return Error::invalidArgument("pod uid \"" + warning.pod_uid + "\" is not a UID");
    const std::string dir = root_ + "/" + warning.pod_uid;
    if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) return Error::fromErrno(errno, "mkdir " + dir);
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) return Error::fromErrno(errno, "stat " + dir);
    if (!S_ISDIR(st.st_mode)) return Error::failedPrecondition(dir + " is not a directory");
    // mkdir applies the umask; the workload may run as any user and must write its progress.
    if ((st.st_mode & 0777) != 0777 && ::chmod(dir.c_str(), 0777) != 0) return Error::fromErrno(errno, "chmod " + dir);
    UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir_fd.valid()) return Error::fromErrno(errno, "open " + dir);
    const std::string text = noticeText(warning, kind, reason);
    // A fresh random name: the workload can create files here, so a fixed name could be a trap.
    std::random_device random;
    const std::string temp = ".notice." + std::to_string(random()) + ".tmp";
    UniqueFd fd(::openat(dir_fd.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd.valid()) return Error::fromErrno(errno, "create " + dir + "/" + temp);
    std::size_t written = 0;
    while (written < text.size()) {
      const ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int saved = errno;
        ::unlinkat(dir_fd.get(), temp.c_str(), 0);
        return Error::fromErrno(saved, "write " + dir + "/" + temp);
      }
      written += static_cast<std::size_t>(n);
    }
    if (fd.closeNow() != 0) {
      const int saved = errno;
      ::unlinkat(dir_fd.get(), temp.c_str(), 0);
      return Error::fromErrno(saved, "close " + dir + "/" + temp);
    }
    if (::renameat(dir_fd.get(), temp.c_str(), dir_fd.get(), kNoticeName) != 0) {
      const int saved = errno;
      ::unlinkat(dir_fd.get(), temp.c_str(), 0);
      return Error::fromErrno(saved, "rename to " + dir + "/" + kNoticeName);
    }
    return okStatus();
  }

  Result<std::optional<Progress>> readProgress(const std::string& pod_uid) override {
    if (!isSafePodUid(pod_uid)) return Error::invalidArgument("pod uid \"" + pod_uid + "\" is not a UID");
    const std::string path = root_ + "/" + pod_uid + "/" + kProgressName;
    ReadFileOptions options;
    options.max_bytes = kMaxProgressBytes;
    auto text = readRegularFile(path, options);
    if (!text) {
      if (text.error().code() == ErrorCode::NotFound) return std::optional<Progress>();
      return text.error();
    }
    auto progress = parseProgress(*text);
    if (!progress) return progress.error().withContext(path);
    return std::optional<Progress>(*progress);
  }

  Status remove(const std::string& pod_uid) override {
    if (!isSafePodUid(pod_uid)) return Error::invalidArgument("pod uid \"" + pod_uid + "\" is not a UID");
    const std::string dir = root_ + "/" + pod_uid;
    UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir_fd.valid()) {
      if (errno == ENOENT) return okStatus();
      return Error::fromErrno(errno, "open " + dir);
    }
    // One level only: whatever the workload made there, files or directories, topod removes
    // entries it can unlink and then the directory; a non-empty leftover is reported.
    DIR* listing = ::fdopendir(::dup(dir_fd.get()));
    if (listing != nullptr) {
      while (struct dirent* entry = ::readdir(listing)) {
        const std::string_view name = entry->d_name;
        if (name == "." || name == "..") continue;
        ::unlinkat(dir_fd.get(), entry->d_name, 0);
      }
      ::closedir(listing);
    }
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return Error::fromErrno(errno, "rmdir " + dir);
    return okStatus();
  }

 private:
  std::string root_;
};

}  // namespace

bool isSafePodUid(std::string_view pod_uid) {
  // A Kubernetes UID is a 36-character UUID; 64 leaves room for other spellings.
  if (pod_uid.empty() || pod_uid.size() > 64) return false;
  for (char c : pod_uid) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) return false;
  }
  return true;
}

Result<Progress> parseProgress(std::string_view text) {
  if (text.size() > kMaxProgressBytes) {
    return progressError("larger than " + std::to_string(kMaxProgressBytes) + " bytes");
  }
  auto doc = json::parseStrict(text, "progress.json");
  if (!doc) return doc.error();
  if (!doc->is_object()) return progressError("not a JSON object");
  Progress out;
  bool has_state = false;
  for (const auto& [key, value] : doc->items()) {
    if (key == "state") {
      if (!value.is_string()) return progressError("state: not a string");
      const std::string state = value.get<std::string>();
      if (state == "running") {
        out.state = WorkloadState::Running;
      } else if (state == "done") {
        out.state = WorkloadState::Done;
      } else if (state == "failed") {
        out.state = WorkloadState::Failed;
      } else {
        return progressError("state: \"" + state.substr(0, 32) + "\" is not running, done or failed");
      }
      has_state = true;
    } else if (key == "percent") {
      if (!value.is_number_integer()) return progressError("percent: not an integer");
      const int64_t percent = value.get<int64_t>();
      if (percent < 0 || percent > 100) return progressError("percent: outside 0..100");
      out.percent = static_cast<int>(percent);
    } else if (key == "message") {
      if (!value.is_string()) return progressError("message: not a string");
      std::string message = value.get<std::string>();
      if (message.size() > kMaxProgressMessage) {
        return progressError("message: longer than " + std::to_string(kMaxProgressMessage) + " bytes");
      }
      for (unsigned char c : message) {
        if (c < 0x20 || c == 0x7f) return progressError("message: holds a control character");
      }
      out.message = std::move(message);
    } else {
      return progressError("unknown key \"" + key.substr(0, 32) + "\"");
    }
  }
  if (!has_state) return progressError("state: missing");
  return out;
}

std::string noticeText(const Warning& warning, NoticeKind kind, std::string_view reason) {
  nlohmann::json notice = {
      {"version", 1},
      {"state", kind == NoticeKind::Warning ? "warning" : "cancelled"},
      {"pod", {{"namespace", warning.pod_namespace}, {"name", warning.pod_name}, {"uid", warning.pod_uid}}},
      {"eviction", {{"namespace", warning.eviction_namespace}, {"name", warning.eviction_name}}},
      {"mode", std::string(warningModeName(warning.mode))},
      {"reason", std::string(reason)},
      {"warnedAt", kube::formatWallTime(warning.warned_at)},
      {"deadline", kube::formatWallTime(warning.deadline)},
      {"deadlineSeconds",
       std::chrono::duration_cast<std::chrono::seconds>(warning.deadline - warning.warned_at).count()},
  };
  return json::dumpCompact(notice) + "\n";
}

std::unique_ptr<WorkloadFiles> makeWorkloadFiles(std::string root) {
  return std::make_unique<WorkloadFilesImpl>(std::move(root));
}

}  // namespace topod::agent
