// Per-NUMA bookkeeping for the topology-aware policy: which CPUs may be handed out (pools), and,
// for one State, what each NUMA node still has free (CPUs, memory, huge pages). Pure values,
// derived from the State's totals on every decision so the policy never remembers anything.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/cpuset.h"
#include "common/result.h"
#include "policies/policy_options.h"
#include "policies/request.h"
#include "policies/state.h"
#include "topology/model.h"

namespace topod::policies::topology_aware {

// Resource name ("memory", "hugepages-2Mi") -> bytes.
using MemoryAmounts = std::map<std::string, uint64_t>;

// The CPU pools, fixed for one (Topology, PolicyOptions).
struct Pools {
  CpuSet reserved;            // in the shared pools, never exclusive
  CpuSet isolated;            // never shared; exclusive only for pods that ask (annotation)
  CpuSet isolated_exclusive;  // isolated - reserved: what those pods may get (a reserved CPU never)
  CpuSet shared_universe;     // online - isolated: what the shared pools are carved from
  CpuSet exclusive_universe;  // online - isolated - reserved: ordinary exclusive candidates
  // NUMA node -> resource -> bytes containers may be charged (capacity - reserved memory).
  // "memory" is absent for every node when the topology reports no memory sizes at all: memory
  // is then not accounted (see docs/policies/topology-aware.md).
  std::map<int, MemoryAmounts> capacity;
  NodeSet cpu_nodes;  // NUMA nodes that have CPUs (memory-only nodes never host containers)
  // candidateSets(topology, cpu_nodes, {}) with each set's sum of pairwise distances, in that
  // order: fixed for the machine, so worked out once rather than on every exclusive admission.
  std::vector<std::pair<NodeSet, int>> candidates;
};

// Validates the options against the topology (reserved CPUs online, count within range, reserved
// memory on existing nodes and within capacity) and derives the pools. A reserved count picks
// whole cores from the lowest-numbered NUMA node upwards, as the kubelet's packed order does.
Result<Pools> makePools(const topology::Topology& topology, const PolicyOptions& options);

// What a State uses, per NUMA node.
struct NodeUsage {
  CpuSet exclusive;           // CPUs of this node held exclusively
  MemoryAmounts charged;      // memory and huge pages charged here
  int pinned_shared = 0;      // shared containers whose pool includes this node
  int64_t pinned_millis = 0;  // their CPU requests, split evenly over their pool nodes
};

struct Usage {
  std::map<int, NodeUsage> nodes;  // every CPU node and every node with capacity has an entry
  CpuSet exclusive;                // union of all exclusive CPUs
};

// Usage of a State, from its totals (State::totals(), or State::totalsWithout() when resize
// re-plans a container against everything else): O(NUMA nodes), whatever the number of containers.
Usage computeUsage(const Pools& pools, const topology::Topology& topology, const StateTotals& totals);

// Free bytes of `resource` on `node`; UINT64_MAX when the resource is not accounted on this
// machine (memory without sizes).
uint64_t freeMemory(const Pools& pools, const Usage& usage, int node, const std::string& resource);

// Whether `need` fits in the free memory of `nodes` taken together.
bool memoryFits(const Pools& pools, const Usage& usage, const NodeSet& nodes, const MemoryAmounts& need);

// Charges `need` on `nodes`, filling them in the order given (primary node first). Call only after
// memoryFits() said yes. Unaccounted resources are not charged.
std::map<int, MemoryAmounts> chargeMemory(const Pools& pools, const Usage& usage, const std::vector<int>& node_order,
                                          const MemoryAmounts& need);

// The memory a container asks to have on its NUMA node(s): Guaranteed containers their memory
// limit (= request), Burstable their memory request, BestEffort nothing; huge pages always.
MemoryAmounts memoryNeed(QosClass qos, const ContainerRequest& container);

}  // namespace topod::policies::topology_aware
