#include "policies/topology_aware/cpu_picker.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

#include "common/check.h"

namespace topod::policies::topology_aware {

namespace {

// Group key: the L3 index, or (for CPUs without an L3) the NUMA node shifted out of the way.
int groupOf(const topology::Topology& topology, int cpu) {
  int l3 = topology.l3Of(cpu);
  constexpr int kNoL3Base = 1 << 20;  // far above any dense L3 index
  return l3 >= 0 ? l3 : kNoL3Base + topology.numaOf(cpu);
}

std::map<int, CpuSet> byGroup(const topology::Topology& topology, const CpuSet& cpus) {
  std::map<int, CpuSet> groups;
  for (int cpu : cpus) groups[groupOf(topology, cpu)].insert(cpu);
  return groups;
}

CpuSet pickInGroup(const topology::Topology& topology, const CpuSet& free, int count) {
  // Free CPUs per core, keyed by the dense core index (ascending = contiguous from the low end).
  std::map<int, CpuSet> cores;
  for (int cpu : free) cores[topology.coreOf(cpu).index].insert(cpu);
  auto whole = [&](int core_index, const CpuSet& cpus) {
    return cpus == topology.cores()[static_cast<std::size_t>(core_index)].cpus;
  };

  CpuSet picked;
  int remaining = count;
  // Whole free cores while at least a core's worth is still needed.
  for (auto& [index, cpus] : cores) {
    if (remaining == 0) break;
    if (whole(index, cpus) && cpus.size() <= remaining) {
      picked |= cpus;
      remaining -= cpus.size();
      cpus.clear();
    }
  }
  if (remaining == 0) return picked;
  // A remainder smaller than a core: the partly used core with the fewest free CPUs that holds
  // it, so whole cores stay whole; a whole core only when no partly used one fits.
  const CpuSet* best = nullptr;
  std::tuple<bool, int, int> best_key;
  for (const auto& [index, cpus] : cores) {
    if (cpus.empty() || cpus.size() < remaining) continue;
    std::tuple<bool, int, int> key{whole(index, cpus), cpus.size(), index};
    if (best == nullptr || key < best_key) {
      best = &cpus;
      best_key = key;
    }
  }
  if (best != nullptr) {
    for (int cpu : *best) {
      if (remaining == 0) break;
      picked.insert(cpu);
      --remaining;
    }
    return picked;
  }
  // Not enough whole cores: anything left, partly used cores first.
  for (bool take_whole : {false, true}) {
    for (const auto& [index, cpus] : cores) {
      if (cpus.empty() || whole(index, cpus) != take_whole) continue;
      for (int cpu : cpus) {
        if (remaining == 0) return picked;
        picked.insert(cpu);
        --remaining;
      }
    }
  }
  return picked;
}

}  // namespace

CpuSet pickCpus(const topology::Topology& topology, const CpuSet& free, int count) {
  TOPOD_CHECK(count >= 0 && count <= free.size());
  std::map<int, CpuSet> groups = byGroup(topology, free);
  CpuSet picked;
  int remaining = count;
  while (remaining > 0) {
    // Best fit: the group with the fewest free CPUs that holds the rest of the request.
    auto fit = groups.end();
    for (auto it = groups.begin(); it != groups.end(); ++it) {
      if (it->second.size() >= remaining && (fit == groups.end() || it->second.size() < fit->second.size())) {
        fit = it;
      }
    }
    if (fit != groups.end()) {
      picked |= pickInGroup(topology, fit->second, remaining);
      return picked;
    }
    // Nothing holds the rest: take the largest group whole (fewest groups spanned).
    auto largest = groups.begin();
    for (auto it = groups.begin(); it != groups.end(); ++it) {
      if (it->second.size() > largest->second.size()) largest = it;
    }
    picked |= largest->second;
    remaining -= largest->second.size();
    groups.erase(largest);
  }
  return picked;
}

CpuSet cpusToRelease(const topology::Topology& topology, const CpuSet& held, int count) {
  TOPOD_CHECK(count >= 0 && count <= held.size());
  std::map<int, int> per_node;
  std::map<int, int> per_group;
  std::map<int, int> per_core;
  for (int cpu : held) {
    ++per_node[topology.numaOf(cpu)];
    ++per_group[groupOf(topology, cpu)];
    ++per_core[topology.coreOf(cpu).index];
  }
  std::vector<int> order = held.toVector();
  auto key = [&](int cpu) {
    const topology::Core& core = topology.coreOf(cpu);
    bool whole = per_core[core.index] == core.cpus.size();
    // Ascending key = released first.
    return std::make_tuple(per_node[topology.numaOf(cpu)], per_group[groupOf(topology, cpu)], whole, -core.index, -cpu);
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key(a) < key(b); });
  CpuSet released;
  for (int i = 0; i < count; ++i) released.insert(order[static_cast<std::size_t>(i)]);
  return released;
}

}  // namespace topod::policies::topology_aware
