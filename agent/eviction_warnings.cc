#include "agent/eviction_warnings.h"

#include "agent/eviction_state.h"
#include "cgroups/cgroup_path.h"
#include "cgroups/process_signal.h"
#include "kube/config.h"
#include "state/state_file.h"

namespace topod::agent {
namespace {

// The server ends each watch after this long and it is re-opened at once (bookmarks keep the
// resourceVersion current: one request, no re-list). stop() does not wait for it: the transport
// polls the cancel flag while the stream is quiet. It bounds how long a connection the server
// silently lost goes unnoticed.
constexpr std::chrono::seconds kWatchTimeout{60};
// After an API error the watch waits this long before listing again.
constexpr std::chrono::seconds kRetryDelay{2};

class ClientEvictionApi final : public EvictionApi {
 public:
  explicit ClientEvictionApi(kube::Client& client) : client_(client) {}

  Result<kube::ListResult> list(const std::string& label_selector) override {
    return client_.list(kube::evictionsCollection(), label_selector);
  }
  Result<std::string> watch(const std::string& label_selector, const std::string& resource_version,
                            const std::function<bool(const kube::WatchEvent&)>& on_event,
                            const std::function<bool()>& cancelled) override {
    return client_.watch(kube::evictionsCollection(), resource_version, kWatchTimeout,
                         kube::WatchOptions{.label_selector = label_selector, .cancelled = cancelled}, on_event);
  }
  Status writeStatus(const std::string& namespace_name, const std::string& name, const std::string& responder,
                     const kube::ResponderReport& report) override {
    auto body = kube::responderStatusApply(namespace_name, name, responder, report);
    auto result = client_.apply(kube::evictionStatusPath(namespace_name, name), body, responder, true);
    if (!result) return result.error();
    return okStatus();
  }

 private:
  kube::Client& client_;
};

std::string describe(const Warning& warning) {
  return "pod " + warning.pod_namespace + "/" + warning.pod_name + " (eviction " + warning.eviction_namespace + "/" +
         warning.eviction_name + ")";
}

}  // namespace

std::unique_ptr<EvictionApi> makeClientEvictionApi(kube::Client& client) {
  return std::make_unique<ClientEvictionApi>(client);
}

// --- PodTracker ---

std::optional<LocalPod> PodTracker::pod(const std::string& uid) const {
  std::lock_guard lock(mutex_);
  auto it = by_uid_.find(uid);
  if (it == by_uid_.end()) return std::nullopt;
  return it->second.pod;
}

std::vector<std::string> PodTracker::containerCgroups(const std::string& uid) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  auto it = by_uid_.find(uid);
  if (it == by_uid_.end()) return out;
  for (const auto& [id, container] : it->second.containers) out.push_back(container.cgroups_path);
  return out;
}

std::vector<CheckpointTarget> PodTracker::containers(const std::string& uid) const {
  std::lock_guard lock(mutex_);
  std::vector<CheckpointTarget> out;
  auto it = by_uid_.find(uid);
  if (it == by_uid_.end()) return out;
  for (const auto& [id, container] : it->second.containers) out.push_back({id, container.name});
  return out;
}

bool PodTracker::synchronized() const {
  std::lock_guard lock(mutex_);
  return synchronized_;
}

void PodTracker::setOnPodRemoved(std::function<void(const std::string&)> fn) {
  std::lock_guard lock(mutex_);
  on_removed_ = std::move(fn);
}

void PodTracker::remember(const nri::Pod& pod) {
  if (pod.uid.empty()) return;
  Tracked& tracked = by_uid_[pod.uid];
  tracked.pod = {pod.namespace_name, pod.name, pod.uid, {pod.annotations.begin(), pod.annotations.end()}};
  uid_by_sandbox_[pod.id] = pod.uid;
}

