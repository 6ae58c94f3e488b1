// NUMA distance fixtures shared by the topology manager's tests.
#pragma once

#include <map>
#include <vector>

#include "policies/static/topology_manager/numa_info.h"

namespace topod::policies::topology_manager {

// Nodes 0..n-1 with the distances of a square matrix (row = from, column = to).
inline NumaInfo fromMatrix(const std::vector<std::vector<int>>& matrix) {
  std::vector<int> nodes;
  std::map<int, std::map<int, int>> distances;
  for (std::size_t from = 0; from < matrix.size(); ++from) {
    nodes.push_back(static_cast<int>(from));
    for (std::size_t to = 0; to < matrix[from].size(); ++to) {
      distances[static_cast<int>(from)][static_cast<int>(to)] = matrix[from][to];
    }
  }
  return NumaInfo(nodes, distances);
}

}  // namespace topod::policies::topology_manager
