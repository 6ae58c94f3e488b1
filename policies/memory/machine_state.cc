#include "policies/memory/machine_state.h"

#include <utility>

namespace topod::policies::memory {

Result<MachineState> defaultMachineState(const topology::Topology& topology, const NumaResourceBytes& reserved) {
  for (const auto& [node, resources] : reserved) {
    if (topology.numaNode(node) == nullptr) {
      return Error::invalidArgument("reserved memory names NUMA node " + std::to_string(node) +
                                    ", which this machine does not have");
    }
  }
  auto reservedFor = [&](int node, const std::string& resource) -> uint64_t {
    auto n = reserved.find(node);
    if (n == reserved.end()) return 0;
    auto r = n->second.find(resource);
    return r == n->second.end() ? 0 : r->second;
  };
  MachineState machine;
  for (const topology::NumaNode& node : topology.numaNodes()) {
    NumaMemoryState& state = machine[node.id];
    state.cells = NodeSet{node.id};
    uint64_t hugepage_bytes = 0;
    for (const auto& [page_size, pages] : node.hugepages) {
      std::string resource = hugepageResourceName(page_size);
      uint64_t total = page_size * pages;
      uint64_t system_reserved = reservedFor(node.id, resource);
      if (system_reserved > total) {
        return Error::invalidArgument("reserved memory for NUMA node " + std::to_string(node.id) + " " + resource +
                                      " (" + formatBytes(system_reserved) + ") exceeds the node's " +
                                      formatBytes(total));
      }
      state.memory[resource] = {total, system_reserved, total - system_reserved, 0, total - system_reserved};
      hugepage_bytes += total;
    }
    uint64_t system_reserved = reservedFor(node.id, kResourceMemory);
    // The kernel carves huge pages out of the node's memory; the kubelet subtracts them too.
    if (system_reserved + hugepage_bytes > node.memory_bytes) {
      return Error::invalidArgument("reserved memory for NUMA node " + std::to_string(node.id) + " (" +
                                    formatBytes(system_reserved) + ") plus its huge pages (" +
                                    formatBytes(hugepage_bytes) + ") exceeds the node's memory (" +
                                    formatBytes(node.memory_bytes) + ")");
    }
    uint64_t allocatable = node.memory_bytes - system_reserved - hugepage_bytes;
    state.memory[kResourceMemory] = {node.memory_bytes, system_reserved, allocatable, 0, allocatable};
  }
  for (const auto& [node, resources] : reserved) {
    for (const auto& [resource, bytes] : resources) {
      if (bytes != 0 && machine[node].memory.count(resource) == 0) {
        return Error::invalidArgument("reserved memory names " + resource + " on NUMA node " + std::to_string(node) +
                                      ", which has none");
      }
    }
  }
  return machine;
}

Result<MachineState> chargeAllocation(MachineState machine, const ContainerKey& key,
                                      const ContainerAllocation& allocation) {
  const std::string who = "pod " + key.pod_uid + " container " + key.container_name;
  // The group: the memory nodes, which always include every node charged.
  NodeSet group = allocation.memory_nodes;
  for (const auto& [node, resources] : allocation.memory) group.insert(node);
  for (int node : group) {
    auto state = machine.find(node);
    if (state == machine.end()) {
      return Error::failedPrecondition(who + " holds memory on NUMA node " + std::to_string(node) +
                                       ", which this machine does not have");
    }
    state->second.assignments += 1;
    state->second.cells = group;
  }
  for (const auto& [node, resources] : allocation.memory) {
    NumaMemoryState& state = machine[node];
    for (const auto& [resource, bytes] : resources) {
      auto table = state.memory.find(resource);
      if (table == state.memory.end()) {
        if (bytes == 0) continue;
        return Error::failedPrecondition(who + " holds " + resource + " on NUMA node " + std::to_string(node) +
                                         ", which has none");
      }
      if (bytes > table->second.free) {
        return Error::failedPrecondition(who + " holds " + formatBytes(bytes) + " of " + resource + " on NUMA node " +
                                         std::to_string(node) + ", more than the " + formatBytes(table->second.free) +
                                         " left there");
      }
      table->second.reserved += bytes;
      table->second.free -= bytes;
    }
  }
  return machine;
}

std::string formatBytes(uint64_t bytes) {
  constexpr uint64_t kKi = 1024;
  constexpr uint64_t kMi = kKi * 1024;
  constexpr uint64_t kGi = kMi * 1024;
  if (bytes != 0 && bytes % kGi == 0) return std::to_string(bytes / kGi) + "Gi";
  if (bytes != 0 && bytes % kMi == 0) return std::to_string(bytes / kMi) + "Mi";
  if (bytes != 0 && bytes % kKi == 0) return std::to_string(bytes / kKi) + "Ki";
  return std::to_string(bytes);
}

}  // namespace topod::policies::memory
