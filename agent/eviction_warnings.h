// The eviction responder at work (docs/eviction.md): the pods of this node as NRI reports them
// (PodTracker), the API calls (EvictionApi, over kube::Client), and EvictionWarnings, which
// feeds Eviction watch events and the workloads' progress files to the pure EvictionResponder
// and carries out what it decides: signal the containers, write notices, write this
// responder's status, persist the warnings (evictions.json). Two threads of its own: one lists
// and watches Evictions, one polls progress files and writes due heartbeats; the NRI path only
// records pods and never waits on either.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/eviction_checkpoints.h"
#include "agent/eviction_files.h"
#include "agent/eviction_requests.h"
#include "agent/eviction_responder.h"
#include "cgroups/cgroup_fs.h"
#include "common/clock.h"
#include "config/eviction_config.h"
#include "config/kubernetes_config.h"
#include "kube/client.h"
#include "kube/eviction_object.h"
#include "nri/event_handler.h"

namespace topod::agent {

// Forwards every event to `inner`, remembering each pod (uid, name, annotations) and its
// containers' cgroups. Thread-safe as the inner handler is.
class PodTracker final : public nri::EventHandler {
 public:
  explicit PodTracker(nri::EventHandler& inner) : inner_(inner) {}

  // The pod with this uid, if it runs here.
  std::optional<LocalPod> pod(const std::string& uid) const;
  // Its containers' OCI cgroupsPath values (not the sandbox's).
  std::vector<std::string> containerCgroups(const std::string& uid) const;
  // Its containers' ids and names (not the sandbox's), for mode criu.
  std::vector<CheckpointTarget> containers(const std::string& uid) const;
  // Whether a Synchronize has been seen: before it, "not here" means "not known yet".
  bool synchronized() const;
  // Called with the uid of every pod that is removed (outside the tracker's lock).
  void setOnPodRemoved(std::function<void(const std::string&)> fn);

  void onConfigure(const nri::RuntimeInfo& runtime) override { inner_.onConfigure(runtime); }
  Result<std::vector<nri::Update>> onSynchronize(const std::vector<nri::Pod>& pods,
                                                 const std::vector<nri::Container>& containers) override;
  Result<nri::CreateReply> onCreateContainer(const nri::Pod& pod, const nri::Container& container) override;
  Result<std::vector<nri::Update>> onUpdateContainer(const nri::Pod& pod, const nri::Container& container,
                                                     const nri::LinuxResources& requested) override {
    return inner_.onUpdateContainer(pod, container, requested);
  }
  Result<std::vector<nri::Update>> onStopContainer(const nri::Pod& pod, const nri::Container& container) override {
    return inner_.onStopContainer(pod, container);
  }
  Status onRunPodSandbox(const nri::Pod& pod) override;
  Status onStopPodSandbox(const nri::Pod& pod) override { return inner_.onStopPodSandbox(pod); }
  Status onRemovePodSandbox(const nri::Pod& pod) override;
  Status onUpdatePodSandbox(const nri::Pod& pod, const nri::LinuxResources& overhead,
                            const nri::LinuxResources& resources) override {
    return inner_.onUpdatePodSandbox(pod, overhead, resources);
  }
  Status onPostUpdatePodSandbox(const nri::Pod& pod) override { return inner_.onPostUpdatePodSandbox(pod); }
  Status onPostCreateContainer(const nri::Pod& pod, const nri::Container& container) override {
    return inner_.onPostCreateContainer(pod, container);
  }
  Status onStartContainer(const nri::Pod& pod, const nri::Container& container) override {
    return inner_.onStartContainer(pod, container);
  }
  Status onPostStartContainer(const nri::Pod& pod, const nri::Container& container) override {
    return inner_.onPostStartContainer(pod, container);
  }
  Status onPostUpdateContainer(const nri::Pod& pod, const nri::Container& container) override {
    return inner_.onPostUpdateContainer(pod, container);
  }
  Status onRemoveContainer(const nri::Pod& pod, const nri::Container& container) override;

 private:
  struct TrackedContainer {
    std::string name;
    std::string cgroups_path;
  };
  struct Tracked {
    LocalPod pod;
    std::map<std::string, TrackedContainer> containers;  // by container id
  };
  void remember(const nri::Pod& pod);

