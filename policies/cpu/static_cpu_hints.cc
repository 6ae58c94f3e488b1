// Topology hints of the static CPU policy (the kubelet's GetTopologyHints, GetPodTopologyHints
// and generateCPUTopologyHints).
#include <algorithm>
#include <string>
#include <vector>

#include "policies/cpu/static_cpu_policy.h"

namespace topod::policies::cpu {

namespace {

// Every non-empty subset of the positions 0..count-1, by size then lexicographically
// (bitmask.IterateBitMasks), handed over as the ascending positions it holds.
template <typename Callback>
void iterateMasks(std::size_t count, Callback&& callback) {
  std::vector<std::size_t> pick;
  for (std::size_t size = 1; size <= count; ++size) {
    pick.resize(size);
    for (std::size_t i = 0; i < size; ++i) pick[i] = i;
    while (true) {
      callback(static_cast<const std::vector<std::size_t>&>(pick));
      // The next combination in lexicographic order.
      std::size_t i = size;
      while (i > 0 && pick[i - 1] == count - size + (i - 1)) --i;
      if (i == 0) break;
      ++pick[i - 1];
      for (std::size_t j = i; j < size; ++j) pick[j] = pick[j - 1] + 1;
    }
  }
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
  const std::vector<int> ids = topo_.numaNodes().toVector();
  // The NUMA nodes' CPU sets are disjoint, so a mask's counts are sums of per-node counts taken
  // once here, instead of a CPU set built for each of the 2^nodes masks.
  std::vector<int> cpus_in(ids.size());
  std::vector<int> available_in(ids.size());
  std::vector<bool> holds_reusable(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const CpuSet& node_cpus = topo_.cpusInNuma(ids[i]);
    cpus_in[i] = node_cpus.size();
    available_in[i] = (available & node_cpus).size();
    holds_reusable[i] = reusable.intersects(node_cpus);
  }
  // A reusable CPU on no NUMA node lies in no mask.
  const bool reusable_placeable = reusable.isSubsetOf(topo_.cpus());
  const auto reusable_nodes = std::count(holds_reusable.begin(), holds_reusable.end(), true);
  int min_affinity_size = static_cast<int>(ids.size());
  std::vector<TopologyHint> hints;
  std::vector<int> sizes;  // nodes per hint, known here without counting them again
  hints.reserve((std::size_t{1} << std::min<std::size_t>(ids.size(), 16)) - 1);
  iterateMasks(ids.size(), [&](const std::vector<std::size_t>& mask) {
    int in_mask = 0;
    int matching = reusable.size();
    for (std::size_t i : mask) {
      in_mask += cpus_in[i];
      matching += available_in[i];
    }
    const int mask_size = static_cast<int>(mask.size());
    if (in_mask >= request && mask_size < min_affinity_size) min_affinity_size = mask_size;
    // Every reusable CPU must lie inside the mask for the mask to be usable at all.
    if (!reusable_placeable) return;
    auto reusable_nodes_in_mask = std::count_if(mask.begin(), mask.end(), [&](std::size_t i) { return holds_reusable[i]; });
    if (reusable_nodes_in_mask != reusable_nodes) return;
    if (matching < request) return;
    TopologyHint& hint = hints.emplace_back();
    if (ids.back() < 64) {
      // Every id fits one word: set the bits at once rather than inserting node by node.
      uint64_t bits = 0;
      for (std::size_t i : mask) bits |= uint64_t{1} << ids[i];
      hint.affinity = NodeSet::fromWord(bits);
    } else {
      for (std::size_t i : mask) hint.affinity.insert(ids[i]);
    }
    sizes.push_back(mask_size);
  });
  for (std::size_t i = 0; i < hints.size(); ++i) {
    TopologyHint& hint = hints[i];
    if (options_.align_by_socket && isHintSocketAligned(hint.affinity, min_affinity_size)) {
      hint.preferred = true;
      continue;
    }
    if (sizes[i] == min_affinity_size) hint.preferred = true;
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

ResourceHints StaticCpuPolicy::podHintsWithoutPod(const State& state, const PodRequest& pod) const {
  // podHints() on a State without the pod: nothing of the pod is assigned or reusable, and the
  // CPUs only the pod held are available again.
  const int requested = podGuaranteedCpus(pod);
  if (requested == 0) return {};
  CpuSet pool = topo_.cpus() - state.exclusiveCpusWithoutPod(pod.uid);
  if (options_.strict_cpu_reservation) pool -= reserved_;
  return cpuHints(generateCpuTopologyHints(pool - reserved_, CpuSet{}, requested));
}

}  // namespace topod::policies::cpu
