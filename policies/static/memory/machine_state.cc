#include "policies/static/memory/machine_state.h"

#include <optional>
#include <utility>
#include <vector>

#include "common/quantity.h"

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
                                      " (" + formatByteQuantity(system_reserved) + ") exceeds the node's " +
                                      formatByteQuantity(total));
      }
      state.memory[resource] = {total, system_reserved, total - system_reserved, 0, total - system_reserved};
      hugepage_bytes += total;
    }
    uint64_t system_reserved = reservedFor(node.id, kResourceMemory);
    // The kernel carves huge pages out of the node's memory; the kubelet subtracts them too.
    if (system_reserved + hugepage_bytes > node.memory_bytes) {
      return Error::invalidArgument("reserved memory for NUMA node " + std::to_string(node.id) + " (" +
                                    formatByteQuantity(system_reserved) + ") plus its huge pages (" +
                                    formatByteQuantity(hugepage_bytes) + ") exceeds the node's memory (" +
                                    formatByteQuantity(node.memory_bytes) + ")");
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

namespace {

bool leftOut(const LeftOut& left_out, const ContainerKey& key) {
  return (left_out.pod_uid != nullptr && key.pod_uid == *left_out.pod_uid) ||
         (left_out.container != nullptr && key == *left_out.container);
}

// The per-container checks of chargeStateByScan: nodes and resources exist; counts the group.
Status chargeGroup(MachineState& machine, const ContainerKey& key, const ContainerAllocation& allocation) {
  const std::string who = "pod " + key.pod_uid + " container " + key.container_name;
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
  for (const NumaMemory* charges : {&allocation.memory, &allocation.memory_beside}) {
    for (const auto& [node, resources] : *charges) {
      auto state = machine.find(node);
      if (state == machine.end()) {
        return Error::failedPrecondition(who + " runs beside memory on NUMA node " + std::to_string(node) +
                                         ", which this machine does not have");
      }
      for (const auto& [resource, bytes] : resources) {
        if (bytes != 0 && !state->second.memory.contains(resource)) {
          return Error::failedPrecondition(who + " holds " + resource + " on NUMA node " + std::to_string(node) +
                                           ", which has none");
        }
      }
    }
  }
  return okStatus();
}

}  // namespace

Result<MachineState> chargeStateByScan(MachineState machine, const State& state, LeftOut left_out) {
  const State::Containers& containers = state.containers();
  for (auto it = containers.begin(); it != containers.end();) {
    const std::string& pod = it->first.pod_uid;
    std::vector<const ContainerAllocation*> pinned;
    std::vector<const ContainerKey*> keys;
    for (; it != containers.end() && it->first.pod_uid == pod; ++it) {
      if (!isMemoryPinned(it->second) || leftOut(left_out, it->first)) continue;
      TOPOD_RETURN_IF_ERROR(chargeGroup(machine, it->first, it->second));
      pinned.push_back(&it->second);
      keys.push_back(&it->first);
    }
    for (const auto& [node, resources] : podMemoryShare(pinned).pinned) {
      for (const auto& [resource, bytes] : resources) {
        MemoryTable& table = machine.at(node).memory.at(resource);
        if (bytes <= table.free) {
          table.reserved += bytes;
          table.free -= bytes;
          continue;
        }
        std::string who;
        int holders = 0;
        for (std::size_t i = 0; i < pinned.size(); ++i) {
          auto charged = pinned[i]->memory.find(node);
          if (charged == pinned[i]->memory.end() || !charged->second.contains(resource)) continue;
          who += (holders++ == 0 ? "" : ", ") + keys[i]->container_name;
        }
        who = "pod " + pod + (holders == 1 ? " container " + who + " holds " : " containers " + who + " hold ");
        return Error::failedPrecondition(who + formatByteQuantity(bytes) + " of " + resource + " on NUMA node " +
                                         std::to_string(node) + ", more than the " + formatByteQuantity(table.free) +
                                         " left there");
      }
    }
  }
  return machine;
}

Result<MachineState> chargeState(const MachineState& default_machine, const State& state, LeftOut left_out) {
  std::optional<StateTotals> adjusted;
  if (left_out.pod_uid != nullptr) adjusted = state.totalsWithoutPod(*left_out.pod_uid);
  if (left_out.container != nullptr) adjusted = state.totalsWithout(*left_out.container);
  const StateTotals& totals = adjusted.has_value() ? *adjusted : state.totals();
  MachineState machine = default_machine;
  for (const auto& [node, groups] : totals.pinned_groups) {
    auto it = machine.find(node);
    // Two groups on one node, or an unknown node: the scan decides (and explains).
    if (it == machine.end() || groups.size() != 1) return chargeStateByScan(default_machine, state, left_out);
    it->second.cells = groups.begin()->first;
    it->second.assignments = groups.begin()->second;
  }
  for (const auto& [node, resources] : totals.pinned_memory) {
    auto it = machine.find(node);
    if (it == machine.end()) return chargeStateByScan(default_machine, state, left_out);
    for (const auto& [resource, bytes] : resources) {
      auto table = it->second.memory.find(resource);
      if (table == it->second.memory.end() || bytes > table->second.free) {
        return chargeStateByScan(default_machine, state, left_out);
      }
      table->second.reserved += bytes;
      table->second.free -= bytes;
    }
  }
  return machine;
}

}  // namespace topod::policies::memory
