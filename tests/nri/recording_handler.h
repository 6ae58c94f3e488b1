// An EventHandler for tests: records every call (thread-safe, the plugin calls it on its I/O
// thread) and answers with simple, checkable decisions.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "nri/event_handler.h"

namespace topod::nri::testing {

class RecordingHandler : public EventHandler {
 public:
  // Decision for CreateContainer: pin to CPUs 0-1 unless a test overrides it.
  std::function<Result<CreateReply>(const Pod&, const Container&)> create_reply =
      [](const Pod&, const Container&) -> Result<CreateReply> {
    return CreateReply{Adjustment{LinuxResources{.cpuset_cpus = CpuSet{0, 1}}}, {}};
  };

  void onConfigure(const RuntimeInfo& runtime) override {
    (void)record("Configure", runtime.name);
    std::lock_guard<std::mutex> lock(mu_);
    runtime_ = runtime;
  }
  Result<std::vector<Update>> onSynchronize(const std::vector<Pod>& pods,
                                            const std::vector<Container>& containers) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      sync_pods_ = pods;
      sync_containers_ = containers;
    }
    (void)record("Synchronize", std::to_string(pods.size()) + "/" + std::to_string(containers.size()));
    std::vector<Update> updates;
    if (!containers.empty()) {
      updates.push_back({containers.front().id, LinuxResources{.cpu_shares = 1024}, false});
    }
    return updates;
  }
  Result<CreateReply> onCreateContainer(const Pod& pod, const Container& container) override {
    (void)record("CreateContainer", container.id);
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_pod_ = pod;
    }
    return create_reply(pod, container);
  }
  Result<std::vector<Update>> onUpdateContainer(const Pod&, const Container& container,
                                                const LinuxResources& requested) override {
    (void)record("UpdateContainer", container.id);
    return std::vector<Update>{{container.id, requested, false}};
  }
  Result<std::vector<Update>> onStopContainer(const Pod&, const Container& container) override {
    (void)record("StopContainer", container.id);
    return std::vector<Update>{};
  }
  Status onRunPodSandbox(const Pod& pod) override { return record("RunPodSandbox", pod.id); }
  Status onStopPodSandbox(const Pod& pod) override { return record("StopPodSandbox", pod.id); }
  Status onRemovePodSandbox(const Pod& pod) override { return record("RemovePodSandbox", pod.id); }
  Status onUpdatePodSandbox(const Pod& pod, const LinuxResources&, const LinuxResources&) override {
    return record("UpdatePodSandbox", pod.id);
  }
  Status onPostUpdatePodSandbox(const Pod& pod) override { return record("PostUpdatePodSandbox", pod.id); }
  Status onPostCreateContainer(const Pod&, const Container& c) override { return record("PostCreateContainer", c.id); }
  Status onStartContainer(const Pod&, const Container& c) override { return record("StartContainer", c.id); }
  Status onPostStartContainer(const Pod&, const Container& c) override { return record("PostStartContainer", c.id); }
  Status onPostUpdateContainer(const Pod&, const Container& c) override { return record("PostUpdateContainer", c.id); }
  Status onRemoveContainer(const Pod&, const Container& c) override { return record("RemoveContainer", c.id); }

  std::vector<std::string> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  bool waitForCall(const std::string& call, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      for (const auto& c : calls_) {
        if (c == call) return true;
      }
      return false;
    });
  }
  size_t count(const std::string& prefix) const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const auto& c : calls_) n += c.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }
  std::vector<Container> syncContainers() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sync_containers_;
  }
  std::vector<Pod> syncPods() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sync_pods_;
  }
  Pod lastPod() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_pod_;
  }
  RuntimeInfo runtime() const {
    std::lock_guard<std::mutex> lock(mu_);
    return runtime_;
  }

 private:
  Status record(const std::string& event, const std::string& subject) {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(event + " " + subject);
    cv_.notify_all();
    return okStatus();
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> calls_;
  std::vector<Pod> sync_pods_;
  std::vector<Container> sync_containers_;
  Pod last_pod_;
  RuntimeInfo runtime_;
};

}  // namespace topod::nri::testing
