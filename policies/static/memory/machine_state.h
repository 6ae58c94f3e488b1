// Per-NUMA memory accounting of the kubelet's Static memory manager (memorymanager/state), as a
// value derived from a Topology, the reserved memory and a policies::State. Nothing of it is
// persisted: the State's allocations (bytes charged per NUMA node per resource) are the truth,
// and this table is recomputed from them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/cpuset.h"
#include "common/result.h"
#include "policies/request.h"
#include "policies/state.h"
#include "topology/model.h"

namespace topod::policies::memory {

// Resource ("memory", "hugepages-2Mi", ...) -> bytes.
using ResourceBytes = std::map<std::string, uint64_t>;
// NUMA node -> resource -> bytes (PolicyOptions::reserved_memory, ContainerAllocation::memory).
using NumaResourceBytes = std::map<int, ResourceBytes>;

struct MemoryTable {
  uint64_t total = 0;            // memory of this kind on the node
  uint64_t system_reserved = 0;  // reserved_memory for this node and kind
  uint64_t allocatable = 0;      // total - system_reserved (memory: also minus huge pages)
  uint64_t reserved = 0;         // charged to containers
  uint64_t free = 0;             // allocatable - reserved
  friend bool operator==(const MemoryTable&, const MemoryTable&) = default;
};

struct NumaMemoryState {
  std::map<std::string, MemoryTable> memory;
  // Memory-pinned allocations using the node, and the group of nodes they use it with ("cells"):
  // a node is either used alone or always with the same group (the kubelet's rule).
  int assignments = 0;
  NodeSet cells;
  friend bool operator==(const NumaMemoryState&, const NumaMemoryState&) = default;
};

using MachineState = std::map<int, NumaMemoryState>;

// The machine with nothing allocated. Fails when reserved memory names a node the topology lacks
// or exceeds what the node has.
Result<MachineState> defaultMachineState(const topology::Topology& topology, const NumaResourceBytes& reserved);

// What chargeState() leaves out of the State: one pod (pod-scope hints are computed before the
// pod holds anything) or one container (resize re-plans it against everything else).
struct LeftOut {
  const std::string* pod_uid = nullptr;
  const ContainerKey* container = nullptr;
};

// `machine` with the memory of `state`'s pinned containers (isMemoryPinned) charged, each pod
// once with init-container reuse counted (policies::podMemoryShare), without what `left_out`
// names. Decides from the State's totals in O(NUMA nodes + the pod left out), whatever the number
// of containers. Strict: an allocation charging an unknown node or resource, or more than is
// free, is an error naming the container (a State that does not fit the machine must not be
// decided on).
Result<MachineState> chargeState(const MachineState& machine, const State& state, LeftOut left_out = {});
// The same by visiting every container in key order: what chargeState() falls back to when the
// totals alone cannot decide (an error to explain, a node used with two different groups, where
// the last container in key order sets the node's group).
Result<MachineState> chargeStateByScan(MachineState machine, const State& state, LeftOut left_out = {});

}  // namespace topod::policies::memory
