#include "policies/state.h"

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

}  // namespace

void StateTotals::account(const ContainerAllocation& allocation, int sign) {
  for (int cpu : allocation.exclusive_cpus) {
    auto [it, inserted] = exclusive_holders.try_emplace(cpu, 0);
    it->second += sign;
    if (it->second == 0) {
      exclusive_holders.erase(it);
      exclusive_cpus.erase(cpu);
    } else {
      exclusive_cpus.insert(cpu);
    }
  }
  for (const auto& [node, resources] : allocation.memory) {
    auto& node_totals = memory[node];
    for (const auto& [resource, bytes] : resources) {
      // Unsigned arithmetic wraps as intended: removing what was added returns to the old value.
      addOrErase(node_totals, resource, sign > 0 ? bytes : uint64_t{0} - bytes);
    }
    if (node_totals.empty()) memory.erase(node);
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

State::State(Containers containers) : containers_(std::move(containers)) {
  for (const auto& [key, allocation] : containers_) totals_.account(allocation, +1);
}

const ContainerAllocation* State::find(const ContainerKey& key) const {
  auto it = containers_.find(key);
  return it == containers_.end() ? nullptr : &it->second;
}

void State::put(const ContainerKey& key, ContainerAllocation allocation) {
  auto it = containers_.find(key);
  if (it != containers_.end()) {
    totals_.account(it->second, -1);
    it->second = std::move(allocation);
  } else {
    it = containers_.emplace(key, std::move(allocation)).first;
  }
  totals_.account(it->second, +1);
}

bool State::erase(const ContainerKey& key) {
  auto it = containers_.find(key);
  if (it == containers_.end()) return false;
  totals_.account(it->second, -1);
  containers_.erase(it);
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
  for (auto it = first; it != last; ++it) totals.account(it->second, -1);
  return totals;
}

}  // namespace topod::policies
