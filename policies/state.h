// The allocation state policies decide over: who holds which CPUs and how much memory on which
// NUMA node. Plain data; the invariant checker and the versioned JSON form live beside it
// (state_check.h, state_json.h). Policies read a State and return a decision; the agent applies
// the decision and only then commits the new State.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/cpuset.h"
#include "policies/request.h"

namespace topod::policies {

struct ContainerAllocation {
  // Exclusive CPUs; empty means the container runs in a shared pool.
  CpuSet exclusive_cpus;
  // For shared containers of policies with several shared pools (topology-aware), the NUMA
  // nodes whose shared pool the container runs in; empty for the one node-wide shared pool.
  NodeSet shared_pool_nodes;
  // NUMA nodes for cpuset.mems; empty means all nodes.
  NodeSet memory_nodes;
  // NUMA node -> resource ("memory", "hugepages-2Mi", ...) -> bytes charged there.
  std::map<int, std::map<std::string, uint64_t>> memory;
  // The request the allocation was made for (resize compares against it; restore replays it).
  ContainerRequest request;
  QosClass qos = QosClass::BestEffort;
  friend bool operator==(const ContainerAllocation&, const ContainerAllocation&) = default;
};

struct State {
  std::map<ContainerKey, ContainerAllocation> containers;
  friend bool operator==(const State&, const State&) = default;
};

}  // namespace topod::policies
