#include "policies/state.h"

#include <algorithm>
#include <utility>

namespace topod::policies {

namespace {

// Adds `delta` to `map[key]`, erasing the entry when it reaches zero.
template <typename Map, typename Key, typename Value>
void addOrErase(Map& map, const Key& key, Value delta) {
  auto [it, inserted] = map.try_emplace(key, Value{});
  it->second += delta;
  if (it->second == Value{}) map.erase(it);
}

void accountNumaMemory(NumaMemory& totals, const NumaMemory& share, int sign) {
  for (const auto& [node, resources] : share) {
    auto& node_totals = totals[node];
    for (const auto& [resource, bytes] : resources) {
      // Unsigned arithmetic wraps as intended: removing what was added returns to the old value.
      addOrErase(node_totals, resource, sign > 0 ? bytes : uint64_t{0} - bytes);
    }
    if (node_totals.empty()) totals.erase(node);
  }
}

void addMax(NumaMemory& into, const NumaMemory& from) {
  for (const auto& [node, resources] : from) {
    for (const auto& [resource, bytes] : resources) {
      if (bytes == 0) continue;
      uint64_t& slot = into[node][resource];
      slot = std::max(slot, bytes);
    }
  }
}

// podMemoryShare() for the containers that `include` selects.
template <typename Include>
NumaMemory groupedShare(const std::vector<const ContainerAllocation*>& allocations, Include&& include) {
  // Memory group -> (sum over sidecars and apps, largest init charge plus what ran beside it).
  std::map<NodeSet, std::pair<NumaMemory, NumaMemory>> groups;
  for (const ContainerAllocation* allocation : allocations) {
    if (allocation->memory.empty() || !include(*allocation)) continue;
    auto& [together, init_peak] = groups[allocation->memory_nodes];
    if (allocation->request.kind == ContainerKind::Init) {
      NumaMemory peak = allocation->memory;
      for (const auto& [node, resources] : allocation->memory_beside) {
        for (const auto& [resource, bytes] : resources) peak[node][resource] += bytes;
      }
      addMax(init_peak, peak);
    } else {
      for (const auto& [node, resources] : allocation->memory) {
        for (const auto& [resource, bytes] : resources) {
          if (bytes != 0) together[node][resource] += bytes;
        }
      }
    }
  }
  NumaMemory share;
  for (auto& [group, parts] : groups) {
    auto& [together, init_peak] = parts;
    addMax(together, init_peak);
    for (const auto& [node, resources] : together) {
      for (const auto& [resource, bytes] : resources) share[node][resource] += bytes;
    }
  }
  return share;
}

}  // namespace

bool isMemoryPinned(const ContainerAllocation& allocation) {
  return allocation.qos == QosClass::Guaranteed && !allocation.memory.empty();
}

PodMemoryShare podMemoryShare(const std::vector<const ContainerAllocation*>& allocations) {
  PodMemoryShare share;
  share.memory = groupedShare(allocations, [](const ContainerAllocation&) { return true; });
  share.pinned = groupedShare(allocations, isMemoryPinned);
  for (const ContainerAllocation* allocation : allocations) {
    if (!isMemoryPinned(*allocation)) continue;
    // The group a pinned container uses: its memory nodes, which always include every node it is
    // charged on (state_check reports containers where they do not).
    NodeSet group = allocation->memory_nodes;
    for (const auto& [node, resources] : allocation->memory) group.insert(node);
    for (int node : group) ++share.groups[node][group];
  }
  return share;
}

void StateTotals::account(const ContainerAllocation& allocation, int sign) {
  accountNumaMemory(memory, allocation.memory, sign);
  for (int cpu : allocation.exclusive_cpus) {
    if (sign > 0) {
      if (exclusive_cpus.contains(cpu)) {
        ++extra_holders[cpu];
      } else {
        exclusive_cpus.insert(cpu);
      }
    } else if (auto extra = extra_holders.find(cpu); extra != extra_holders.end()) {
      if (--extra->second == 0) extra_holders.erase(extra);
    } else {
      exclusive_cpus.erase(cpu);
    }
  }
  if (allocation.exclusive_cpus.empty() && !allocation.shared_pool_nodes.empty()) {
    const int64_t share = allocation.request.cpu_request_millis / allocation.shared_pool_nodes.size();
    for (int node : allocation.shared_pool_nodes) {
      SharedPoolLoad& load = shared_pools[node];
      load.containers += sign;
      load.cpu_request_millis += sign * share;
      if (load == SharedPoolLoad{}) shared_pools.erase(node);
    }
  }
}

void StateTotals::accountPod(const PodMemoryShare& share, int sign) {
  accountNumaMemory(pinned_memory, share.pinned, sign);
  for (const auto& [node, groups] : share.groups) {
    auto& node_groups = pinned_groups[node];
    for (const auto& [group, count] : groups) addOrErase(node_groups, group, sign * count);
    if (node_groups.empty()) pinned_groups.erase(node);
  }
}

State::State(Containers containers) : containers_(std::move(containers)) {
  for (auto it = containers_.begin(); it != containers_.end();) {
    const std::string& pod = it->first.pod_uid;
    std::vector<const ContainerAllocation*> allocations;
    for (; it != containers_.end() && it->first.pod_uid == pod; ++it) {
      totals_.account(it->second, +1);
      allocations.push_back(&it->second);
    }
    totals_.accountPod(podMemoryShare(allocations), +1);
  }
}

const ContainerAllocation* State::find(const ContainerKey& key) const {
  auto it = containers_.find(key);
  return it == containers_.end() ? nullptr : &it->second;
}

PodMemoryShare State::podShare(const std::string& pod_uid, const ContainerKey* skip) const {
  std::vector<const ContainerAllocation*> allocations;
  auto [first, last] = podContainers(pod_uid);
  for (auto it = first; it != last; ++it) {
    if (skip == nullptr || it->first != *skip) allocations.push_back(&it->second);
  }
  return podMemoryShare(allocations);
}

void State::put(const ContainerKey& key, ContainerAllocation allocation) {
  totals_.accountPod(podShare(key.pod_uid), -1);
  auto it = containers_.find(key);
  if (it != containers_.end()) {
    totals_.account(it->second, -1);
    it->second = std::move(allocation);
  } else {
    it = containers_.emplace(key, std::move(allocation)).first;
  }
  totals_.account(it->second, +1);
  totals_.accountPod(podShare(key.pod_uid), +1);
}

bool State::erase(const ContainerKey& key) {
  auto it = containers_.find(key);
  if (it == containers_.end()) return false;
  totals_.accountPod(podShare(key.pod_uid), -1);
  totals_.account(it->second, -1);
  containers_.erase(it);
  totals_.accountPod(podShare(key.pod_uid), +1);
  return true;
}

std::pair<State::Containers::const_iterator, State::Containers::const_iterator> State::podContainers(
    const std::string& pod_uid) const {
  auto first = containers_.lower_bound(ContainerKey{pod_uid, ""});
  auto last = first;
  while (last != containers_.end() && last->first.pod_uid == pod_uid) ++last;
  return {first, last};
}

StateTotals State::totalsWithoutPod(const std::string& pod_uid) const {
  StateTotals totals = totals_;
  auto [first, last] = podContainers(pod_uid);
  if (first == last) return totals;
  for (auto it = first; it != last; ++it) totals.account(it->second, -1);
  totals.accountPod(podShare(pod_uid), -1);
  return totals;
}

CpuSet State::exclusiveCpusWithoutPod(const std::string& pod_uid) const {
  CpuSet exclusive = totals_.exclusive_cpus;
  std::map<int, int> held_by_pod;  // CPU -> containers of the pod holding it
  auto [first, last] = podContainers(pod_uid);
  for (auto it = first; it != last; ++it) {
    for (int cpu : it->second.exclusive_cpus) ++held_by_pod[cpu];
  }
  for (const auto& [cpu, count] : held_by_pod) {
    auto extra = totals_.extra_holders.find(cpu);
    const int holders = 1 + (extra == totals_.extra_holders.end() ? 0 : extra->second);
    if (holders == count) exclusive.erase(cpu);
  }
  return exclusive;
}

StateTotals State::totalsWithout(const ContainerKey& key) const {
  StateTotals totals = totals_;
  const ContainerAllocation* allocation = find(key);
  if (allocation == nullptr) return totals;
  totals.account(*allocation, -1);
  totals.accountPod(podShare(key.pod_uid), -1);
  totals.accountPod(podShare(key.pod_uid, &key), +1);
  return totals;
}

}  // namespace topod::policies
