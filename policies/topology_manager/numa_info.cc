#include "policies/topology_manager/numa_info.h"

#include <string>
#include <utility>

namespace topod::policies::topology_manager {

NumaInfo::NumaInfo(std::vector<int> nodes, std::map<int, std::map<int, int>> distances)
    : nodes_(std::move(nodes)), distances_(std::move(distances)) {
  for (int node : nodes_) {
    if (node >= 0 && node <= kMaxMaskNodeId) default_affinity_ |= maskOf(node);
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

int NumaInfo::distance(int from, int to) const {
  auto row = distances_.find(from);
  if (row == distances_.end()) return 0;
  auto cell = row->second.find(to);
  return cell == row->second.end() ? 0 : cell->second;
}

double NumaInfo::averageDistance(NumaMask mask) const {
  if (mask == 0) return 0;
  std::vector<int> bits = maskBits(mask);
  double sum = 0;
  double count = 0;
  for (int from : bits) {
    for (int to : bits) {
      sum += distance(from, to);
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
