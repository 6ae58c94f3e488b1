#include "agent/nrt_publishing.h"

#include "kube/config.h"
#include "kube/nrt_object.h"
#include "policies/nrt_view.h"

namespace topod::agent {
namespace {

std::string_view topologyPolicyName(policies::TopologyManagerPolicy policy) {
  switch (policy) {
    case policies::TopologyManagerPolicy::None: return "none";
    case policies::TopologyManagerPolicy::BestEffort: return "best-effort";
    case policies::TopologyManagerPolicy::Restricted: return "restricted";
    case policies::TopologyManagerPolicy::SingleNumaNode: return "single-numa-node";
  }
  return "none";
}

}  // namespace

Result<nlohmann::json> buildNrtObject(const std::string& node_name, const topology::Topology& topology,
                                      const policies::PolicyOptions& options, const policies::State& state,
                                      const std::vector<kube::PodName>* pods) {
  auto reserved = policies::resolveReservedCpus(topology, options);
  if (!reserved) return reserved.error();
  auto zones = policies::nodeResourceZones(topology, state, options, *reserved);
  kube::NrtAttributes attributes;
  // With topod's "none" policy nothing is aligned: the scheduler must not filter on NUMA.
  attributes.topology_manager_policy =
      options.policy == "none" ? "none" : std::string(topologyPolicyName(options.topology_manager.policy));
  // topology-aware places one container at a time whatever the scope says
  // (docs/policies/topology-aware.md): a pod-scope Filter would refuse pods topod admits.
  attributes.topology_manager_scope =
      options.topology_manager.scope == policies::TopologyManagerScope::Pod && options.policy != "topology-aware"
          ? "pod"
          : "container";
  attributes.topology_manager_max_numa_nodes = options.topology_manager.max_allowable_numa_nodes;
  if (pods != nullptr) attributes.pods_fingerprint = kube::podFingerprint(*pods);
  attributes.pods_fingerprint_method = kube::kFingerprintMethodAll;
  return kube::nrtObject(node_name, zones, attributes);
}

std::vector<kube::PodName> ObservingHandler::pods() const {
  std::lock_guard lock(mutex_);
  std::vector<kube::PodName> out;
  out.reserve(pods_.size());
  for (const auto& [id, pod] : pods_) out.push_back(pod);
  return out;
}

void ObservingHandler::remember(const nri::Pod& pod) {
  std::lock_guard lock(mutex_);
  pods_[pod.id] = {pod.namespace_name, pod.name};
}

Result<std::vector<nri::Update>> ObservingHandler::onSynchronize(const std::vector<nri::Pod>& pods,
                                                                 const std::vector<nri::Container>& containers) {
  auto result = inner_.onSynchronize(pods, containers);
  {
    std::lock_guard lock(mutex_);
    pods_.clear();
    for (const nri::Pod& pod : pods) pods_[pod.id] = {pod.namespace_name, pod.name};
  }
  notify();
  return result;
}

Result<nri::CreateReply> ObservingHandler::onCreateContainer(const nri::Pod& pod, const nri::Container& container) {
  remember(pod);
  auto result = inner_.onCreateContainer(pod, container);
  notify();
  return result;
}

Result<std::vector<nri::Update>> ObservingHandler::onUpdateContainer(const nri::Pod& pod,
                                                                     const nri::Container& container,
                                                                     const nri::LinuxResources& requested) {
  auto result = inner_.onUpdateContainer(pod, container, requested);
  notify();
  return result;
}

Result<std::vector<nri::Update>> ObservingHandler::onStopContainer(const nri::Pod& pod,
                                                                   const nri::Container& container) {
  auto result = inner_.onStopContainer(pod, container);
  notify();
  return result;
}

Status ObservingHandler::onRunPodSandbox(const nri::Pod& pod) {
  remember(pod);
  auto result = inner_.onRunPodSandbox(pod);
  notify();
  return result;
}

Status ObservingHandler::onRemovePodSandbox(const nri::Pod& pod) {
  auto result = inner_.onRemovePodSandbox(pod);
  {
    std::lock_guard lock(mutex_);
    pods_.erase(pod.id);
  }
  notify();
  return result;
}

Status ObservingHandler::onUpdatePodSandbox(const nri::Pod& pod, const nri::LinuxResources& overhead,
                                            const nri::LinuxResources& resources) {
  auto result = inner_.onUpdatePodSandbox(pod, overhead, resources);
  notify();
  return result;
}

Status ObservingHandler::onRemoveContainer(const nri::Pod& pod, const nri::Container& container) {
  auto result = inner_.onRemoveContainer(pod, container);
  notify();
  return result;
}

Result<std::unique_ptr<NrtPublishing>> NrtPublishing::start(const KubernetesConfig& config,
                                                            const topology::Topology& topology,
                                                            const policies::PolicyOptions& options, Agent& agent,
                                                            kube::NrtPublisher::Reporter report) {
  std::unique_ptr<NrtPublishing> out(new NrtPublishing());
  out->node_name_ = resolveNodeName(config.node_name);
  if (out->node_name_.empty()) {
    return Error::invalidArgument("kubernetes: no node name (set kubernetes.node_name or $NODE_NAME)");
  }
  auto client_config =
      config.kubeconfig.empty() ? kube::inClusterConfig(kube::processEnv()) : kube::loadKubeconfig(config.kubeconfig);
  if (!client_config) return client_config.error().withContext("kubernetes");
  out->origin_ = client_config->origin;
  // The object must be buildable on this machine before anything is started.
  auto first = buildNrtObject(out->node_name_, topology, options, policies::State{}, nullptr);
  if (!first) return first.error().withContext("kubernetes: building the NodeResourceTopology object");
  kube::ClientOptions client_options;
  client_options.qps = static_cast<double>(config.qps);
  client_options.burst = static_cast<int>(config.burst);
  client_options.timeout = std::chrono::milliseconds(config.timeout_ms);
  // The publisher retries on its own schedule; one retry inside a call covers a blip.
  client_options.retry.max_attempts = 2;
  auto client = kube::Client::create(*client_config, client_options);
  if (!client) return client.error().withContext("kubernetes");
  out->client_ = std::move(*client);

  kube::PublisherOptions publisher_options;
  publisher_options.node_name = out->node_name_;
  publisher_options.min_interval = std::chrono::milliseconds(config.publish_interval_ms);
  publisher_options.resync_interval = std::chrono::seconds(config.resync_interval_s);
  NrtPublishing* self = out.get();
  out->publisher_ = std::make_unique<kube::NrtPublisher>(
      *out->client_, publisher_options, steadyClock(),
      [self, &topology, options, &agent]() -> Result<nlohmann::json> {
        auto pods = self->handler_->pods();
        return buildNrtObject(self->node_name_, topology, options, agent.state(), &pods);
      },
      report);
  // Edits and deletions by someone else are corrected within the interval, not at the resync.
  out->publisher_->watchWith(*out->client_, kube::ObjectWatchOptions{}, report);
  out->handler_ = std::make_unique<ObservingHandler>(agent, [self] { self->publisher_->markChanged(); });
  out->publisher_->start();
  return out;
}

NrtPublishing::~NrtPublishing() {
  if (publisher_) publisher_->stop();
}

}  // namespace topod::agent