Result<std::vector<nri::Update>> PodTracker::onSynchronize(const std::vector<nri::Pod>& pods,
                                                           const std::vector<nri::Container>& containers) {
  {
    std::lock_guard lock(mutex_);
    by_uid_.clear();
    uid_by_sandbox_.clear();
    for (const nri::Pod& pod : pods) remember(pod);
    for (const nri::Container& container : containers) {
      auto uid = uid_by_sandbox_.find(container.pod_id);
      if (uid == uid_by_sandbox_.end()) continue;
      by_uid_[uid->second].containers[container.id] = {container.name, container.cgroups_path};
    }
    synchronized_ = true;
  }
  return inner_.onSynchronize(pods, containers);
}

Result<nri::CreateReply> PodTracker::onCreateContainer(const nri::Pod& pod, const nri::Container& container) {
  {
    std::lock_guard lock(mutex_);
    remember(pod);
    if (!pod.uid.empty()) by_uid_[pod.uid].containers[container.id] = {container.name, container.cgroups_path};
  }
  return inner_.onCreateContainer(pod, container);
}

Status PodTracker::onRunPodSandbox(const nri::Pod& pod) {
  {
    std::lock_guard lock(mutex_);
    remember(pod);
  }
  return inner_.onRunPodSandbox(pod);
}

Status PodTracker::onRemoveContainer(const nri::Pod& pod, const nri::Container& container) {
  {
    std::lock_guard lock(mutex_);
    auto it = by_uid_.find(pod.uid);
    if (it != by_uid_.end()) it->second.containers.erase(container.id);
  }
  return inner_.onRemoveContainer(pod, container);
}

Status PodTracker::onRemovePodSandbox(const nri::Pod& pod) {
  std::function<void(const std::string&)> notify;
  {
    std::lock_guard lock(mutex_);
    by_uid_.erase(pod.uid);
    uid_by_sandbox_.erase(pod.id);
    notify = on_removed_;
  }
  auto result = inner_.onRemovePodSandbox(pod);
  if (notify && !pod.uid.empty()) notify(pod.uid);
  return result;
}

// --- EvictionWarnings ---

EvictionWarnings::EvictionWarnings(EvictionWarningsOptions options, EvictionApi& api, WorkloadFiles& files,
                                   const PodTracker& pods, ContainerSignaller signaller, WallClockFn wall_clock,
                                   const Clock& clock, EvictionReporter report)
    : options_(std::move(options)),
      api_(api),
      files_(files),
      pods_(pods),
      signaller_(std::move(signaller)),
      wall_clock_(std::move(wall_clock)),
      clock_(clock),
      report_(std::move(report)),
      responder_(options_.settings) {}

EvictionWarnings::~EvictionWarnings() {
  stop();
}

void EvictionWarnings::load() {
  if (options_.state_dir.empty()) return;
  StateFile file(options_.state_dir, kEvictionStateFile);
  auto text = file.read();
  if (!text) {
    if (text.error().code() != ErrorCode::NotFound) report_(false, "eviction warnings: " + text.error().toString());
    return;
  }
  auto warnings = parseWarnings(*text);
  if (!warnings) {
    auto aside = file.moveAside();
    report_(false, "eviction warnings: " + warnings.error().toString() + "; moved aside to " +
                       (aside ? *aside : aside.error().toString()) + ", starting with none");
    return;
  }
  std::lock_guard lock(mutex_);
  responder_.restore(*warnings);
  report_(true, "eviction warnings: restored " + std::to_string(warnings->size()) + " from " + file.path());
  // A checkpoint that was running when topod stopped is not started again (its archives may be
  // half written, and the pod may have changed): it finishes, so the eviction goes on.
  const WallTime now = wall_clock_();
  for (const Warning& warning : *warnings) {
    if (warning.mode != WarningMode::Criu || warning.phase != WarningPhase::Warning) continue;
    responder_.progress(warning.pod_uid,
                        {WorkloadState::Failed, std::nullopt, "topod restarted during the checkpoint; not repeated"},
                        now);
    report_(false,
            "eviction: checkpoint of " + describe(warning) + " was cut short by a restart; letting the eviction go on");
  }
}

void EvictionWarnings::setCheckpointWorker(CheckpointWorker* worker) {
  std::lock_guard lock(mutex_);
  checkpoints_ = worker;
}

