// The topology manager options through the composed "static" policy: prefer-closest-numa-nodes
// (uses the distance matrix to choose among equally wide hints) and max-allowable-numa-nodes
// (refused at start on larger machines, unless the topology manager policy is none).
#include <gtest/gtest.h>

#include <string>

#include "tests/policies/static/policy/static_fixtures.h"

namespace topod::policies::static_test {
namespace {

// intel-4s-4x12c-smt2: 4 NUMA nodes of 24 CPUs on a ring (distance 21 to a neighbour, 31 across:
// 0-2 and 1-3). Node 1 is filled first; a 30-CPU container then needs two nodes out of 0, 2, 3.
struct ClosestRow {
  std::string name;
  bool prefer_closest;
  NodeSet expected;
};

class PreferClosestTest : public ::testing::TestWithParam<ClosestRow> {};

TEST_P(PreferClosestTest, ChoosesAmongEquallyWideHints) {
  topology::Topology topology = loadFixture("intel-4s-4x12c-smt2");
  ASSERT_EQ(topology.distance(0, 2), 31);
  ASSERT_EQ(topology.distance(0, 3), 21);
  PolicyOptions options = staticOptions(topology);
  options.topology_manager.prefer_closest_numa_nodes = GetParam().prefer_closest;
  auto policy = makeStatic(topology, options);
  ASSERT_NE(policy, nullptr);
  State state;
  PodRequest filler = podOf("filler", {guaranteed("c", 24)});
  auto f = admitAndCommit(topology, options, *policy, state, filler, filler.containers[0]);
  ASSERT_TRUE(f.has_value()) << f.error().toString();
  ASSERT_EQ(nodesOf(topology, f->allocation.exclusive_cpus), NodeSet{1}) << f->explanation;
  PodRequest wide = podOf("wide", {guaranteed("c", 30)});
  auto d = admitAndCommit(topology, options, *policy, state, wide, wide.containers[0]);
  ASSERT_TRUE(d.has_value()) << d.error().toString();
  EXPECT_EQ(nodesOf(topology, d->allocation.exclusive_cpus), GetParam().expected) << d->explanation;
}

INSTANTIATE_TEST_SUITE_P(Rows, PreferClosestTest,
                         ::testing::Values(ClosestRow{"Default_LowestMaskAmongTheNarrowest", false, NodeSet{0, 2}},
                                           ClosestRow{"PreferClosest_NeighboursInsteadOfAcross", true, NodeSet{0, 3}}),
                         [](const ::testing::TestParamInfo<ClosestRow>& row_info) { return row_info.param.name; });

struct MaxNodesRow {
  std::string name;
  TopologyManagerPolicy manager;
  int max_allowable;
  bool created;
};

class MaxAllowableNumaNodesTest : public ::testing::TestWithParam<MaxNodesRow> {};

TEST_P(MaxAllowableNumaNodesTest, RefusedAtStartOnLargerMachines) {
  topology::Topology topology = loadFixture("intel-4s-4x12c-smt2");  // 4 NUMA nodes
  PolicyOptions options = staticOptions(topology);
  options.topology_manager.policy = GetParam().manager;
  options.topology_manager.max_allowable_numa_nodes = GetParam().max_allowable;
  auto policy = makePolicy(topology, options);
  ASSERT_EQ(policy.has_value(), GetParam().created) << (policy.has_value() ? "" : policy.error().toString());
  if (!GetParam().created) {
    EXPECT_NE(policy.error().message().find("4"), std::string::npos) << policy.error().toString();
    EXPECT_NE(policy.error().message().find("topology manager"), std::string::npos) << policy.error().toString();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rows, MaxAllowableNumaNodesTest,
    ::testing::Values(MaxNodesRow{"BestEffortOverTheLimit", TopologyManagerPolicy::BestEffort, 2, false},
                      MaxNodesRow{"SingleNumaNodeOverTheLimit", TopologyManagerPolicy::SingleNumaNode, 3, false},
                      MaxNodesRow{"BestEffortAtTheLimit", TopologyManagerPolicy::BestEffort, 4, true},
                      MaxNodesRow{"NoneIgnoresTheLimit", TopologyManagerPolicy::None, 2, true}),
    [](const ::testing::TestParamInfo<MaxNodesRow>& row_info) { return row_info.param.name; });

}  // namespace
}  // namespace topod::policies::static_test
