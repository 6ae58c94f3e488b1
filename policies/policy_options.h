// Everything a policy is configured with. Plain data: the agent's TOML config (config/config.h)
// and the simulator fill it; policies only read it. Defaults match the kubelet's usual
// production setting: static CPU manager, Static memory manager off, topology manager
// best-effort at container scope.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/cpuset.h"

namespace topod::policies {

// kubelet CPU manager static-policy options (--cpu-manager-policy-options), same meanings.
struct StaticCpuOptions {
  bool full_pcpus_only = false;
  bool distribute_cpus_across_numa = false;
  bool align_by_socket = false;
  bool distribute_cpus_across_cores = false;
  bool strict_cpu_reservation = false;
  bool prefer_align_cpus_by_uncorecache = false;
  friend bool operator==(const StaticCpuOptions&, const StaticCpuOptions&) = default;
};

enum class TopologyManagerPolicy { None, BestEffort, Restricted, SingleNumaNode };
enum class TopologyManagerScope { Container, Pod };

struct TopologyManagerOptions {
  TopologyManagerPolicy policy = TopologyManagerPolicy::BestEffort;
  TopologyManagerScope scope = TopologyManagerScope::Container;
  bool prefer_closest_numa_nodes = false;
  // The kubelet refuses to run the topology manager on machines with more NUMA nodes than this.
  int max_allowable_numa_nodes = 8;
  friend bool operator==(const TopologyManagerOptions&, const TopologyManagerOptions&) = default;
};

enum class MemoryManagerPolicy { None, Static };

struct PolicyOptions {
  // "none" (no pinning), "static" (kubelet-compatible CPU + memory + topology managers) or
  // "topology-aware" (topod's own placement). See policies/policy_registry.h.
  std::string policy = "static";
  StaticCpuOptions cpu;
  // CPUs never handed out exclusively. Either an explicit list or a count the policy picks
  // (the kubelet's kube-reserved + system-reserved CPU, rounded up); the list wins when set.
  CpuSet reserved_cpus;
  int reserved_cpu_count = 0;
  MemoryManagerPolicy memory_policy = MemoryManagerPolicy::None;
  // NUMA node -> resource ("memory", "hugepages-2Mi") -> bytes reserved for the system.
  std::map<int, std::map<std::string, uint64_t>> reserved_memory;
  TopologyManagerOptions topology_manager;
  friend bool operator==(const PolicyOptions&, const PolicyOptions&) = default;
};

}  // namespace topod::policies