  nri::EventHandler& inner_;
  mutable std::mutex mutex_;
  std::map<std::string, Tracked> by_uid_;
  std::map<std::string, std::string> uid_by_sandbox_;
  bool synchronized_ = false;
  std::function<void(const std::string&)> on_removed_;
};

// The Eviction API calls the driver makes. ClientEvictionApi is the real one.
class EvictionApi {
 public:
  virtual ~EvictionApi() = default;
  virtual Result<kube::ListResult> list(const std::string& label_selector) = 0;
  // Ends when the server ends the watch, when on_event returns false, or soon after `cancelled`
  // says so (checked while the stream is quiet too: stop() must not wait for the server).
  virtual Result<std::string> watch(const std::string& label_selector, const std::string& resource_version,
                                    const std::function<bool(const kube::WatchEvent&)>& on_event,
                                    const std::function<bool()>& cancelled) = 0;
  // Server-side apply of this responder's status entry.
  virtual Status writeStatus(const std::string& namespace_name, const std::string& name, const std::string& responder,
                             const kube::ResponderReport& report) = 0;
};
std::unique_ptr<EvictionApi> makeClientEvictionApi(kube::Client& client);

struct EvictionWarningsOptions {
  ResponderSettings settings;
  int signal = 10;  // SIGUSR1
  std::chrono::milliseconds poll_interval{1000};
  std::string state_dir;  // evictions.json goes here; "" = not persisted
};

// What the driver tells the log: a warning given, withdrawn or finished, a failed write.
using EvictionReporter = std::function<void(bool ok, const std::string& message)>;
// Sends `signal` to the processes of the cgroup a container's cgroupsPath names; the count.
using ContainerSignaller = std::function<Result<int>(const std::string& cgroups_path, int signal)>;
using WallClockFn = std::function<WallTime()>;

class EvictionWarnings {
 public:
  EvictionWarnings(EvictionWarningsOptions options, EvictionApi& api, WorkloadFiles& files, const PodTracker& pods,
                   ContainerSignaller signaller, WallClockFn wall_clock, const Clock& clock, EvictionReporter report);
  ~EvictionWarnings();

  // Reads evictions.json (a bad one is moved aside and reported). Call before start().
  void load();
  void start();
  void stop();

  // One watch event (also what the list's items are fed as, as ADDED). Public for tests.
  void handleEvent(const kube::WatchEvent& event);
  // One poll: progress files, deadlines, due status writes, persistence. Public for tests.
  void tick();
  // Mode criu: where warnings of that mode go (nullptr: none, they fail at once saying so).
  // Set before start(); the worker must be stopped before this object goes.
  void setCheckpointWorker(CheckpointWorker* worker);
  // The checkpoint worker's reports (its callbacks).
  void checkpointProgress(const std::string& pod_uid, const Progress& progress);
  bool checkpointWanted(const std::string& pod_uid) const;
  // The pod left this node.
  void podRemoved(const std::string& pod_uid);

  std::vector<Warning> warnings() const;
  // When each warning was delivered (steady clock, since the event arrived), for the latency note.
  std::vector<std::chrono::nanoseconds> warnLatencies() const;

 private:
  void carryOut(const std::vector<ResponderAction>& actions);
  void warn(const Warning& warning);
  void persistLocked();
  void watchLoop();
  void pollLoop();

  EvictionWarningsOptions options_;
  EvictionApi& api_;
  WorkloadFiles& files_;
  const PodTracker& pods_;
  ContainerSignaller signaller_;
  WallClockFn wall_clock_;
  const Clock& clock_;
  EvictionReporter report_;

  mutable std::mutex mutex_;  // guards responder_ and everything below
  std::condition_variable wake_;
  EvictionResponder responder_;
  std::vector<std::chrono::nanoseconds> latencies_;
  std::optional<Clock::TimePoint> event_seen_;
  std::map<std::string, kube::EvictionView> views_;  // the latest of each Eviction, "<ns>/<name>"
  bool poke_ = false;                                // an event came: poll now
  bool stopping_ = false;
  CheckpointWorker* checkpoints_ = nullptr;
  std::thread watch_thread_;
  std::thread poll_thread_;
};

}  // namespace topod::agent

namespace topod::agent {

// The running responder, composed for `topod run`: its own API client, the notice directory,
// the pod tracker in front of `inner` and the two threads. Destroy it (stops the threads)
// before the handler it wraps.
class EvictionResponding {
 public:
  // Errors: a bad responder name, signal or setting; no node name; an unusable kubeconfig; a
  // notice or checkpoint directory that cannot be created; node default mode criu while nothing
  // answers on cri_socket (reason RuntimeUnreachable).
  // With config.request_evictions it also runs the EvictionRequester (its metrics in
  // `registry`, which may be nullptr); errors then include a bad requester name.
  static Result<std::unique_ptr<EvictionResponding>> start(const EvictionConfig& config,
                                                           const KubernetesConfig& kubernetes,
                                                           const std::string& state_dir, cgroups::CgroupFs* cgroups,
                                                           nri::EventHandler& inner, EvictionReporter report,
                                                           metrics::Registry* registry = nullptr);
  ~EvictionResponding();

  nri::EventHandler& handler() { return *tracker_; }
  const EvictionWarnings& warnings() const { return *warnings_; }
  // nullptr unless [eviction] request_evictions.
  EvictionRequester* requester() { return requester_.get(); }

 private:
  EvictionResponding() = default;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<EvictionApi> api_;
  std::unique_ptr<WorkloadFiles> files_;
  std::unique_ptr<PodTracker> tracker_;
  std::unique_ptr<EvictionWarnings> warnings_;
  std::unique_ptr<cri::RuntimeClient> runtime_;
  std::unique_ptr<CheckpointWorker> checkpoints_;
  std::unique_ptr<EvictionRequester> requester_;
};

// [eviction] as the responder's settings. InvalidArgument naming the key.
Result<ResponderSettings> responderSettingsFrom(const EvictionConfig& config);

}  // namespace topod::agent
