#include "agent/eviction_checkpoints.h"

#include <sys/stat.h>

#include <cstdio>
#include <ctime>

#include "agent/eviction_files.h"
#include "cri/checkpoint_error.h"
#include "state/state_file.h"

namespace topod::agent {
namespace {

bool isDnsLabel(std::string_view name) {
  // RFC 1123 label, as Kubernetes requires of container names.
  constexpr std::size_t kMaxLabel = 63;
  if (name.empty() || name.size() > kMaxLabel || name.front() == '-' || name.back() == '-') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool isHexId(std::string_view id) {
  constexpr std::size_t kMaxId = 128;
  if (id.empty() || id.size() > kMaxId) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'f') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// Failures that would repeat for every container of the pod: the rest are not tried.
bool stopsTheRest(const Error& error) {
  const std::string& reason = error.reason();
  return reason == cri::kCheckpointUnsupported || reason == cri::kRuntimeUnreachable || reason == cri::kCriuMissing ||
         reason == cri::kCheckpointCancelled;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

std::string archiveTime(WallTime at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

Result<std::string> checkpointArchivePath(const std::string& dir, const std::string& pod_uid,
                                          const CheckpointTarget& container, WallTime at) {
  if (dir.empty() || dir[0] != '/')
    return Error::invalidArgument("checkpoint directory \"" + dir + "\" is not absolute");
  if (!isSafePodUid(pod_uid)) return Error::invalidArgument("pod uid \"" + pod_uid + "\" cannot name a directory");
  std::string name = container.name;
  if (!isDnsLabel(name)) {
    if (!isHexId(container.id)) {
      return Error::invalidArgument("container \"" + container.name.substr(0, 64) + "\" (id \"" +
                                    container.id.substr(0, 64) + "\") cannot name a file");
    }
    name = container.id;
  }
  return dir + "/" + pod_uid + "/" + name + "-" + archiveTime(at) + ".tar";
}

CheckpointWorker::CheckpointWorker(CheckpointWorkerOptions options, cri::RuntimeClient& runtime, WallClockFn wall_clock,
                                   ProgressFn progress, WantedFn wanted)
    : options_(std::move(options)),
      runtime_(runtime),
      wall_clock_(std::move(wall_clock)),
      progress_(std::move(progress)),
      wanted_(std::move(wanted)) {}

CheckpointWorker::~CheckpointWorker() {
  stop();
}

void CheckpointWorker::start() {
  thread_ = std::thread([this] { loop(); });
}

void CheckpointWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  runtime_.cancelPending();
  if (thread_.joinable()) thread_.join();
}

void CheckpointWorker::enqueue(CheckpointJob job) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(job));
  }
  wake_.notify_all();
}

int CheckpointWorker::runQueued() {
  int ran = 0;
  for (;;) {
    CheckpointJob job;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) return ran;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    runJob(job);
    ++ran;
  }
}

void CheckpointWorker::loop() {
  for (;;) {
    CheckpointJob job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    runJob(job);
  }
}

void CheckpointWorker::runJob(const CheckpointJob& job) {
  const std::size_t total = job.containers.size();
  if (total == 0) {
    progress_(job.pod_uid, {WorkloadState::Failed, std::nullopt, "no container of the pod is known to run here"});
    return;
  }
  std::vector<std::string> archives;
  std::vector<std::string> failures;
  for (std::size_t i = 0; i < total; ++i) {
    const CheckpointTarget& container = job.containers[i];
    const std::string& label = container.name.empty() ? container.id : container.name;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        failures.push_back("topod stopped before container " + label);
        break;
      }
    }
    if (!wanted_(job.pod_uid)) return;  // withdrawn or finished meanwhile: nobody waits for a report
    auto path = checkpointArchivePath(options_.dir, job.pod_uid, container, wall_clock_());
    if (!path) {
      failures.push_back(path.error().message());
      continue;
    }
    const std::string pod_dir = options_.dir + "/" + job.pod_uid;
    if (auto made = ensureDirectory(pod_dir); !made) {
      failures.push_back("container " + label + ": " + made.error().message());
      break;  // the next container's archive goes to the same directory
    }
    const int percent = static_cast<int>(i * 100 / total);
    progress_(job.pod_uid,
              {WorkloadState::Running, percent,
               "checkpointing container " + label + " (" + std::to_string(i + 1) + "/" + std::to_string(total) + ")" +
                   (archives.empty() ? "" : "; archives: " + joined(archives))});
    auto done = runtime_.checkpointContainer(container.id, *path, options_.timeout);
    if (!done) {
      failures.push_back("container " + label + ": " + done.error().reason() + ": " + done.error().message());
      if (stopsTheRest(done.error())) break;
      continue;
    }
    // The runtime said yes; the archive must be there and hold something.
    struct stat st {};
    if (::stat(path->c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
      failures.push_back("container " + label + ": the runtime reported success but " + *path + " is missing or empty");
      continue;
    }
    archives.push_back(*path);
  }
  if (failures.empty()) {
    progress_(job.pod_uid,
              {WorkloadState::Done, 100, std::to_string(archives.size()) + " archive(s): " + joined(archives)});
    return;
  }
  std::string message = joined(failures);
  if (!archives.empty()) message += "; archives written: " + joined(archives);
  progress_(job.pod_uid, {WorkloadState::Failed, std::nullopt, message});
}

}  // namespace topod::agent
