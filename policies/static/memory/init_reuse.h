// Init-container memory reuse of the Static memory manager (policy_static.go
// initContainersReusableMemory), derived from the State instead of remembered: a regular init
// container's memory may be taken over by the later containers of its pod on the same NUMA mask.
// What a pod holds is policies::podMemoryShare() (state.h); what is left to reuse is that share
// minus what the pod's sidecars and apps hold.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/cpuset.h"
#include "policies/state.h"
#include "policies/static/memory/machine_state.h"

namespace topod::policies::memory {

// Memory group (NUMA mask) -> node -> resource -> bytes.
using GroupMemory = std::map<NodeSet, NumaResourceBytes>;

// The pod's memory-pinned containers on the memory group `group` (equal memory_nodes), without
// `skip` (may be null). Memory is reused only inside one group, as the kubelet keys reusable
// memory by mask.
std::vector<const ContainerAllocation*> groupMembers(const State& state, const std::string& pod_uid,
                                                     const NodeSet& group, const ContainerKey* skip);

// What the group's sidecar and app containers hold: they run together, none of it is reusable.
// Also what a regular init container admitted now runs beside (ContainerAllocation::memory_beside).
NumaResourceBytes heldTogether(const std::vector<const ContainerAllocation*>& members);

// Per memory group of the pod, per node and resource: memory its regular init containers hold
// that a container admitted now may take over. Without `skip` when non-null (resize).
GroupMemory podReusable(const State& state, const std::string& pod_uid, const ContainerKey* skip);

// The reusable memory on exactly `nodes`, or null.
const NumaResourceBytes* reusableOn(const GroupMemory& reusable, const NodeSet& nodes);
// Bytes of `resource` reusable on `node` (0 for null).
uint64_t reusableOf(const NumaResourceBytes* reusable, int node, const std::string& resource);

}  // namespace topod::policies::memory
