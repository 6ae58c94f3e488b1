// Which NUMA node(s) a container goes to. Exclusive containers: the narrowest set of nodes that
// holds the CPUs, memory and devices, best fit among equals. Shared containers: the node of their
// devices, else the node whose shared pool is least crowded and holds their memory.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/cpuset.h"
#include "common/result.h"
#include "policies/topology_aware/node_usage.h"
#include "topology/model.h"

namespace topod::policies::topology_aware {

struct NodeChoice {
  // Nodes in the order CPUs and memory are taken from them (primary node first).
  std::vector<int> order;
  NodeSet nodes;
  std::string explanation;  // candidates considered and why these won
};

struct ExclusiveAsk {
  int cpus = 0;
  MemoryAmounts memory;
  NodeSet device_nodes;        // NUMA nodes of the container's devices (must be included)
  std::map<int, CpuSet> free;  // per CPU node: CPUs this request may take
  // At most this many NUMA nodes (0: any number). The topology manager policy sets it:
  // single-numa-node 1, restricted the narrowest count that could ever hold the request.
  int max_nodes = 0;
  std::string max_nodes_rule;  // the policy that set max_nodes, for the refusal message
};

// The fewest NUMA nodes that could hold `cpus` CPUs of `universe` (and the device nodes) on an
// empty machine: what the kubelet's CPU hint calls preferred. 0 when no set could.
int narrowestPossible(const topology::Topology& topology, const Pools& pools, const CpuSet& universe, int cpus,
                      const NodeSet& device_nodes);

// Error (ResourceExhausted) when no set of nodes holds the request; the message lists the best
// candidates and what they lack.
Result<NodeChoice> chooseExclusiveNodes(const topology::Topology& topology, const Pools& pools, const Usage& usage,
                                        const ExclusiveAsk& ask);

struct SharedAsk {
  int64_t cpu_millis = 0;  // the container's CPU request
  MemoryAmounts memory;
  NodeSet device_nodes;
  std::map<int, CpuSet> shared;  // per CPU node: the CPUs of its shared pool now
};

// Never fails: when no node (or set of nodes) holds the memory, the container goes to the
// node-wide pool (empty `nodes`) and nothing is charged.
NodeChoice chooseSharedNodes(const topology::Topology& topology, const Pools& pools, const Usage& usage,
                             const SharedAsk& ask);

// The NUMA node sets an exclusive container may be placed on, each containing `required`: every
// subset of `cpu_nodes` (up to 12 nodes), else sets grown from each node by distance.
std::vector<NodeSet> candidateSets(const topology::Topology& topology, const NodeSet& cpu_nodes,
                                   const NodeSet& required);

// Sum of the pairwise distances between the nodes (the closeness of a set).
int distanceSum(const topology::Topology& topology, const NodeSet& nodes);

// The primary node first, then the others by distance from it (closest first), then by id.
std::vector<int> orderByDistance(const topology::Topology& topology, int primary, const NodeSet& nodes);

}  // namespace topod::policies::topology_aware
