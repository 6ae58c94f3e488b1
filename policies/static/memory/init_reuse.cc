#include "policies/static/memory/init_reuse.h"

#include <set>

namespace topod::policies::memory {

// The pod's memory-pinned containers on the memory group `group` (equal memory_nodes), without
// `skip`. Memory is reused only inside one group, as the kubelet keys reusable memory by mask.
std::vector<const ContainerAllocation*> groupMembers(const State& state, const std::string& pod_uid,
                                                     const NodeSet& group, const ContainerKey* skip) {
  std::vector<const ContainerAllocation*> members;
  auto [first, last] = state.podContainers(pod_uid);
  for (auto it = first; it != last; ++it) {
    if (skip != nullptr && it->first == *skip) continue;
    if (isMemoryPinned(it->second) && it->second.memory_nodes == group) members.push_back(&it->second);
  }
  return members;
}

// What the group's sidecar and app containers hold: they run together, none of it is reusable.
NumaResourceBytes heldTogether(const std::vector<const ContainerAllocation*>& members) {
  NumaResourceBytes held;
  for (const ContainerAllocation* member : members) {
    if (member->request.kind == ContainerKind::Init) continue;
    for (const auto& [node, resources] : member->memory) {
      for (const auto& [resource, bytes] : resources) {
        if (bytes != 0) held[node][resource] += bytes;
      }
    }
  }
  return held;
}

// Per memory group of the pod, per node and resource: memory its regular init containers hold
// that a container admitted now may take over (policy_static.go initContainersReusableMemory,
// derived from the State): the group's share minus what its sidecars and apps hold.
GroupMemory podReusable(const State& state, const std::string& pod_uid, const ContainerKey* skip) {
  std::set<NodeSet> groups;
  auto [first, last] = state.podContainers(pod_uid);
  for (auto it = first; it != last; ++it) {
    if ((skip == nullptr || it->first != *skip) && isMemoryPinned(it->second) &&
        it->second.request.kind == ContainerKind::Init) {
      groups.insert(it->second.memory_nodes);
    }
  }
  std::map<NodeSet, NumaResourceBytes> reusable;
  for (const NodeSet& group : groups) {
    std::vector<const ContainerAllocation*> members = groupMembers(state, pod_uid, group, skip);
    NumaResourceBytes held = heldTogether(members);
    for (const auto& [node, resources] : podMemoryShare(members).pinned) {
      for (const auto& [resource, bytes] : resources) {
        uint64_t together = held[node][resource];
        if (bytes > together) reusable[group][node][resource] = bytes - together;
      }
    }
  }
  return reusable;
}

const NumaResourceBytes* reusableOn(const GroupMemory& reusable, const NodeSet& nodes) {
  auto it = reusable.find(nodes);
  return it == reusable.end() ? nullptr : &it->second;
}

uint64_t reusableOf(const NumaResourceBytes* reusable, int node, const std::string& resource) {
  if (reusable == nullptr) return 0;
  auto per_node = reusable->find(node);
  if (per_node == reusable->end()) return 0;
  auto bytes = per_node->second.find(resource);
  return bytes == per_node->second.end() ? 0 : bytes->second;
}

}  // namespace topod::policies::memory
