#include "policies/static/topology_manager/numa_info.h"

#include <bit>
#include <string>
#include <utility>

namespace topod::policies::topology_manager {

NumaInfo::NumaInfo(std::vector<int> nodes, std::map<int, std::map<int, int>> distances)
    : nodes_(std::move(nodes)), distances_(kTableWidth * kTableWidth, 0) {
  for (int node : nodes_) {
    if (node >= 0 && node <= kMaxMaskNodeId) default_affinity_ |= maskOf(node);
  }
  for (const auto& [from, row] : distances) {
    for (const auto& [to, value] : row) {
      bool in_range = from >= 0 && from <= kMaxMaskNodeId && to >= 0 && to <= kMaxMaskNodeId;
      if (in_range) distances_[static_cast<std::size_t>(from) * kTableWidth + static_cast<std::size_t>(to)] = value;
    }
  }
}

Result<NumaInfo> NumaInfo::fromTopology(const topology::Topology& topology) {
  std::vector<int> nodes;
  std::map<int, std::map<int, int>> distances;
  for (const topology::NumaNode& node : topology.numaNodes()) {
    if (node.id > kMaxMaskNodeId) {
      return Error::invalidArgument("topology manager: NUMA node " + std::to_string(node.id) +
                                    " is above the largest node id the kubelet's NUMA bitmask holds (" +
                                    std::to_string(kMaxMaskNodeId) + ")");
    }
    nodes.push_back(node.id);
  }
  for (int from : nodes) {
    for (int to : nodes) distances[from][to] = topology.distance(from, to);
  }
  return NumaInfo(std::move(nodes), std::move(distances));
}

double NumaInfo::averageDistance(NumaMask mask) const {
  if (mask == 0) return 0;
  // Summed as the kubelet does (float64, pair by pair in node order), so ties compare alike.
  double sum = 0;
  double count = 0;
  for (NumaMask from_bits = mask; from_bits != 0; from_bits &= from_bits - 1) {
    int from = std::countr_zero(from_bits);
    for (NumaMask to_bits = mask; to_bits != 0; to_bits &= to_bits - 1) {
      sum += distance(from, std::countr_zero(to_bits));
      count += 1;
    }
  }
  return sum / count;
}

NumaMask NumaInfo::closest(NumaMask a, NumaMask b) const {
  if (maskCount(a) != maskCount(b)) return narrowest(a, b);
  double a_distance = averageDistance(a);
  double b_distance = averageDistance(b);
  // Exact comparison on purpose: the kubelet compares the same float64 averages.
  if (a_distance == b_distance) return isLessThan(a, b) ? a : b;
  return a_distance < b_distance ? a : b;
}

}  // namespace topod::policies::topology_manager
