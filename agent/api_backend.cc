#include "agent/api_backend.h"

#include <set>
#include <string>
#include <utility>

#include "policies/cpu_shape.h"

namespace topod::agent {

using policies::ContainerKey;

namespace {

// Where a pod's namespace and name are known: from its containers (the runtime told), else from
// a refusal. Pods restored from the checkpoint and not yet seen have only their UID.
struct PodNames {
  std::map<std::string, std::pair<std::string, std::string>> by_uid;
  void add(const std::string& uid, const std::string& ns, const std::string& name) {
    if (!name.empty()) by_uid.emplace(uid, std::pair(ns, name));
  }
  std::pair<std::string, std::string> of(const std::string& uid) const {
    auto it = by_uid.find(uid);
    return it == by_uid.end() ? std::pair<std::string, std::string>{} : it->second;
  }
};

PodNames podNamesOf(const Agent::View& view) {
  PodNames names;
  for (const auto& c : view.containers) names.add(c.key.pod_uid, c.pod_namespace, c.pod_name);
  for (const auto& r : view.refusals) names.add(r.key.pod_uid, r.pod_namespace, r.pod_name);
  return names;
}

uint64_t chargedBytes(const policies::ContainerAllocation& allocation) {
  uint64_t total = 0;
  for (const auto& [node, resources] : allocation.memory) {
    (void)node;
    for (const auto& [resource, bytes] : resources) {
      (void)resource;
      total += bytes;
    }
  }
  return total;
}

api::ContainerExplanation admitted(const ContainerKey& key, const policies::ContainerAllocation& allocation,
                                   const policies::Placement& placement, const std::string& explanation,
                                   const std::pair<std::string, std::string>& names) {
  return api::ContainerExplanation{.pod_uid = key.pod_uid,
                                   .pod_namespace = names.first,
                                   .pod_name = names.second,
                                   .container = key.container_name,
                                   .admitted = true,
                                   .request = api::describeRequest(allocation.request),
                                   .qos = allocation.qos,
                                   .cpus = placement.cpus,
                                   .mems = placement.mems,
                                   .exclusive_cpus = allocation.exclusive_cpus,
                                   .explanation = explanation,
                                   .reason = {}};
}

// An allocation restored from the checkpoint: the policy's words at admission are not persisted,
// so say what it holds and that the restore checked it against this machine and these options.
std::string restoredExplanation(const topology::Topology& topology, const policies::ContainerAllocation& allocation) {
  std::string out =
      "restored from the checkpoint at start-up (the policy's reasoning at admission is not kept across "
      "restarts; the restore checked the allocation against this machine and the current options): ";
  if (allocation.exclusive_cpus.empty()) {
    out += "no exclusive CPUs, runs in the shared pool";
  } else {
    out += "exclusive " + policies::describeCpuShape(topology, allocation.exclusive_cpus);
  }
  if (!allocation.memory_nodes.empty()) out += "; memory pinned to NUMA " + allocation.memory_nodes.toString();
  return out;
}

}  // namespace

AgentApiBackend::AgentApiBackend(const Agent& agent, std::function<bool()> runtime_connected)
    : agent_(agent), runtime_connected_(std::move(runtime_connected)) {}

Result<api::StatusInfo> AgentApiBackend::status() const {
  Agent::View view = agent_.view();
  api::StatusInfo status;
  status.synchronized = view.synchronized;
  status.runtime_connected = runtime_connected_ ? runtime_connected_() : false;
  if (view.runtime) {
    status.runtime_name = view.runtime->name;
    status.runtime_version = view.runtime->version;
  }
  status.policy = view.policy;
  std::set<std::string> pods;
  for (const auto& c : view.containers) pods.insert(c.key.pod_uid);
  for (const auto& [key, allocation] : view.state.containers()) {
    pods.insert(key.pod_uid);
    if (!allocation.exclusive_cpus.empty()) ++status.exclusive_containers;
  }
  status.pods = static_cast<uint32_t>(pods.size());
  status.containers = static_cast<uint32_t>(view.containers.size());
  status.allocations = static_cast<uint32_t>(view.state.size());
  status.exclusive_cpus = view.state.totals().exclusive_cpus;
  status.shared_cpus = view.shared_cpus;
  status.reserved_cpus = view.reserved_cpus;
  status.refusals = static_cast<uint32_t>(view.refusals.size());
  return status;
}

Result<std::vector<api::AllocationInfo>> AgentApiBackend::allocations() const {
  Agent::View view = agent_.view();
  PodNames names = podNamesOf(view);
  std::map<ContainerKey, const Agent::ContainerInfo*> owners;
  for (const auto& c : view.containers) {
    auto& owner = owners[c.key];
    if (owner == nullptr || c.running) owner = &c;
  }
  std::vector<api::AllocationInfo> out;
  out.reserve(view.state.size());
  for (const auto& [key, allocation] : view.state.containers()) {
    api::AllocationInfo info;
    info.pod_uid = key.pod_uid;
    std::tie(info.pod_namespace, info.pod_name) = names.of(key.pod_uid);
    info.container = key.container_name;
    auto owner = owners.find(key);
    if (owner != owners.end()) {
      info.container_id = owner->second->id;
      info.running = owner->second->running;
    }
    info.qos = allocation.qos;
    info.exclusive_cpus = allocation.exclusive_cpus;
    auto placement = view.placements.find(key);
    if (placement != view.placements.end()) {
      info.cpus = placement->second.cpus;
      info.mems = placement->second.mems;
    }
    info.memory_bytes = chargedBytes(allocation);
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::vector<api::ContainerExplanation>> AgentApiBackend::explain(const api::ExplainQuery& query) const {
  Agent::View view = agent_.view();
  PodNames names = podNamesOf(view);
  // "namespace/name" names a pod; anything else is its UID.
  const auto slash = query.pod.find('/');
  auto matches = [&](const std::string& uid) {
    if (slash == std::string::npos) return uid == query.pod;
    auto [ns, name] = names.of(uid);
    return !name.empty() && ns == query.pod.substr(0, slash) && name == query.pod.substr(slash + 1);
  };
  auto wanted = [&](const ContainerKey& key) {
    return matches(key.pod_uid) && (query.container.empty() || key.container_name == query.container);
  };
  std::vector<api::ContainerExplanation> out;
  for (const auto& [key, allocation] : view.state.containers()) {
    if (!wanted(key)) continue;
    auto explanation = view.explanations.find(key);
    auto placement = view.placements.find(key);
    out.push_back(admitted(key, allocation,
                           placement == view.placements.end() ? policies::Placement{} : placement->second,
                           explanation != view.explanations.end() ? explanation->second
                                                                  : restoredExplanation(agent_.topology(), allocation),
                           names.of(key.pod_uid)));
  }
  // Refusals of containers that hold nothing now, newest first.
  for (auto it = view.refusals.rbegin(); it != view.refusals.rend(); ++it) {
    if (!wanted(it->key) || view.state.contains(it->key)) continue;
    out.push_back(api::ContainerExplanation{.pod_uid = it->key.pod_uid,
                                            .pod_namespace = it->pod_namespace,
                                            .pod_name = it->pod_name,
                                            .container = it->key.container_name,
                                            .admitted = false,
                                            .request = api::describeRequest(it->request),
                                            .qos = it->qos,
                                            .cpus = {},
                                            .mems = {},
                                            .exclusive_cpus = {},
                                            .explanation = it->message,
                                            .reason = it->reason});
  }
  if (out.empty()) {
    return Error::notFound("topod knows no container " + (query.container.empty() ? "" : query.container + " ") +
                           "of pod " + query.pod + ": none holds an allocation, and none is among the last " +
                           std::to_string(Agent::kMaxRefusals) + " refusals");
  }
  return out;
}

Result<std::vector<api::ContainerExplanation>> AgentApiBackend::whatIf(const policies::PodRequest& pod) const {
  TOPOD_RETURN_IF_ERROR(api::validateWhatIf(pod));
  policies::PodRequest request = pod;
  if (request.uid.empty()) request.uid = "what-if:" + request.namespace_name + "/" + request.name;
  auto answered = agent_.whatIf(request);
  if (!answered.has_value()) return answered.error();
  std::vector<Result<policies::Decision>>& decisions = *answered;
  std::vector<api::ContainerExplanation> out;
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const policies::ContainerRequest& container = request.containers[i];
    const ContainerKey key{.pod_uid = request.uid, .container_name = container.name};
    const std::pair<std::string, std::string> names{request.namespace_name, request.name};
    if (decisions[i].has_value()) {
      out.push_back(admitted(key, decisions[i]->allocation, decisions[i]->placement, decisions[i]->explanation, names));
      continue;
    }
    const Error& error = decisions[i].error();
    out.push_back(api::ContainerExplanation{.pod_uid = key.pod_uid,
                                            .pod_namespace = names.first,
                                            .pod_name = names.second,
                                            .container = key.container_name,
                                            .admitted = false,
                                            .request = api::describeRequest(container),
                                            .qos = request.qos,
                                            .cpus = {},
                                            .mems = {},
                                            .exclusive_cpus = {},
                                            .explanation = error.message(),
                                            .reason = error.reason()});
  }
  return out;
}

}  // namespace topod::agent
