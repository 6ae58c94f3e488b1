// The topology-aware policy's invariants, checked on a State (see topology_aware_policy.h).
// Returns one line per violation; empty means the State is sound.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "policies/topology_aware/topology_aware_policy.h"
#include "topology/model.h"

namespace topod::policies::testing {

inline std::vector<std::string> invariantViolations(const topology::Topology& topology,
                                                    const TopologyAwarePolicy& policy, const State& state) {
  std::vector<std::string> problems;
  const topology_aware::Pools& pools = policy.pools();
  CpuSet exclusive;
  std::map<int, std::map<std::string, uint64_t>> charged;
  for (const auto& [key, alloc] : state.containers()) {
    std::string who = key.pod_uid + "/" + key.container_name;
    if (exclusive.intersects(alloc.exclusive_cpus)) {
      problems.push_back(who + ": CPUs " + (exclusive & alloc.exclusive_cpus).toString() + " exclusive twice");
    }
    exclusive |= alloc.exclusive_cpus;
    if (alloc.exclusive_cpus.intersects(pools.reserved)) problems.push_back(who + ": reserved CPU exclusive");
    bool isolated = alloc.exclusive_cpus.intersects(topology.isolatedCpus());
    if (isolated && !alloc.exclusive_cpus.isSubsetOf(topology.isolatedCpus())) {
      problems.push_back(who + ": mixes isolated and ordinary CPUs");
    }
    if (!alloc.exclusive_cpus.empty()) {
      NodeSet cpu_nodes;
      for (int cpu : alloc.exclusive_cpus) cpu_nodes.insert(topology.numaOf(cpu));
      if (!cpu_nodes.isSubsetOf(alloc.memory_nodes)) {
        problems.push_back(who + ": cpuset.mems " + alloc.memory_nodes.toString() + " misses CPU nodes " +
                           cpu_nodes.toString());
      }
      if (!alloc.shared_pool_nodes.empty()) problems.push_back(who + ": exclusive and in a shared pool");
    }
    for (const auto& [node, resources] : alloc.memory) {
      if (!alloc.memory_nodes.contains(node)) {
        problems.push_back(who + ": memory charged on node " + std::to_string(node) + " outside its mems");
      }
      for (const auto& [resource, bytes] : resources) charged[node][resource] += bytes;
    }
  }
  CpuSet shared = policy.sharedCpus(state);
  if (shared != pools.shared_universe - exclusive) {
    problems.push_back("shared CPUs " + shared.toString() + " != shared universe - exclusive " +
                       (pools.shared_universe - exclusive).toString());
  }
  if (shared.intersects(topology.isolatedCpus())) problems.push_back("isolated CPUs in the shared pool");
  if (shared.empty()) problems.push_back("shared pool empty");
  for (const auto& [node, resources] : charged) {
    for (const auto& [resource, bytes] : resources) {
      uint64_t cap = 0;
      auto n = pools.capacity.find(node);
      if (n != pools.capacity.end() && n->second.contains(resource)) cap = n->second.at(resource);
      if (bytes > cap) {
        problems.push_back(resource + " on node " + std::to_string(node) + ": " + std::to_string(bytes) +
                           " charged, capacity " + std::to_string(cap));
      }
    }
  }
  for (const auto& [key, placement] : policy.placements(state)) {
    if (placement.cpus.empty()) problems.push_back(key.pod_uid + "/" + key.container_name + ": placed on no CPU");
  }
  return problems;
}

}  // namespace topod::policies::testing
