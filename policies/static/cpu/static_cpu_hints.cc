// Topology hints of the static CPU policy (the kubelet's GetTopologyHints, GetPodTopologyHints
// and generateCPUTopologyHints).
#include <algorithm>
#include <string>
#include <vector>

#include "policies/static/cpu/static_cpu_policy.h"
#include "policies/static/topology_manager/numa_mask.h"

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
  if (ids.size() > topology_manager::kExhaustiveMaskNodes) {
    return boundedCpuTopologyHints(ids, cpus_in, available_in, holds_reusable, reusable_placeable, reusable.size(),
                                   request);
  }
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
    auto reusable_nodes_in_mask =
        std::count_if(mask.begin(), mask.end(), [&](std::size_t i) { return holds_reusable[i]; });
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

std::vector<TopologyHint> StaticCpuPolicy::boundedCpuTopologyHints(
    const std::vector<int>& ids, const std::vector<int>& cpus_in, const std::vector<int>& available_in,
    const std::vector<bool>& holds_reusable, bool reusable_placeable, int reusable_count, int request) const {
  // The kubelet's rules over the runs of consecutive node ids (topology_manager::forEachRun)
  // instead of every mask: prefix sums make each run O(1).
  const std::size_t n = ids.size();
  std::vector<int> cpus_before(n + 1, 0);
  std::vector<int> available_before(n + 1, 0);
  std::vector<int> reusable_before(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    cpus_before[i + 1] = cpus_before[i] + cpus_in[i];
    available_before[i + 1] = available_before[i] + available_in[i];
    reusable_before[i + 1] = reusable_before[i] + (holds_reusable[i] ? 1 : 0);
  }
  const int reusable_nodes = reusable_before[n];
  // The narrowest run whose CPUs could hold the request at all: what "preferred" means.
  int min_affinity_size = static_cast<int>(n);
  topology_manager::forEachRun(n, [&](std::size_t start, std::size_t size) {
    if (cpus_before[start + size] - cpus_before[start] < request) return true;
    min_affinity_size = static_cast<int>(size);
    return false;
  });
  auto usable = [&](std::size_t start, std::size_t size) {
    if (!reusable_placeable) return false;
    if (reusable_before[start + size] - reusable_before[start] != reusable_nodes) return false;
    return available_before[start + size] - available_before[start] + reusable_count >= request;
  };
  auto runOf = [&](std::size_t start, std::size_t size) {
    NodeSet nodes;
    for (std::size_t i = start; i < start + size; ++i) nodes.insert(ids[i]);
    return nodes;
  };
  std::vector<TopologyHint> hints;
  if (options_.align_by_socket) {
    // Preferred too: runs of any width on as few sockets as the narrowest run needs.
    std::vector<NodeSet> sockets_of(n);
    for (std::size_t i = 0; i < n; ++i) {
      for (int cpu : topo_.cpusInNuma(ids[i])) sockets_of[i].insert(topo_.socketOf(cpu));
    }
    const int numa_per_socket = topo_.numSockets() == 0 ? 0 : topo_.numNumaNodes() / topo_.numSockets();
    const int min_sockets = numa_per_socket == 0 ? -1 : (min_affinity_size + numa_per_socket - 1) / numa_per_socket;
    topology_manager::forEachRun(n, [&](std::size_t start, std::size_t size) {
      if (!usable(start, size)) return true;
      NodeSet sockets;
      for (std::size_t i = start; i < start + size; ++i) sockets |= sockets_of[i];
      const bool aligned = sockets.size() == min_sockets;
      if (aligned || static_cast<int>(size) == min_affinity_size || size == n) {
        hints.push_back({runOf(start, size), aligned || static_cast<int>(size) == min_affinity_size});
      }
      return true;
    });
    return hints;
  }
  // The narrowest runs that fit now (preferred), then every node (not preferred unless the
  // request needs them all): whatever the other resources want, the merge can fall back on it.
  const std::size_t width = static_cast<std::size_t>(min_affinity_size);
  for (std::size_t start = 0; start + width <= n; ++start) {
    if (usable(start, width)) hints.push_back({runOf(start, width), true});
  }
  if (width < n && usable(0, n)) hints.push_back({runOf(0, n), false});
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