void EvictionWarnings::checkpointProgress(const std::string& pod_uid, const Progress& progress) {
  {
    std::lock_guard lock(mutex_);
    // The finish is logged when its completion is written (carryOut).
    responder_.progress(pod_uid, progress, wall_clock_());
    poke_ = true;
  }
  wake_.notify_all();  // the report goes now, not at the next poll
}

bool EvictionWarnings::checkpointWanted(const std::string& pod_uid) const {
  std::lock_guard lock(mutex_);
  const Warning* warning = responder_.find(pod_uid);
  return warning != nullptr && warning->mode == WarningMode::Criu && warning->phase == WarningPhase::Warning;
}

void EvictionWarnings::start() {
  watch_thread_ = std::thread([this] { watchLoop(); });
  poll_thread_ = std::thread([this] { pollLoop(); });
}

void EvictionWarnings::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (watch_thread_.joinable()) watch_thread_.join();
  if (poll_thread_.joinable()) poll_thread_.join();
}

void EvictionWarnings::handleEvent(const kube::WatchEvent& event) {
  auto view = kube::parseEviction(event.object);
  if (!view) {
    report_(false, "eviction: ignoring an Eviction the API server sent: " + view.error().toString());
    return;
  }
  const WallTime now = wall_clock_();
  std::vector<ResponderAction> actions;
  {
    std::lock_guard lock(mutex_);
    event_seen_ = clock_.now();
    poke_ = true;
    const std::string key = view->namespace_name + "/" + view->name;
    if (event.type == "DELETED") {
      views_.erase(key);
      actions = responder_.removed(view->namespace_name, view->name, now);
    } else {
      views_[key] = *view;
      auto pod = pods_.pod(view->pod_uid);
      actions = responder_.observe(*view, pod ? &*pod : nullptr, now);
    }
  }
  carryOut(actions);
  wake_.notify_all();  // the first heartbeat goes now, not at the next poll
}

void EvictionWarnings::carryOut(const std::vector<ResponderAction>& actions) {
  for (const ResponderAction& action : actions) {
    switch (action.kind) {
      case ResponderAction::Kind::Warn: warn(action.warning); break;
      case ResponderAction::Kind::Cancel: {
        auto written = files_.writeNotice(action.warning, NoticeKind::Cancelled, action.warning.outcome);
        report_(true, "eviction: warning withdrawn for " + describe(action.warning) + ": " + action.warning.outcome +
                          (written ? "" : " (notice not written: " + written.error().toString() + ")"));
        break;
      }
      case ResponderAction::Kind::Report: {
        auto written = api_.writeStatus(action.warning.eviction_namespace, action.warning.eviction_name,
                                        options_.settings.responder_name, action.report);
        std::lock_guard lock(mutex_);
        if (written) {
          responder_.reported(action.warning.pod_uid, action.report);
          if (action.report.completion_time) {
            report_(true, "eviction: " + describe(action.warning) + " finished: " + action.report.message);
          }
        } else {
          report_(false, "eviction: status of " + describe(action.warning) +
                             " not written (retrying at the next poll): " + written.error().toString());
        }
        break;
      }
    }
  }
}

