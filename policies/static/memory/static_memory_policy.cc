#include "policies/static/memory/static_memory_policy.h"

#include <algorithm>
#include <utility>

#include "common/quantity.h"
#include "policies/static/memory/init_reuse.h"
#include "policies/static/topology_manager/numa_mask.h"

namespace topod::policies::memory {

namespace tm = topology_manager;

namespace {

std::string describeRequest(const ResourceBytes& requested) {
  std::string out;
  for (const auto& [resource, bytes] : requested) {
    if (!out.empty()) out += ' ';
    out += resource + "=" + formatByteQuantity(bytes);
  }
  return out;
}

std::string who(const PodRequest& pod, const ContainerRequest& container) {
  return "pod " + pod.namespace_name + "/" + pod.name + " container " + container.name;
}

// Per-resource totals held by an allocation.
ResourceBytes heldResources(const ContainerAllocation& allocation) {
  ResourceBytes held;
  for (const auto& [node, resources] : allocation.memory) {
    for (const auto& [resource, bytes] : resources) {
      if (bytes != 0) held[resource] += bytes;
    }
  }
  return held;
}

const ContainerAllocation* findPinned(const State& state, const std::string& pod_uid, const std::string& name) {
  auto it = state.containers().find(ContainerKey{pod_uid, name});
  if (it == state.containers().end() || !isMemoryPinned(it->second)) return nullptr;
  return &it->second;
}

// policy_static.go regenerateHints: the container's own nodes when its charges match the request.
ResourceHints regenerateHints(const ContainerAllocation& allocation, const ResourceBytes& requested) {
  ResourceBytes held = heldResources(allocation);
  if (held.size() != requested.size()) return {};
  ResourceHints hints;
  for (const auto& [resource, bytes] : held) {
    auto wanted = requested.find(resource);
    if (wanted == requested.end() || wanted->second != bytes) return {};
    hints[resource].push_back({allocation.memory_nodes, true});
  }
  return hints;
}

uint64_t freeOn(const MachineState& machine, const NodeSet& nodes, const std::string& resource) {
  uint64_t total = 0;
  for (int node : nodes) {
    auto state = machine.find(node);
    if (state == machine.end()) continue;
    auto table = state->second.memory.find(resource);
    if (table != state->second.memory.end()) total += table->second.free;
  }
  return total;
}

// Whether `nodes` hold `requested` in free memory plus what the pod may reuse there (null: none,
// as the kubelet's isAffinitySatisfyRequest checks).
bool satisfies(const MachineState& machine, const NodeSet& nodes, const ResourceBytes& requested,
               const NumaResourceBytes* reusable = nullptr) {
  for (const auto& [resource, bytes] : requested) {
    uint64_t room = freeOn(machine, nodes, resource);
    for (int node : nodes) room += reusableOf(reusable, node, resource);
    if (room < bytes) return false;
  }
  return true;
}

// policy_static.go isAffinityViolatingNUMAAllocations.
bool violatesGroups(const MachineState& machine, const NodeSet& nodes) {
  if (nodes.size() == 1) return false;
  for (int node : nodes) {
    auto state = machine.find(node);
    if (state == machine.end() || state->second.assignments == 0) continue;
    if (state->second.cells.size() == 1 || state->second.cells != nodes) return true;
  }
  return false;
}

// policy_static.go findBestHint: preferred first, then narrowest; the first on a tie.
const TopologyHint* findBestHint(const std::vector<TopologyHint>& hints) {
  const TopologyHint* best = nullptr;
  for (const TopologyHint& hint : hints) {
    if (best == nullptr) {
      best = &hint;
      continue;
    }
    if (hint.preferred && !best->preferred) {
      best = &hint;
      continue;
    }
    if (hint.preferred == best->preferred &&
        tm::isNarrowerThan(tm::toMask(hint.affinity), tm::toMask(best->affinity))) {
      best = &hint;
    }
  }
  return best;
}

// The hints of regular memory (all kinds get the same ones), or of the first kind requested.
const std::vector<TopologyHint>* representativeHints(const ResourceHints& hints) {
  auto memory = hints.find(kResourceMemory);
  if (memory != hints.end()) return &memory->second;
  return hints.empty() ? nullptr : &hints.begin()->second;
}

// Charges `requested` on `nodes`: first up to `keep` (the bytes the container already holds per
// node, for resize), then node by node in id order; shrinking gives back from the highest node.
// A node's room is its free memory plus what the pod's init containers leave to reuse there.
Result<NumaResourceBytes> charge(const MachineState& machine, const NodeSet& nodes, const ResourceBytes& requested,
                                 const NumaResourceBytes& keep, const NumaResourceBytes* reusable) {
  NumaResourceBytes charges;
  for (const auto& [resource, bytes] : requested) {
    std::map<int, uint64_t> per_node;
    uint64_t remaining = bytes;
    std::map<int, uint64_t> room;
    for (int node : nodes) {
      auto state = machine.find(node);
      uint64_t free = 0;
      if (state != machine.end()) {
        auto table = state->second.memory.find(resource);
        if (table != state->second.memory.end()) free = table->second.free;
      }
      free += reusableOf(reusable, node, resource);
      room[node] = free;
      uint64_t kept = 0;
      auto k = keep.find(node);
      if (k != keep.end()) {
        auto r = k->second.find(resource);
        if (r != k->second.end()) kept = std::min({r->second, free, remaining});
      }
      per_node[node] = kept;
      room[node] -= kept;
      remaining -= kept;
    }
    for (int node : nodes) {
      if (remaining == 0) break;
      uint64_t add = std::min(room[node], remaining);
      per_node[node] += add;
      remaining -= add;
    }
    if (remaining != 0) {
      return Error::resourceExhausted("[memorymanager] NUMA nodes " + nodes.toString() + " lack " +
                                      formatByteQuantity(remaining) + " of " + resource);
    }
    for (const auto& [node, amount] : per_node) {
      if (amount != 0) charges[node][resource] = amount;
    }
  }
  return charges;
}

}  // namespace

Result<StaticMemoryPolicy> StaticMemoryPolicy::create(const topology::Topology& topology,
                                                      const NumaResourceBytes& reserved) {
  uint64_t total_reserved = 0;
  for (const auto& [node, resources] : reserved) {
    auto memory = resources.find(kResourceMemory);
    if (memory != resources.end()) total_reserved += memory->second;
  }
  if (total_reserved == 0) {
    return Error::invalidArgument("[memorymanager] you should specify the system reserved memory");
  }
  auto machine = defaultMachineState(topology, reserved);
  if (!machine.has_value()) return machine.error();
  return StaticMemoryPolicy(topology.numaNodeIds().toVector(), std::move(*machine));
}

Result<MachineState> StaticMemoryPolicy::machineState(const State& state) const {
  return chargeState(default_, state);
}

ResourceBytes StaticMemoryPolicy::requestedResources(const ContainerRequest& container) {
  ResourceBytes requested;
  // Guaranteed containers have request == limit; an unset request defaults to the limit.
  uint64_t memory = container.memory_request_bytes != 0 ? container.memory_request_bytes : container.memory_limit_bytes;
  if (memory != 0) requested[kResourceMemory] = memory;
  for (const auto& [page_size, bytes] : container.hugepages) {
    if (bytes != 0) requested[hugepageResourceName(page_size)] += bytes;
  }
  return requested;
}

ResourceBytes StaticMemoryPolicy::podRequestedResources(const PodRequest& pod) {
  ResourceBytes by_init;      // the most any init container needs while it runs
  ResourceBytes by_sidecars;  // restartable init containers, which keep running
  ResourceBytes by_apps;
  for (const ContainerRequest& container : pod.containers) {
    ResourceBytes requested = requestedResources(container);
    switch (container.kind) {
      case ContainerKind::Sidecar:
        for (const auto& [resource, bytes] : requested) by_sidecars[resource] += bytes;
        break;
      case ContainerKind::Init:
        for (const auto& [resource, bytes] : requested) {
          by_init[resource] = std::max(by_init[resource], by_sidecars[resource] + bytes);
        }
        break;
      case ContainerKind::App:
        for (const auto& [resource, bytes] : requested) by_apps[resource] += bytes;
        break;
    }
  }
  // As the kubelet: the kinds app containers ask for, each the larger of the long-running total
  // and the init peak.
  ResourceBytes pod_total;
  for (const auto& [resource, bytes] : by_apps) {
    pod_total[resource] = std::max(bytes + by_sidecars[resource], by_init[resource]);
  }
  return pod_total;
}

ResourceHints StaticMemoryPolicy::calculateHints(const MachineState& machine, const ResourceBytes& requested,
                                                 const std::map<NodeSet, NumaResourceBytes>& reusable) const {
  if (nodes_.size() > tm::kExhaustiveMaskNodes) return boundedHints(machine, requested, reusable, false);
  int min_affinity_size = static_cast<int>(nodes_.size());
  ResourceHints hints;
  std::vector<NodeSet> fitting;
  tm::forEachMask(nodes_, [&](tm::NumaMask mask) {
    NodeSet nodes = tm::toNodeSet(mask);
    bool single = nodes.size() == 1;
    for (const auto& [resource, bytes] : requested) {
      uint64_t allocatable = 0;
      for (int node : nodes) {
        auto table = machine.at(node).memory.find(resource);
        if (table != machine.at(node).memory.end()) allocatable += table->second.allocatable;
      }
      if (allocatable < bytes) return;
    }
    // The narrowest combination that could ever hold the request sets what "preferred" means,
    // whether or not it has room now.
    min_affinity_size = std::min(min_affinity_size, nodes.size());
    if (single && machine.at(nodes.first()).cells.size() > 1) return;
    if (!single) {
      for (int node : nodes) {
        const NumaMemoryState& state = machine.at(node);
        if (state.assignments > 0 && (state.cells.size() == 1 || state.cells != nodes)) return;
      }
    }
    // The kubelet adds the pod's reusable memory on exactly this mask.
    if (!satisfies(machine, nodes, requested, reusableOn(reusable, nodes))) return;
    fitting.push_back(nodes);
  });
  for (const auto& [resource, bytes] : requested) {
    std::vector<TopologyHint>& list = hints[resource];
    for (const NodeSet& nodes : fitting) list.push_back({nodes, nodes.size() == min_affinity_size});
  }
  // No combination fits: the kubelet returns an empty map, i.e. no preference.
  if (fitting.empty()) hints.clear();
  return hints;
}

ResourceHints StaticMemoryPolicy::extensionHints(const MachineState& machine, const ResourceBytes& requested,
                                                 const std::map<NodeSet, NumaResourceBytes>& reusable) const {
  if (nodes_.size() > tm::kExhaustiveMaskNodes) return boundedHints(machine, requested, reusable, true);
  return calculateHints(machine, requested, reusable);
}

ResourceHints StaticMemoryPolicy::boundedHints(const MachineState& machine, const ResourceBytes& requested,
                                               const std::map<NodeSet, NumaResourceBytes>& reusable,
                                               bool every_width) const {
  // calculateHints()'s rules over a bounded family (tm::kExhaustiveMaskNodes): the runs of
  // consecutive node ids, the groups multi-node allocations already use (a node of a group can
  // only ever be used with that group) and the groups the pod's reusable memory lies on. A run's
  // allocatable and free memory are differences of prefix sums, read once per node and kind.
  const std::size_t n = nodes_.size();
  std::vector<const NumaMemoryState*> state_of(n);
  for (std::size_t i = 0; i < n; ++i) state_of[i] = &machine.at(nodes_[i]);
  std::vector<uint64_t> wanted;
  std::vector<std::vector<uint64_t>> allocatable_before;  // per requested kind
  std::vector<std::vector<uint64_t>> free_before;
  for (const auto& [resource, bytes] : requested) {
    wanted.push_back(bytes);
    std::vector<uint64_t>& allocatable = allocatable_before.emplace_back(n + 1, 0);
    std::vector<uint64_t>& free = free_before.emplace_back(n + 1, 0);
    for (std::size_t i = 0; i < n; ++i) {
      auto table = state_of[i]->memory.find(resource);
      const bool has = table != state_of[i]->memory.end();
      allocatable[i + 1] = allocatable[i] + (has ? table->second.allocatable : 0);
      free[i + 1] = free[i] + (has ? table->second.free : 0);
    }
  }
  auto runCovers = [&](const std::vector<std::vector<uint64_t>>& before, std::size_t start, std::size_t size) {
    for (std::size_t r = 0; r < wanted.size(); ++r) {
      if (before[r][start + size] - before[r][start] < wanted[r]) return false;
    }
    return true;
  };
  auto runOf = [&](std::size_t start, std::size_t size) {
    NodeSet nodes;
    for (std::size_t i = start; i < start + size; ++i) nodes.insert(nodes_[i]);
    return nodes;
  };
  auto setFits = [&](const NodeSet& nodes) {
    for (const auto& [resource, bytes] : requested) {
      uint64_t allocatable = 0;
      for (int node : nodes) {
        auto state = machine.find(node);
        if (state == machine.end()) continue;
        auto table = state->second.memory.find(resource);
        if (table != state->second.memory.end()) allocatable += table->second.allocatable;
      }
      if (allocatable < bytes) return false;
    }
    return true;
  };
  std::vector<NodeSet> groups;
  for (const NumaMemoryState* state : state_of) {
    if (state->assignments > 0 && state->cells.size() > 1) groups.push_back(state->cells);
  }
  for (const auto& [nodes, bytes] : reusable) {
    if (nodes.size() > 1) groups.push_back(nodes);
  }
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  groups.erase(std::remove_if(groups.begin(), groups.end(), [&](const NodeSet& group) { return !setFits(group); }),
               groups.end());

  int min_affinity_size = static_cast<int>(n);
  tm::forEachRun(n, [&](std::size_t start, std::size_t size) {
    if (!runCovers(allocatable_before, start, size)) return true;
    min_affinity_size = static_cast<int>(size);
    return false;
  });
  for (const NodeSet& group : groups) min_affinity_size = std::min(min_affinity_size, group.size());

  // The group rule and the room (free plus the pod's reusable memory on exactly that set).
  auto usable = [&](const NodeSet& nodes) {
    if (nodes.size() == 1) {
      if (machine.at(nodes.first()).cells.size() > 1) return false;
    } else if (violatesGroups(machine, nodes)) {
      return false;
    }
    return satisfies(machine, nodes, requested, reusableOn(reusable, nodes));
  };
  // Runs in the kubelet's order (by width, then lexicographically): by width, then by start.
  std::vector<NodeSet> fitting;
  auto considerRun = [&](std::size_t start, std::size_t size) {
    if (!runCovers(allocatable_before, start, size)) return;
    // Without reusable memory the room is the free memory, known from the prefix sums.
    if (reusable.empty() && !runCovers(free_before, start, size)) return;
    if (size == 1 && reusable.empty()) {
      if (state_of[start]->cells.size() <= 1) fitting.push_back(runOf(start, size));
      return;
    }
    NodeSet nodes = runOf(start, size);
    if (usable(nodes)) fitting.push_back(std::move(nodes));
  };
  const std::size_t narrowest = static_cast<std::size_t>(min_affinity_size);
  for (std::size_t size = every_width ? 1 : narrowest; size <= n; ++size) {
    if (!every_width && size != narrowest && size != n) size = n;
    for (std::size_t start = 0; start + size <= n; ++start) considerRun(start, size);
  }
  std::vector<NodeSet> usable_groups;
  for (const NodeSet& group : groups) {
    if (usable(group)) usable_groups.push_back(group);
  }
  if (!usable_groups.empty()) {
    fitting.insert(fitting.end(), usable_groups.begin(), usable_groups.end());
    std::sort(fitting.begin(), fitting.end(), [](const NodeSet& a, const NodeSet& b) {
      if (a.size() != b.size()) return a.size() < b.size();
      return a < b;
    });
    fitting.erase(std::unique(fitting.begin(), fitting.end()), fitting.end());
  }

  ResourceHints hints;
  if (fitting.empty()) return hints;  // no combination fits: no preference, as the kubelet
  for (const auto& [resource, bytes] : requested) {
    std::vector<TopologyHint>& list = hints[resource];
    list.reserve(fitting.size());
    for (const NodeSet& nodes : fitting) list.push_back({nodes, nodes.size() == min_affinity_size});
  }
  return hints;
}

ResourceHints StaticMemoryPolicy::containerHints(const State& state, const PodRequest& pod,
                                                 const ContainerRequest& container) const {
  if (pod.qos != QosClass::Guaranteed) return {};
  ResourceBytes requested = requestedResources(container);
  if (requested.empty()) return {};
  if (const ContainerAllocation* existing = findPinned(state, pod.uid, container.name)) {
    return regenerateHints(*existing, requested);
  }
  auto machine = machineState(state);
  if (!machine.has_value()) {
    // A State that does not fit the machine: nothing can be placed until it is repaired.
    ResourceHints none;
    for (const auto& [resource, bytes] : requested) none[resource];
    return none;
  }
  return calculateHints(*machine, requested, podReusable(state, pod.uid, nullptr));
}

ResourceHints StaticMemoryPolicy::podHints(const State& state, const PodRequest& pod) const {
  if (pod.qos != QosClass::Guaranteed) return {};
  ResourceBytes requested = podRequestedResources(pod);
  if (requested.empty()) return {};
  for (const ContainerRequest& container : pod.containers) {
    if (const ContainerAllocation* existing = findPinned(state, pod.uid, container.name)) {
      return regenerateHints(*existing, requested);
    }
  }
  auto machine = machineState(state);
  if (!machine.has_value()) {
    ResourceHints none;
    for (const auto& [resource, bytes] : requested) none[resource];
    return none;
  }
  // Computed once for the whole pod, before it holds anything: nothing to reuse.
  return calculateHints(*machine, requested);
}

ResourceHints StaticMemoryPolicy::podHintsWithoutPod(const State& state, const PodRequest& pod) const {
  // podHints() on a State without the pod: none of its containers is placed, so no regenerated
  // hints; the machine is charged from the totals without the pod.
  if (pod.qos != QosClass::Guaranteed) return {};
  ResourceBytes requested = podRequestedResources(pod);
  if (requested.empty()) return {};
  auto machine = chargeState(default_, state, LeftOut{.pod_uid = &pod.uid});
  if (!machine.has_value()) {
    ResourceHints none;
    for (const auto& [resource, bytes] : requested) none[resource];
    return none;
  }
  return calculateHints(*machine, requested);
}

Status StaticMemoryPolicy::allocate(const State& state, const PodRequest& pod, const ContainerRequest& container,
                                    const TopologyHint& affinity, ContainerAllocation& allocation) const {
  if (pod.qos != QosClass::Guaranteed) return okStatus();
  if (const ContainerAllocation* existing = findPinned(state, pod.uid, container.name)) {
    // Idempotent, as the kubelet's Allocate: a container already in the State keeps its memory.
    allocation.memory = existing->memory;
    allocation.memory_nodes = existing->memory_nodes;
    allocation.memory_beside = existing->memory_beside;
    return okStatus();
  }
  ResourceBytes requested = requestedResources(container);
  if (requested.empty()) return okStatus();
  const std::string context = " (" + who(pod, container) + ", requested " + describeRequest(requested) + ")";
  auto machine = machineState(state);
  if (!machine.has_value()) return machine.error().withContext("[memorymanager] state does not fit the machine");
  const std::map<NodeSet, NumaResourceBytes> reusable = podReusable(state, pod.uid, nullptr);

  TopologyHint best = affinity;
  if (best.affinity.empty()) {
    ResourceHints hints = calculateHints(*machine, requested, reusable);
    const std::vector<TopologyHint>* list = representativeHints(hints);
    if (list == nullptr || list->empty()) {
      return Error::resourceExhausted(
          "[memorymanager] failed to get the default NUMA affinity, no NUMA nodes with enough memory is available" +
          context);
    }
    const TopologyHint* default_hint = findBestHint(*list);
    if (!default_hint->preferred && best.preferred) {
      return Error::resourceExhausted("[memorymanager] failed to find the default preferred hint" + context);
    }
    best = *default_hint;
  }
  // Free memory alone, as the kubelet's isAffinitySatisfyRequest: an affinity that fits only with
  // reuse goes through the extension, whose hints count the reusable memory.
  if (!satisfies(*machine, best.affinity, requested)) {
    ResourceHints hints = extensionHints(*machine, requested, reusable);
    const std::vector<TopologyHint>* list = representativeHints(hints);
    std::vector<TopologyHint> containing;
    if (list != nullptr) {
      for (const TopologyHint& hint : *list) {
        if (best.affinity.isSubsetOf(hint.affinity)) containing.push_back(hint);
      }
    }
    if (containing.empty()) {
      return Error::resourceExhausted(
          "[memorymanager] failed to find NUMA nodes to extend the current topology hint (NUMA " +
          best.affinity.toString() + ")" + context);
    }
    const TopologyHint* extended = findBestHint(containing);
    if (!extended->preferred && best.preferred) {
      return Error::resourceExhausted("[memorymanager] failed to find the extended preferred hint" + context);
    }
    best = *extended;
  }
  if (violatesGroups(*machine, best.affinity)) {
    return Error::resourceExhausted("[memorymanager] preferred hint violates NUMA node allocation (NUMA " +
                                    best.affinity.toString() + ")" + context);
  }
  auto charges = charge(*machine, best.affinity, requested, {}, reusableOn(reusable, best.affinity));
  if (!charges.has_value()) return charges.error().withContext(who(pod, container));
  allocation.memory = std::move(*charges);
  allocation.memory_nodes = best.affinity;
  allocation.memory_beside.clear();
  if (container.kind == ContainerKind::Init) {
    // A regular init container runs beside the sidecars (and apps) already there: what they hold
    // is not reusable while it runs, and later containers must know it (podMemoryShare).
    allocation.memory_beside = heldTogether(groupMembers(state, pod.uid, best.affinity, nullptr));
  }
  return okStatus();
}

Result<ContainerAllocation> StaticMemoryPolicy::resize(const State& state, const PodRequest& pod,
                                                       const ContainerRequest& resized) const {
  const ContainerKey key{pod.uid, resized.name};
  auto it = state.containers().find(key);
  if (it == state.containers().end()) {
    return Error::notFound("memory resize: " + who(pod, resized) + " has no allocation");
  }
  ContainerAllocation next = it->second;
  next.request = resized;
  if (!isMemoryPinned(it->second)) return next;  // not pinned: nothing to account

  ResourceBytes requested = requestedResources(resized);
  const std::string context = who(pod, resized) + " to " + describeRequest(requested);
  auto machine = chargeState(default_, state, LeftOut{.container = &key});
  if (!machine.has_value()) return machine.error().withContext("memory resize of " + context);
  const std::map<NodeSet, NumaResourceBytes> reusable = podReusable(state, pod.uid, &key);

  NodeSet nodes = it->second.memory_nodes;
  if (!satisfies(*machine, nodes, requested, reusableOn(reusable, nodes)) || violatesGroups(*machine, nodes)) {
    // Grow into the narrowest group that contains the current nodes and fits.
    ResourceHints hints = extensionHints(*machine, requested, reusable);
    const std::vector<TopologyHint>* list = representativeHints(hints);
    std::vector<TopologyHint> containing;
    if (list != nullptr) {
      for (const TopologyHint& hint : *list) {
        if (nodes.isSubsetOf(hint.affinity) && !violatesGroups(*machine, hint.affinity)) containing.push_back(hint);
      }
    }
    if (containing.empty()) {
      std::string free_text;
      for (const auto& [resource, bytes] : requested) {
        if (!free_text.empty()) free_text += ", ";
        free_text += resource + " " + formatByteQuantity(freeOn(*machine, nodes, resource)) + " free";
      }
      return Error::resourceExhausted("memory resize of " + context + " refused: NUMA nodes " + nodes.toString() +
                                      " have " + free_text +
                                      " and no NUMA group containing them fits; keeping the current allocation");
    }
    nodes = findBestHint(containing)->affinity;
  }
  auto charges = charge(*machine, nodes, requested, it->second.memory, reusableOn(reusable, nodes));
  if (!charges.has_value()) return charges.error().withContext("memory resize of " + context);
  next.memory = std::move(*charges);
  next.memory_nodes = nodes;
  return next;
}

}  // namespace topod::policies::memory
