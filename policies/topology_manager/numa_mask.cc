#include "policies/topology_manager/numa_mask.h"

namespace topod::policies::topology_manager {

NumaMask toMask(const NodeSet& nodes) {
  NumaMask mask = 0;
  for (int node : nodes) {
    if (node > kMaxMaskNodeId) break;  // ascending iteration: every later id is larger too
    mask |= maskOf(node);
  }
  return mask;
}

NodeSet toNodeSet(NumaMask mask) {
  NodeSet nodes;
  for (int node : maskBits(mask)) nodes.insert(node);
  return nodes;
}

std::vector<int> maskBits(NumaMask mask) {
  std::vector<int> bits;
  while (mask != 0) {
    int bit = std::countr_zero(mask);
    bits.push_back(bit);
    mask &= mask - 1;
  }
  return bits;
}

}  // namespace topod::policies::topology_manager