void EvictionWarnings::warn(const Warning& warning) {
  const std::string reason = "eviction requested (" + warning.eviction_namespace + "/" + warning.eviction_name + ")";
  auto noticed = files_.writeNotice(warning, NoticeKind::Warning, reason);
  std::string failure;
  if (warning.mode == WarningMode::File && !noticed) failure = "notice file: " + noticed.error().toString();
  if (warning.mode == WarningMode::Signal) {
    int signalled = 0;
    std::string errors;
    for (const std::string& cgroup : pods_.containerCgroups(warning.pod_uid)) {
      auto count = signaller_(cgroup, options_.signal);
      if (count) {
        signalled += *count;
      } else {
        errors += (errors.empty() ? "" : "; ") + count.error().toString();
      }
    }
    if (signalled == 0) failure = "no process signalled" + (errors.empty() ? std::string() : ": " + errors);
  }
  CheckpointWorker* checkpoints = nullptr;
  CheckpointJob job;
  if (warning.mode == WarningMode::Criu) {
    {
      std::lock_guard lock(mutex_);
      checkpoints = checkpoints_;
    }
    job = {warning.pod_uid, pods_.containers(warning.pod_uid)};
    if (checkpoints == nullptr) {
      failure = "mode criu: no CRI runtime client in this topod";
    } else if (job.containers.empty()) {
      failure = "mode criu: no container of the pod is known to run here";
    }
  }
  std::unique_lock lock(mutex_);
  if (!failure.empty()) {
    responder_.warnFailed(warning.pod_uid, failure, wall_clock_());
    report_(false, "eviction: could not warn " + describe(warning) + ": " + failure + "; letting the eviction go on");
    return;
  }
  if (event_seen_) latencies_.push_back(clock_.now() - *event_seen_);
  // On disk before anything else happens: a crash now must not warn the pod a second time.
  persistLocked();
  report_(true, "eviction: warned " + describe(warning) + " by " + std::string(warningModeName(warning.mode)) +
                    ", deadline " + kube::formatWallTime(warning.deadline));
  lock.unlock();
  // Queued only now: the worker's first report must find the warning on disk and in the responder.
  if (checkpoints != nullptr && failure.empty()) checkpoints->enqueue(std::move(job));
}

void EvictionWarnings::tick() {
  std::vector<ResponderAction> observed;
  std::vector<Warning> running;
  {
    std::lock_guard lock(mutex_);
    const WallTime now = wall_clock_();
    // Evictions seen before their pod was known here (topod restarted, NRI not synchronized
    // yet) are looked at again; for the others observe() decides nothing new.
    for (const auto& [key, view] : views_) {
      auto pod = pods_.pod(view.pod_uid);
      auto more = responder_.observe(view, pod ? &*pod : nullptr, now);
      observed.insert(observed.end(), more.begin(), more.end());
    }
  }
  carryOut(observed);
  {
    std::lock_guard lock(mutex_);
    for (const Warning& warning : responder_.warnings()) {
      // Mode criu's progress comes from the checkpoint worker, not a file.
      if (warning.phase == WarningPhase::Warning && warning.mode != WarningMode::Criu) running.push_back(warning);
    }
  }
  // Progress files are read outside the lock: a slow disk must not stall the watch.
  std::vector<std::pair<std::string, Progress>> progress;
  for (const Warning& warning : running) {
    auto read = files_.readProgress(warning.pod_uid);
    if (!read) {
      report_(false, "eviction: progress of " + describe(warning) + " ignored: " + read.error().toString());
      continue;
    }
    if (*read) progress.emplace_back(warning.pod_uid, **read);
  }
  std::vector<ResponderAction> due;
  {
    std::lock_guard lock(mutex_);
    const WallTime now = wall_clock_();
    for (const auto& [uid, p] : progress) responder_.progress(uid, p, now);
    due = responder_.due(now);
  }
  carryOut(due);
  std::lock_guard lock(mutex_);
  if (responder_.takeChanged()) persistLocked();
}

void EvictionWarnings::podRemoved(const std::string& pod_uid) {
  {
    std::lock_guard lock(mutex_);
    responder_.forgetPod(pod_uid);
  }
  (void)files_.remove(pod_uid);
}

std::vector<Warning> EvictionWarnings::warnings() const {
  std::lock_guard lock(mutex_);
  return responder_.warnings();
}

std::vector<std::chrono::nanoseconds> EvictionWarnings::warnLatencies() const {
  std::lock_guard lock(mutex_);
  return latencies_;
}

void EvictionWarnings::persistLocked() {
  if (options_.state_dir.empty()) return;
  StateFile file(options_.state_dir, kEvictionStateFile);
  auto written = file.write(serializeWarnings(responder_.warnings()));
  if (!written) {
    // Still in memory: the worst a lost write does is warn a pod again after a restart.
    report_(false, "eviction warnings: " + written.error().toString());
  }
}

