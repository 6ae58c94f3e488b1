#include "policies/policy_registry.h"

#include "policies/none_policy.h"
#include "policies/state_check.h"
#include "policies/static/cpu/kubelet_cpu_topology.h"
#include "policies/static/cpu/static_cpu_policy.h"
#include "policies/static/kubelet_static_policy.h"
#include "policies/topology_aware/topology_aware_policy.h"

namespace topod::policies {

namespace {

using Factory = Result<std::unique_ptr<Policy>> (*)(const topology::Topology&, const PolicyOptions&);

struct Entry {
  PolicyInfo info;
  Factory make;
};

Result<std::unique_ptr<Policy>> makeNone(const topology::Topology& topology, const PolicyOptions& /*options*/) {
  return std::unique_ptr<Policy>(std::make_unique<NonePolicy>(topology));
}

// The one place that lists the policies: adding a policy is adding a line here.
const std::vector<Entry>& entries() {
  static const std::vector<Entry> kEntries = {
      {{"none", "no pinning: every container runs on all online CPUs and all memory nodes"}, &makeNone},
      {{"static",
        "kubelet-compatible: topology manager + static CPU manager (+ Static memory manager), same CPUs as "
        "the kubelet"},
       &makeKubeletStaticPolicy},
      {{"topology-aware", "topod's own placement: best-fit NUMA/L3, device locality, per-NUMA shared pools"},
       &makeTopologyAwarePolicy},
  };
  return kEntries;
}

Error invalidOption(const std::string& message) {
  return Error::invalidArgument("policy options: " + message);
}

bool anyCpuOption(const StaticCpuOptions& cpu) {
  return cpu != StaticCpuOptions{};
}

Status validateReservations(const topology::Topology& topology, const PolicyOptions& options) {
  const int online = topology.onlineCpus().size();
  CpuSet not_online = options.reserved_cpus - topology.onlineCpus();
  if (!not_online.empty()) {
    return invalidOption("reserved CPUs " + not_online.toString() +
                         " are not online (online: " + topology.onlineCpus().toString() + ")");
  }
  if (options.reserved_cpu_count < 0) {
    return invalidOption("reserved CPU count " + std::to_string(options.reserved_cpu_count) + " is negative");
  }
  if (options.reserved_cpu_count > online) {
    return invalidOption("reserved CPU count " + std::to_string(options.reserved_cpu_count) + " exceeds the " +
                         std::to_string(online) + " online CPUs");
  }
  if (options.reserved_cpus.size() >= online && online > 0) {
    return invalidOption("reserved CPUs " + options.reserved_cpus.toString() + " leave no CPU for containers");
  }
  for (const auto& [node, resources] : options.reserved_memory) {
    const topology::NumaNode* numa = topology.numaNode(node);
    if (numa == nullptr) {
      return invalidOption("memory reserved on NUMA node " + std::to_string(node) +
                           ", which does not exist (nodes: " + topology.numaNodeIds().toString() + ")");
    }
    for (const auto& [resource, bytes] : resources) {
      auto capacity = memoryCapacity(*numa, resource);
      if (!capacity.has_value())
        return invalidOption("reserved memory on NUMA node " + std::to_string(node) + ": " +
                             capacity.error().message());
      if (bytes > *capacity) {
        return invalidOption("reserved " + resource + " on NUMA node " + std::to_string(node) + " (" +
                             std::to_string(bytes) + " bytes) exceeds its capacity (" + std::to_string(*capacity) +
                             " bytes)");
      }
    }
  }
  if (options.topology_manager.max_allowable_numa_nodes <= 0) {
    return invalidOption("topology manager max-allowable-numa-nodes must be positive, got " +
                         std::to_string(options.topology_manager.max_allowable_numa_nodes));
  }
  return okStatus();
}

}  // namespace

const std::vector<PolicyInfo>& knownPolicies() {
  static const std::vector<PolicyInfo> kInfos = [] {
    std::vector<PolicyInfo> infos;
    for (const Entry& entry : entries()) infos.push_back(entry.info);
    return infos;
  }();
  return kInfos;
}

std::string knownPolicyList() {
  std::string list;
  for (const PolicyInfo& info : knownPolicies()) list += (list.empty() ? "" : ", ") + std::string(info.name);
  return list;
}

Status validatePolicyOptions(const topology::Topology& topology, const PolicyOptions& options) {
  TOPOD_RETURN_IF_ERROR(validateReservations(topology, options));
  if (options.policy == "none") {
    // Nothing is pinned under "none": options that only change pinning would be silently ignored.
    if (anyCpuOption(options.cpu))
      return invalidOption("CPU options need policy \"static\" or \"topology-aware\", not \"none\"");
    if (options.memory_policy == MemoryManagerPolicy::Static) {
      return invalidOption("memory policy Static needs policy \"static\" or \"topology-aware\", not \"none\"");
    }
    return okStatus();
  }
  if (options.policy == "static" && options.reserved_cpus.empty() && options.reserved_cpu_count == 0) {
    // The kubelet refuses to start its static CPU manager without reserved CPUs.
    return invalidOption(
        "the static policy needs at least one reserved CPU (reserved_cpus or reserved_cpu_count), "
        "as the kubelet requires system-reserved + kube-reserved CPU above zero");
  }
  // The kubelet's own incompatibilities, with its messages: the check the static CPU policy runs.
  Status cpu = cpu::validateStaticCpuOptions(options.cpu, cpu::KubeletCpuTopology::fromTopology(topology),
                                             options.topology_manager.policy);
  if (!cpu.has_value()) return invalidOption(cpu.error().message());
  return okStatus();
}

Result<std::unique_ptr<Policy>> makePolicy(const topology::Topology& topology, const PolicyOptions& options) {
  for (const Entry& entry : entries()) {
    if (entry.info.name != options.policy) continue;
    TOPOD_RETURN_IF_ERROR(validatePolicyOptions(topology, options));
    return entry.make(topology, options);
  }
  return Error::invalidArgument("unknown policy \"" + options.policy + "\" (known: " + knownPolicyList() + ")");
}

}  // namespace topod::policies
