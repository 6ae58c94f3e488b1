// The Static memory policy's hints beyond topology_manager::kExhaustiveMaskNodes NUMA nodes: the
// kubelet's rules (allocatable sets the narrowest width, the group rule, free memory) over the
// bounded family of runs of consecutive nodes and the groups in use, O(nodes) hints listed.
#include <gtest/gtest.h>

#include <vector>

#include "policies/static/topology_manager/numa_mask.h"
#include "tests/policies/static/memory/memory_fixtures.h"

namespace topod::policies::memory::testing {
namespace {

// 16 nodes of 4 GiB allocatable; node 0 also holds the system's reserved 1 GiB.
std::vector<NodeSpec> sixteenNodes() {
  std::vector<NodeSpec> nodes(16, NodeSpec{.allocatable = 4 * kGi});
  nodes[0].reserved = kGi;
  return nodes;
}

ContainerRequest memoryOnly(uint64_t bytes) {
  return guaranteedContainer("c", bytes, 0);
}

std::vector<TopologyHint> memoryHints(const ResourceHints& hints) {
  auto it = hints.find(std::string(kResourceMemory));
  return it == hints.end() ? std::vector<TopologyHint>{} : it->second;
}

TEST(ManyNumaMemoryHints, NarrowestRunsThenEveryNode) {
  ASSERT_GT(sixteenNodes().size(), topology_manager::kExhaustiveMaskNodes);
  StaticMemoryPolicy policy = policyFor(sixteenNodes());
  ContainerRequest small = memoryOnly(2 * kGi);
  std::vector<TopologyHint> hints = memoryHints(policy.containerHints(State{}, podOf("p", {small}), small));
  ASSERT_EQ(hints.size(), 17U);  // 16 single nodes (preferred), then all nodes
  for (int node = 0; node < 16; ++node) {
    EXPECT_EQ(hints[static_cast<std::size_t>(node)], (TopologyHint{NodeSet{node}, true}));
  }
  EXPECT_EQ(hints.back().affinity.size(), 16);
  EXPECT_FALSE(hints.back().preferred);

  // 6 GiB needs two nodes: every adjacent pair is preferred.
  ContainerRequest wide = memoryOnly(6 * kGi);
  hints = memoryHints(policy.containerHints(State{}, podOf("p", {wide}), wide));
  ASSERT_EQ(hints.size(), 16U);  // 15 adjacent pairs, then all nodes
  for (int first = 0; first < 15; ++first) {
    EXPECT_EQ(hints[static_cast<std::size_t>(first)], (TopologyHint{NodeSet{first, first + 1}, true}));
  }
  EXPECT_FALSE(hints.back().preferred);
}

// A group in use ({2,3}, from a 6 GiB container) is listed as it is and its nodes alone are not;
// all nodes together would break the group rule, as in the kubelet.
TEST(ManyNumaMemoryHints, GroupsInUseKeepTheirRule) {
  StaticMemoryPolicy policy = policyFor(sixteenNodes());
  State state = stateOf({Holding{
      .pod = "old",
      .container = "c",
      .nodes = NodeSet{2, 3},
      .charges = {{2, {{std::string(kResourceMemory), 3 * kGi}}}, {3, {{std::string(kResourceMemory), 3 * kGi}}}}}});
  ContainerRequest small = memoryOnly(2 * kGi);
  std::vector<TopologyHint> hints = memoryHints(policy.containerHints(state, podOf("p", {small}), small));
  std::vector<TopologyHint> expected;
  for (int node = 0; node < 16; ++node) {
    if (node != 2 && node != 3) expected.push_back({NodeSet{node}, true});
  }
  expected.push_back({NodeSet{2, 3}, false});
  EXPECT_EQ(hints, expected);
}

// An affinity too small for the memory (the CPUs' single node) is extended to the narrowest
// fitting set of the family that contains it: an adjacent pair (the kubelet, over every mask,
// would take the numerically smallest pair, {0,5}).
TEST(ManyNumaMemoryHints, ASmallAffinityGrowsToAnAdjacentPair) {
  StaticMemoryPolicy policy = policyFor(sixteenNodes());
  ContainerRequest wide = memoryOnly(6 * kGi);
  PodRequest pod = podOf("p", {wide});
  ContainerAllocation allocation;
  ASSERT_TRUE(policy.allocate(State{}, pod, wide, TopologyHint{NodeSet{5}, true}, allocation).has_value());
  EXPECT_EQ(allocation.memory_nodes, (NodeSet{4, 5}));
}

}  // namespace
}  // namespace topod::policies::memory::testing