void EvictionWarnings::watchLoop() {
  const std::string selector = options_.settings.responder_name;
  auto stopped = [this] {
    std::lock_guard lock(mutex_);
    return stopping_;
  };
  auto pause = [this] {
    std::unique_lock lock(mutex_);
    (void)clock_.waitUntil(lock, wake_, clock_.now() + kRetryDelay, [this] { return stopping_; });
  };
  while (!stopped()) {
    auto listed = api_.list(selector);
    if (!listed) {
      report_(false, "eviction: listing Evictions: " + listed.error().toString() + "; retrying");
      pause();
      continue;
    }
    for (const auto& item : listed->items) handleEvent({"ADDED", item});
    std::string version = listed->resource_version;
    while (!stopped()) {
      auto next = api_.watch(
          selector, version,
          [&](const kube::WatchEvent& event) {
            handleEvent(event);
            return !stopped();
          },
          stopped);
      if (!next) {
        if (next.error().code() != ErrorCode::OutOfRange) {
          report_(false, "eviction: watching Evictions: " + next.error().toString() + "; listing again");
          pause();
        }
        break;
      }
      version = *next;
    }
  }
}

void EvictionWarnings::pollLoop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (stopping_) return;
    }
    tick();
    std::unique_lock lock(mutex_);
    (void)clock_.waitUntil(lock, wake_, clock_.now() + options_.poll_interval, [this] { return stopping_ || poke_; });
    if (stopping_) return;
    poke_ = false;
  }
}

}  // namespace topod::agent

