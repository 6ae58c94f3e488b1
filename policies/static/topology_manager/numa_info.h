// The NUMA facts the topology manager merges over: the machine's node ids and the SLIT distance
// matrix (kubelet topologymanager/numa_info.go). Built from a Topology, or spelled out in tests.
#pragma once

#include <map>
#include <vector>

#include "common/result.h"
#include "policies/static/topology_manager/numa_mask.h"
#include "topology/model.h"

namespace topod::policies::topology_manager {

class NumaInfo {
 public:
  NumaInfo() = default;
  // `distances[from][to]`, keyed by node id; a missing entry reads as 0 (never the case for a
  // NumaInfo built from a Topology, whose matrix is complete).
  NumaInfo(std::vector<int> nodes, std::map<int, std::map<int, int>> distances);
  // Fails when a node id does not fit the kubelet's 64-bit mask.
  static Result<NumaInfo> fromTopology(const topology::Topology& topology);

  const std::vector<int>& nodes() const { return nodes_; }
  // Every node of the machine: the "any NUMA" affinity.
  NumaMask defaultAffinity() const { return default_affinity_; }

  // Mean distance over every ordered pair (including a node with itself) of the mask's nodes;
  // 0 for the empty mask.
  double averageDistance(NumaMask mask) const;
  // The narrower of two masks (on a tie in width, the numerically smaller).
  NumaMask narrowest(NumaMask a, NumaMask b) const { return isNarrowerThan(a, b) ? a : b; }
  // prefer-closest-numa-nodes: the narrower of two masks of different widths; for equal widths
  // the smaller average distance, then the numerically smaller mask.
  NumaMask closest(NumaMask a, NumaMask b) const;

 private:
  int distance(int from, int to) const {
    return distances_[static_cast<std::size_t>(from) * kTableWidth + static_cast<std::size_t>(to)];
  }
  static constexpr std::size_t kTableWidth = kMaxMaskNodeId + 1;

  std::vector<int> nodes_;
  // Row-major (kMaxMaskNodeId + 1)^2 table: the closest-NUMA comparison runs inside the merge.
  std::vector<int> distances_;
  NumaMask default_affinity_ = 0;
};

}  // namespace topod::policies::topology_manager
