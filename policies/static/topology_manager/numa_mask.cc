#include "policies/static/topology_manager/numa_mask.h"

namespace topod::policies::topology_manager {

// A NodeSet's first word holds ids 0-63, bit for bit the kubelet's mask.
NumaMask toMask(const NodeSet& nodes) {
  return nodes.word(0);
}

NodeSet toNodeSet(NumaMask mask) {
  return NodeSet::fromWord(mask);
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
