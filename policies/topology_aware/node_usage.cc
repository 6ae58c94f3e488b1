#include "policies/topology_aware/node_usage.h"

#include <algorithm>
#include <limits>
#include <set>

#include "policies/topology_aware/node_choice.h"

namespace topod::policies::topology_aware {

namespace {

constexpr uint64_t kUnaccounted = std::numeric_limits<uint64_t>::max();

// Whole cores in ascending NUMA node, then core order: the kubelet's packed order for reserving.
CpuSet pickReservedCpus(const topology::Topology& topology, const CpuSet& candidates, int count) {
  std::vector<const topology::Core*> cores;
  for (const topology::Core& core : topology.cores()) cores.push_back(&core);
  std::stable_sort(cores.begin(), cores.end(),
                   [](const topology::Core* a, const topology::Core* b) { return a->numa < b->numa; });
  CpuSet picked;
  for (const topology::Core* core : cores) {
    for (int cpu : core->cpus& candidates) {
      if (picked.size() == count) return picked;
      picked.insert(cpu);
    }
  }
  return picked;
}

}  // namespace

Result<Pools> makePools(const topology::Topology& topology, const PolicyOptions& options) {
  Pools pools;
  const CpuSet& online = topology.onlineCpus();
  pools.isolated = topology.isolatedCpus();
  pools.shared_universe = online - pools.isolated;
  if (pools.shared_universe.empty()) {
    return Error::invalidArgument("topology-aware: every online CPU (" + online.toString() +
                                  ") is isolated; the shared pool would be empty");
  }
  if (!options.reserved_cpus.empty()) {
    if (!options.reserved_cpus.isSubsetOf(online)) {
      return Error::invalidArgument("topology-aware: reserved CPUs " + options.reserved_cpus.toString() +
                                    " are not all online (online: " + online.toString() + ")");
    }
    pools.reserved = options.reserved_cpus;
  } else if (options.reserved_cpu_count < 0 || options.reserved_cpu_count > pools.shared_universe.size()) {
    return Error::invalidArgument("topology-aware: reserved CPU count " + std::to_string(options.reserved_cpu_count) +
                                  " is outside 0.." + std::to_string(pools.shared_universe.size()) +
                                  " (non-isolated online CPUs)");
  } else {
    pools.reserved = pickReservedCpus(topology, pools.shared_universe, options.reserved_cpu_count);
  }
  pools.exclusive_universe = pools.shared_universe - pools.reserved;
  pools.isolated_exclusive = pools.isolated - pools.reserved;
  // strict-cpu-reservation: reserved CPUs serve the system only, no container pool at all.
  if (options.cpu.strict_cpu_reservation) pools.shared_universe -= pools.reserved;
  if (pools.shared_universe.empty()) {
    return Error::invalidArgument("topology-aware: strict-cpu-reservation with reserved CPUs " +
                                  pools.reserved.toString() + " leaves no CPU for the shared pools");
  }

  bool any_memory_size = false;
  for (const topology::NumaNode& node : topology.numaNodes()) {
    if (node.memory_bytes > 0) any_memory_size = true;
    if (!node.cpus.empty()) pools.cpu_nodes.insert(node.id);
  }
  for (const topology::NumaNode& node : topology.numaNodes()) {
    MemoryAmounts& cap = pools.capacity[node.id];
    uint64_t hugepage_bytes = 0;
    for (const auto& [page_size, pages] : node.hugepages) {
      cap[hugepageResourceName(page_size)] = page_size * pages;
      hugepage_bytes += page_size * pages;
    }
    if (!any_memory_size) continue;
    // The kernel carves the huge page pools out of the node's memory (hwloc's size, like
    // MemTotal, still counts them): what is left is what ordinary pages can use. The static
    // memory manager subtracts them too (policies/static/memory/machine_state.cc).
    if (hugepage_bytes > node.memory_bytes) {
      return Error::invalidArgument("topology-aware: NUMA node " + std::to_string(node.id) + " has " +
                                    std::to_string(hugepage_bytes) + " bytes of huge pages, more than its memory (" +
                                    std::to_string(node.memory_bytes) + " bytes)");
    }
    cap[kResourceMemory] = node.memory_bytes - hugepage_bytes;
  }
  for (const auto& [node, resources] : options.reserved_memory) {
    auto it = pools.capacity.find(node);
    if (it == pools.capacity.end()) {
      return Error::invalidArgument("topology-aware: reserved memory on NUMA node " + std::to_string(node) +
                                    ", which does not exist");
    }
    for (const auto& [resource, bytes] : resources) {
      auto cap = it->second.find(resource);
      if (cap == it->second.end()) {
        if (resource == kResourceMemory && !any_memory_size) continue;  // memory not accounted here
        if (bytes == 0) continue;
        return Error::invalidArgument("topology-aware: reserved " + resource + " on NUMA node " + std::to_string(node) +
                                      ", which has none");
      }
      if (bytes > cap->second) {
        return Error::invalidArgument("topology-aware: reserved " + resource + " on NUMA node " + std::to_string(node) +
                                      " (" + std::to_string(bytes) + " bytes) exceeds its capacity (" +
                                      std::to_string(cap->second) + " bytes)");
      }
      cap->second -= bytes;
    }
  }
  // Sets grown from different nodes often coincide (on 64 nodes 4,096 sets, most of them
  // repeated): each is kept once, where it first appears, since every decision reads them all.
  std::set<NodeSet> seen;
  for (NodeSet& set : candidateSets(topology, pools.cpu_nodes, {})) {
    if (!seen.insert(set).second) continue;
    int distance = distanceSum(topology, set);
    pools.candidates.emplace_back(std::move(set), distance);
  }
  return pools;
}

Usage computeUsage(const Pools& pools, const topology::Topology& topology, const StateTotals& totals) {
  Usage usage;
  usage.exclusive = totals.exclusive_cpus;
  for (const auto& [node, cap] : pools.capacity) {
    // A restored state may name CPUs that went offline; they are simply not counted on a node.
    usage.nodes[node].exclusive = totals.exclusive_cpus & topology.cpusOfNuma(node);
  }
  for (const auto& [node, resources] : totals.memory) usage.nodes[node].charged = resources;
  for (const auto& [node, load] : totals.shared_pools) {
    usage.nodes[node].pinned_shared = load.containers;
    usage.nodes[node].pinned_millis = load.cpu_request_millis;
  }
  return usage;
}

uint64_t freeMemory(const Pools& pools, const Usage& usage, int node, const std::string& resource) {
  if (resource == kResourceMemory && pools.capacity.begin() != pools.capacity.end() &&
      !pools.capacity.begin()->second.contains(kResourceMemory)) {
    return kUnaccounted;
  }
  auto cap_node = pools.capacity.find(node);
  if (cap_node == pools.capacity.end()) return 0;
  auto cap = cap_node->second.find(resource);
  if (cap == cap_node->second.end()) return 0;
  uint64_t used = 0;
  auto use_node = usage.nodes.find(node);
  if (use_node != usage.nodes.end()) {
    auto it = use_node->second.charged.find(resource);
    if (it != use_node->second.charged.end()) used = it->second;
  }
  return used >= cap->second ? 0 : cap->second - used;
}

bool memoryFits(const Pools& pools, const Usage& usage, const NodeSet& nodes, const MemoryAmounts& need) {
  for (const auto& [resource, bytes] : need) {
    if (bytes == 0) continue;
    uint64_t free = 0;
    for (int node : nodes) {
      uint64_t f = freeMemory(pools, usage, node, resource);
      if (f == kUnaccounted) {
        free = kUnaccounted;
        break;
      }
      free += f;
    }
    if (free < bytes) return false;
  }
  return true;
}

std::map<int, MemoryAmounts> chargeMemory(const Pools& pools, const Usage& usage, const std::vector<int>& node_order,
                                          const MemoryAmounts& need) {
  std::map<int, MemoryAmounts> charges;
  for (const auto& [resource, bytes] : need) {
    uint64_t left = bytes;
    for (int node : node_order) {
      if (left == 0) break;
      uint64_t free = freeMemory(pools, usage, node, resource);
      if (free == kUnaccounted) break;
      uint64_t take = std::min(free, left);
      if (take > 0) charges[node][resource] += take;
      left -= take;
    }
  }
  return charges;
}

MemoryAmounts memoryNeed(QosClass qos, const ContainerRequest& container) {
  MemoryAmounts need;
  uint64_t memory = 0;
  switch (qos) {
    case QosClass::Guaranteed: memory = std::max(container.memory_request_bytes, container.memory_limit_bytes); break;
    case QosClass::Burstable: memory = container.memory_request_bytes; break;
    case QosClass::BestEffort: break;
  }
  if (memory > 0) need[kResourceMemory] = memory;
  for (const auto& [page_size, bytes] : container.hugepages) {
    if (bytes > 0) need[hugepageResourceName(page_size)] += bytes;
  }
  return need;
}

}  // namespace topod::policies::topology_aware
