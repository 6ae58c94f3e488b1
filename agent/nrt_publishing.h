// topod's NodeResourceTopology publishing, composed: the object built from the Agent's State
// (policies/nrt_view.h + kube/nrt_object.h), an NRI event handler that wraps the Agent and tells
// the publisher after every event that the state may have changed, and the kube::NrtPublisher
// thread that writes it. The NRI path only forwards the event and sets a flag; it never waits on
// the API server.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "config/kubernetes_config.h"
#include "kube/client.h"
#include "kube/pod_fingerprint.h"
#include "kube/publisher.h"
#include "nri/event_handler.h"
#include "policies/policy_options.h"
#include "policies/state.h"
#include "topology/model.h"

namespace topod::agent {

// The object for `node_name` from a State and the pods topod knows (nullptr: unknown, the
// fingerprint attributes are left out). Errors: reserved CPUs the policy cannot resolve here.
Result<nlohmann::json> buildNrtObject(const std::string& node_name, const topology::Topology& topology,
                                      const policies::PolicyOptions& options, const policies::State& state,
                                      const std::vector<kube::PodName>* pods);

// Forwards every event to `inner` (the Agent), then calls `changed` (after the event, outside
// any lock of the Agent). Remembers the pods seen (namespace/name) for the fingerprint.
// Thread-safe as the Agent is.
class ObservingHandler final : public nri::EventHandler {
 public:
  ObservingHandler(nri::EventHandler& inner, std::function<void()> changed)
      : inner_(inner), changed_(std::move(changed)) {}

  std::vector<kube::PodName> pods() const;

  void onConfigure(const nri::RuntimeInfo& runtime) override { inner_.onConfigure(runtime); }
  Result<std::vector<nri::Update>> onSynchronize(const std::vector<nri::Pod>& pods,
                                                 const std::vector<nri::Container>& containers) override;
  Result<nri::CreateReply> onCreateContainer(const nri::Pod& pod, const nri::Container& container) override;
  Result<std::vector<nri::Update>> onUpdateContainer(const nri::Pod& pod, const nri::Container& container,
                                                     const nri::LinuxResources& requested) override;
  Result<std::vector<nri::Update>> onStopContainer(const nri::Pod& pod, const nri::Container& container) override;
  Status onRunPodSandbox(const nri::Pod& pod) override;
  Status onStopPodSandbox(const nri::Pod& pod) override { return inner_.onStopPodSandbox(pod); }
  Status onRemovePodSandbox(const nri::Pod& pod) override;
  Status onUpdatePodSandbox(const nri::Pod& pod, const nri::LinuxResources& overhead,
                            const nri::LinuxResources& resources) override;
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
  void remember(const nri::Pod& pod);
  void notify() const {
    if (changed_) changed_();
  }

  nri::EventHandler& inner_;
  std::function<void()> changed_;
  mutable std::mutex mutex_;
  std::map<std::string, kube::PodName> pods_;  // by runtime pod id
};

// The running publisher: client, handler and thread. Destroy it (stops the thread) before the
// Agent.
class NrtPublishing {
 public:
  // Errors: no node name, an unusable kubeconfig or in-cluster configuration (exec plugins, no CA).
  static Result<std::unique_ptr<NrtPublishing>> start(const KubernetesConfig& config,
                                                      const topology::Topology& topology,
                                                      const policies::PolicyOptions& options, Agent& agent,
                                                      kube::NrtPublisher::Reporter report);
  ~NrtPublishing();

  // The handler to give the NRI plugin instead of the Agent.
  nri::EventHandler& handler() { return *handler_; }
  const std::string& nodeName() const { return node_name_; }
  const std::string& origin() const { return origin_; }
  kube::PublisherStats stats() const { return publisher_->stats(); }

 private:
  NrtPublishing() = default;

  std::string node_name_;
  std::string origin_;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<ObservingHandler> handler_;
  std::unique_ptr<kube::NrtPublisher> publisher_;
};

}  // namespace topod::agent
