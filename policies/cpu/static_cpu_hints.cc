// Topology hints of the static CPU policy (the kubelet's GetTopologyHints, GetPodTopologyHints
// and generateCPUTopologyHints).
#include <functional>
#include <string>
#include <vector>

#include "policies/cpu/static_cpu_policy.h"

namespace topod::policies::cpu {

namespace {

// Every non-empty subset of `ids`, by size then lexicographically (bitmask.IterateBitMasks).
void iterateMasks(const std::vector<int>& ids, const std::function<void(const NodeSet&)>& callback) {
  std::vector<int> accum;
  std::function<void(std::size_t, std::size_t)> iterate = [&](std::size_t start, std::size_t size) {
    if (accum.size() == size) {
      callback(NodeSet::fromIds(accum));
      return;
    }
    for (std::size_t i = start; i < ids.size(); ++i) {
      accum.push_back(ids[i]);
      iterate(i + 1, size);
      accum.pop_back();
    }
  };
  for (std::size_t size = 1; size <= ids.size(); ++size) iterate(0, size);
}

ResourceHints cpuHints(std::vector<TopologyHint> hints) {
  ResourceHints result;
  result[std::string(kCpuResource)] = std::move(hints);
  return result;
}

}  // namespace

bool StaticCpuPolicy::isHintSocketAligned(const NodeSet& affinity, int min_affinity_size) const {
  const int numa_per_socket = topo_.numSockets() == 0 ? 0 : topo_.numNumaNodes() / topo_.numSockets();
  if (numa_per_socket == 0) return false;
  const int min_sockets = (min_affinity_size + numa_per_socket - 1) / numa_per_socket;
  NodeSet sockets;  // socket ids fit a small id set; NodeSet is only a container here
  for (int cpu : topo_.cpusInNumaNodes(affinity)) sockets.insert(topo_.socketOf(cpu));
  return sockets.size() == min_sockets;
}

std::vector<TopologyHint> StaticCpuPolicy::generateCpuTopologyHints(const CpuSet& available, const CpuSet& reusable,
                                                                    int request) const {
  const NodeSet numa_nodes = topo_.numaNodes();
  int min_affinity_size = numa_nodes.size();
  std::vector<TopologyHint> hints;
  iterateMasks(numa_nodes.toVector(), [&](const NodeSet& mask) {
    const CpuSet in_mask = topo_.cpusInNumaNodes(mask);
    if (in_mask.size() >= request && mask.size() < min_affinity_size) min_affinity_size = mask.size();
    // Every reusable CPU must lie inside the mask for the mask to be usable at all.
    if (!reusable.isSubsetOf(in_mask)) return;
    const int matching = reusable.size() + (available & in_mask).size();
    if (matching < request) return;
    hints.push_back(TopologyHint{.affinity = mask, .preferred = false});
  });
  for (TopologyHint& hint : hints) {
    if (options_.align_by_socket && isHintSocketAligned(hint.affinity, min_affinity_size)) {
      hint.preferred = true;
      continue;
    }
    if (hint.affinity.size() == min_affinity_size) hint.preferred = true;
  }
  return hints;
}

ResourceHints StaticCpuPolicy::containerHints(const State& state, const PodRequest& pod,
                                              const ContainerRequest& container) const {
  const int requested = guaranteedCpus(pod, container);
  // Shared containers have no NUMA preference.
  if (requested == 0) return {};
  auto existing = state.containers().find(ContainerKey{pod.uid, container.name});
  if (existing != state.containers().end() && !existing->second.exclusive_cpus.empty()) {
    const CpuSet& allocated = existing->second.exclusive_cpus;
    // Already placed (e.g. after a restart): regenerate the hints of what it holds; a size
    // mismatch cannot be satisfied.
    if (allocated.size() != requested) return cpuHints({});
    return cpuHints(generateCpuTopologyHints(allocated, CpuSet{}, requested));
  }
  return cpuHints(generateCpuTopologyHints(availableCpus(state), reusableCpus(state, pod.uid), requested));
}

ResourceHints StaticCpuPolicy::podHints(const State& state, const PodRequest& pod) const {
  const int requested = podGuaranteedCpus(pod);
  if (requested == 0) return {};
  CpuSet assigned;
  for (const ContainerRequest& container : pod.containers) {
    auto existing = state.containers().find(ContainerKey{pod.uid, container.name});
    if (existing == state.containers().end() || existing->second.exclusive_cpus.empty()) continue;
    if (existing->second.exclusive_cpus.size() != guaranteedCpus(pod, container)) return cpuHints({});
    assigned |= existing->second.exclusive_cpus;
  }
  if (assigned.size() == requested) return cpuHints(generateCpuTopologyHints(assigned, CpuSet{}, requested));
  return cpuHints(generateCpuTopologyHints(availableCpus(state), reusableCpus(state, pod.uid) | assigned, requested));
}

}  // namespace topod::policies::cpu