namespace topod::agent {

Result<ResponderSettings> responderSettingsFrom(const EvictionConfig& config) {
  ResponderSettings settings;
  settings.responder_name = config.responder_name;
  auto mode = parseWarningMode(config.mode);
  if (!mode) return Error::invalidArgument("eviction.mode: \"" + config.mode + "\" is not signal, file, criu or none");
  settings.default_mode = *mode;
  settings.deadline = std::chrono::seconds(config.deadline_s);
  settings.max_deadline = std::chrono::seconds(config.max_deadline_s);
  settings.heartbeat_interval = std::chrono::seconds(config.heartbeat_interval_s);
  if (auto valid = validateResponderSettings(settings); !valid) return valid.error();
  return settings;
}

Result<std::unique_ptr<EvictionResponding>> EvictionResponding::start(
    const EvictionConfig& config, const KubernetesConfig& kubernetes, const std::string& state_dir,
    cgroups::CgroupFs* cgroups, nri::EventHandler& inner, EvictionReporter report, metrics::Registry* registry) {
  auto settings = responderSettingsFrom(config);
  if (!settings) return settings.error();
  if (config.request_evictions) {
    if (auto name = kube::validateResponderName(config.requester_name); !name) {
      return Error::invalidArgument("eviction.requester_name: " + name.error().message());
    }
  }
  auto signal = cgroups::parseSignalName(config.signal);
  if (!signal) {
    return Error::invalidArgument("eviction.signal: \"" + config.signal +
                                  "\" is not a signal a workload can catch (SIGUSR1, SIGTERM, a number, ...)");
  }
  if (auto made = ensureDirectory(config.notice_dir); !made) {
    return made.error().withContext("eviction.notice_dir");
  }
  // Mode criu: the runtime's CRI client (connects lazily) and where the archives go. A node
  // whose default is criu must have a runtime that answers now: a typo in cri_socket is a
  // start-up error, not a surprise at the first eviction.
  auto runtime = cri::makeGrpcRuntimeClient(config.cri_socket);
  if (!runtime) return runtime.error().withContext("eviction.cri_socket");
  const std::string checkpoint_dir = config.checkpoint_dir.empty() ? state_dir + "/checkpoints" : config.checkpoint_dir;
  if (settings->default_mode == WarningMode::Criu) {
    // Long enough for a busy runtime's Version; short enough for a start-up.
    constexpr std::chrono::seconds kProbeTimeout{5};
    auto version = (*runtime)->version(kProbeTimeout);
    if (!version) {
      return Error(version.error().code(), "eviction.mode = \"criu\": " + version.error().message() +
                                               " (set eviction.cri_socket to the runtime's CRI socket)")
          .withReason(version.error().reason());
    }
    if (auto made = ensureDirectory(checkpoint_dir); !made) return made.error().withContext("eviction.checkpoint_dir");
    report(true, "eviction: mode criu via " + version->runtime_name + " " + version->runtime_version + " at " +
                     config.cri_socket + ", archives in " + checkpoint_dir);
  }

  auto client_config = kubernetes.kubeconfig.empty() ? kube::inClusterConfig(kube::processEnv())
                                                     : kube::loadKubeconfig(kubernetes.kubeconfig);
  if (!client_config) return client_config.error().withContext("eviction");
  kube::ClientOptions client_options;
  client_options.qps = static_cast<double>(kubernetes.qps);
  client_options.burst = static_cast<int>(kubernetes.burst);
  client_options.timeout = std::chrono::milliseconds(kubernetes.timeout_ms);
  client_options.retry.max_attempts = 2;  // the poll retries on its own schedule
  client_options.user_agent = "topod-eviction";
  auto client = kube::Client::create(*client_config, client_options);
  if (!client) return client.error().withContext("eviction");

  std::unique_ptr<EvictionResponding> out(new EvictionResponding());
  out->client_ = std::move(*client);
  out->api_ = makeClientEvictionApi(*out->client_);
  out->files_ = makeWorkloadFiles(config.notice_dir);
  out->tracker_ = std::make_unique<PodTracker>(inner);
  EvictionWarningsOptions options;
  options.settings = *settings;
  options.signal = *signal;
  options.poll_interval = std::chrono::milliseconds(config.poll_interval_ms);
  options.state_dir = state_dir;
  ContainerSignaller signaller = [cgroups](const std::string& cgroups_path, int signo) -> Result<int> {
    if (cgroups == nullptr) return Error::failedPrecondition("no cgroup filesystem to find the processes in");
    auto path = cgroups::cgroupPathOf(cgroups_path);
    if (!path) return path.error();
    return cgroups::signalCgroup(*cgroups, *path, signo, cgroups::realKill());
  };
  WallClockFn wall = [] { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); };
  out->warnings_ =
      std::make_unique<EvictionWarnings>(options, *out->api_, *out->files_, *out->tracker_, std::move(signaller),
                                         std::move(wall), steadyClock(), report);  // the requester's too
  if (config.request_evictions) {
    EvictionRequesterOptions requester_options;
    requester_options.requester_name = config.requester_name;
    out->requester_ =
        std::make_unique<EvictionRequester>(requester_options, *out->client_, steadyClock(), registry, report);
  }
  EvictionWarnings* warnings = out->warnings_.get();
  EvictionRequester* requester = out->requester_.get();
  out->tracker_->setOnPodRemoved([warnings, requester](const std::string& uid) {
    warnings->podRemoved(uid);
    if (requester != nullptr) requester->podRemoved(uid);
  });
  out->runtime_ = std::move(*runtime);
  out->checkpoints_ = std::make_unique<CheckpointWorker>(
      CheckpointWorkerOptions{checkpoint_dir, std::chrono::seconds(config.checkpoint_timeout_s)}, *out->runtime_,
      [] { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); },
      [warnings](const std::string& uid, const Progress& progress) { warnings->checkpointProgress(uid, progress); },
      [warnings](const std::string& uid) { return warnings->checkpointWanted(uid); });
  out->warnings_->setCheckpointWorker(out->checkpoints_.get());
  out->warnings_->load();
  out->checkpoints_->start();
  out->warnings_->start();
  if (out->requester_) out->requester_->start();
  return out;
}

EvictionResponding::~EvictionResponding() {
  if (tracker_) tracker_->setOnPodRemoved(nullptr);
  // The worker reports into the warnings: it stops first (its checkpoint in flight is cancelled).
  if (checkpoints_) checkpoints_->stop();
  if (warnings_) warnings_->stop();
  if (requester_) requester_->stop();
}

}  // namespace topod::agent
