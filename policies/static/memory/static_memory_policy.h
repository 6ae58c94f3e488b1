// The kubelet's Static memory manager policy (memorymanager/policy_static.go) as a pure hint
// provider named "memory".
//
// Pools and invariants:
//  - Per NUMA node and per kind ("memory", "hugepages-<size>"): allocatable = capacity minus
//    reserved_memory (regular memory also minus the node's huge pages). Only containers of
//    Guaranteed pods are pinned; they are charged per node in ContainerAllocation::memory and get
//    cpuset.mems = ContainerAllocation::memory_nodes.
//  - Multi-NUMA groups: a node used by a single-node allocation is never used by a multi-node
//    one, and a node used by a multi-node allocation is only ever used with that same group.
//  - Hints: every node combination with enough allocatable memory of each requested kind that
//    respects the group rule and has enough free memory; preferred = as few nodes as the
//    smallest combination with enough allocatable memory (even if that one is full).
//  - A container already in the State gets its own nodes back as the only (preferred) hint,
//    when its charges still match its request (else no preference), as after a kubelet restart.
//  - Allocation within the topology manager's affinity: no affinity -> the best own hint; an
//    affinity too small -> the narrowest own hint containing it; then memory is charged node by
//    node in id order (the kubelet's greedy fill).
//
//  - Init-container reuse (policy_static.go initContainersReusableMemory): a container may take
//    over memory its pod's regular init containers hold on the same NUMA mask, since they run
//    before it. Derived from the State, not remembered: every container records its whole
//    request (ContainerAllocation::memory), a regular init container also what ran beside it
//    (memory_beside), and policies::podMemoryShare() says what the pod holds; the reusable memory
//    of a group is that share minus what its sidecars and apps hold. As in the kubelet, reuse
//    counts in the hints (free + reusable on the mask) and the charge, and sidecars (restartable
//    init containers) reuse but are never reused. Difference: the kubelet forgets a pod's
//    reusable memory as soon as another pod allocates; derived from the State it stays, which
//    only ever reuses memory the pod itself still holds.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/result.h"
#include "policies/static/memory/machine_state.h"
#include "policies/static/topology_hint.h"
#include "topology/model.h"

namespace topod::policies::memory {

class StaticMemoryPolicy : public HintProvider {
 public:
  // Fails like the kubelet's NewPolicyStatic when no memory is reserved for the system at all,
  // and when reserved memory does not fit the machine.
  static Result<StaticMemoryPolicy> create(const topology::Topology& topology, const NumaResourceBytes& reserved);

  std::string_view name() const override { return "memory"; }
  ResourceHints containerHints(const State& state, const PodRequest& pod,
                               const ContainerRequest& container) const override;
  ResourceHints podHints(const State& state, const PodRequest& pod) const override;
  ResourceHints podHintsWithoutPod(const State& state, const PodRequest& pod) const override;
  Status allocate(const State& state, const PodRequest& pod, const ContainerRequest& container,
                  const TopologyHint& affinity, ContainerAllocation& allocation) const override;

  // In-place resize of the memory of an admitted container to `resized` (same name). Keeps its
  // NUMA nodes when they have room (charges grow on them in id order and shrink from the highest
  // node); else moves to the narrowest NUMA group containing them that fits and respects the group
  // rule. Error (the old allocation stays valid): the container is unknown, or nothing fits.
  Result<ContainerAllocation> resize(const State& state, const PodRequest& pod, const ContainerRequest& resized) const;

  const MachineState& defaultState() const { return default_; }
  // The machine with the State's allocations charged; fails on a State that does not fit.
  Result<MachineState> machineState(const State& state) const;

  // Memory and huge pages a container asks for (zero amounts left out).
  static ResourceBytes requestedResources(const ContainerRequest& container);
  // The pod's effective request: max(largest init container (plus sidecars before it), sum of
  // app containers plus sidecars), per kind.
  static ResourceBytes podRequestedResources(const PodRequest& pod);

  // Hint computation over a machine state (policy_static.go calculateHints). `reusable`: per
  // memory group (NUMA mask), per node and resource, the memory of the pod's init containers a
  // container may take over on exactly that mask.
  // Beyond topology_manager::kExhaustiveMaskNodes NUMA nodes: the same rules over the runs of
  // consecutive node ids and the groups already in use, listing only the narrowest fitting sets
  // and the all-nodes set (see boundedHints).
  ResourceHints calculateHints(const MachineState& machine, const ResourceBytes& requested,
                               const std::map<NodeSet, NumaResourceBytes>& reusable = {}) const;

 private:
  // The hints an allocation too small for its affinity is extended with: calculateHints(), and
  // beyond kExhaustiveMaskNodes nodes every fitting set of the bounded family, of any width.
  ResourceHints extensionHints(const MachineState& machine, const ResourceBytes& requested,
                               const std::map<NodeSet, NumaResourceBytes>& reusable) const;
  // calculateHints() on a machine of more than kExhaustiveMaskNodes nodes: candidates are the runs
  // of consecutive node ids (O(nodes^2)), the multi-node groups in use and the pod's reusable
  // groups; listed are those of the narrowest width that could hold the request, any group in use
  // and the all-nodes set (every width with `every_width`), where they fit as calculateHints()
  // demands.
  ResourceHints boundedHints(const MachineState& machine, const ResourceBytes& requested,
                             const std::map<NodeSet, NumaResourceBytes>& reusable, bool every_width) const;
  StaticMemoryPolicy(std::vector<int> nodes, MachineState default_state)
      : nodes_(std::move(nodes)), default_(std::move(default_state)) {}

  std::vector<int> nodes_;
  MachineState default_;
};

}  // namespace topod::policies::memory
