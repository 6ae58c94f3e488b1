// NUMA node masks as the kubelet's topology manager uses them (its bitmask package): a 64-bit
// word, one bit per NUMA node id. The merge loop runs over every permutation of the providers'
// hints, so it works on plain words; NodeSet stays the type at every interface.
//
// "Narrower" and "less than" follow the kubelet exactly: a mask is narrower when it has fewer
// nodes, or as many nodes and a smaller numeric value (so {0,1} is narrower than {0,2}, and
// {1,2} (0b110) is narrower than {0,3} (0b1001)).
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "common/cpuset.h"

namespace topod::policies::topology_manager {

using NumaMask = uint64_t;

// The kubelet's bitmask holds node ids 0-63; TopologyManager::create() refuses larger ids.
inline constexpr int kMaxMaskNodeId = 63;

inline NumaMask maskOf(int node) {
  return NumaMask{1} << static_cast<unsigned>(node);
}
// Ids above kMaxMaskNodeId are dropped (callers validate node ids against the topology first).
NumaMask toMask(const NodeSet& nodes);
NodeSet toNodeSet(NumaMask mask);
std::vector<int> maskBits(NumaMask mask);

inline int maskCount(NumaMask mask) {
  return std::popcount(mask);
}
inline bool isLessThan(NumaMask a, NumaMask b) {
  return a < b;
}
inline bool isNarrowerThan(NumaMask a, NumaMask b) {
  if (maskCount(a) == maskCount(b)) return isLessThan(a, b);
  return maskCount(a) < maskCount(b);
}

// Up to this many NUMA nodes (the kubelet's default max_allowable_numa_nodes, the largest machine
// it supports without opting in) the hint providers enumerate every NUMA mask, as the kubelet
// does, and their hints are the kubelet's. Beyond it, 2^nodes masks cannot be enumerated on an
// admission path (2^32 on a 32-node machine), so they consider a bounded family instead (see
// forEachRun): every run of consecutive node ids, O(nodes^2) masks, which holds every single node
// and every node (the answers when one node fits), and the compact multi-node sets, since
// Linux numbers the sub-NUMA clusters of one package, and the nodes of a CXL device,
// consecutively. Each provider lists from that family only its narrowest fitting sets (the
// preferred hints) and the all-nodes set, so its hint list stays O(nodes) long too.
inline constexpr std::size_t kExhaustiveMaskNodes = 8;

// Every run of consecutive positions [start, start + size) of a list of `count` nodes, by size
// and then by start: the order IterateBitMasks would meet them in. Stops when `callback`
// (start, size) returns false.
template <typename Callback>
void forEachRun(std::size_t count, Callback&& callback) {
  for (std::size_t size = 1; size <= count; ++size) {
    for (std::size_t start = 0; start + size <= count; ++start) {
      if (!callback(start, size)) return;
    }
  }
}

// Every non-empty combination of `nodes`: all masks of one node first, then of two, ... each
// size in lexicographic order of positions in `nodes` (the kubelet's IterateBitMasks order,
// which decides ties between hints of the same width).
template <typename Callback>
void forEachMask(const std::vector<int>& nodes, Callback&& callback) {
  const std::size_t n = nodes.size();
  std::vector<std::size_t> pick;
  for (std::size_t size = 1; size <= n; ++size) {
    pick.resize(size);
    for (std::size_t i = 0; i < size; ++i) pick[i] = i;
    while (true) {
      NumaMask mask = 0;
      for (std::size_t index : pick) mask |= maskOf(nodes[index]);
      callback(mask);
      // Advance to the next combination in lexicographic order.
      std::size_t i = size;
      while (i > 0 && pick[i - 1] == n - size + (i - 1)) --i;
      if (i == 0) break;
      ++pick[i - 1];
      for (std::size_t j = i; j < size; ++j) pick[j] = pick[j - 1] + 1;
    }
  }
}

}  // namespace topod::policies::topology_manager
