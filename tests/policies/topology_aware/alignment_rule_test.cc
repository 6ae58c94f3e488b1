// The topology manager policy read as topology-aware's admission rule for exclusive containers:
// best-effort (and none) span NUMA nodes when nothing narrower fits, restricted refuses wider than
// the narrowest set that could ever hold the request, single-numa-node refuses more than one node.
// Same rule for an in-place grow. One row per (policy, situation).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policies/policy.h"
#include "policies/policy_registry.h"
#include "tests/policies/topology_aware/requests.h"
#include "tests/policies/topology_aware/shapes.h"

namespace topod::policies {
namespace {

using testing::gpuOn;
using testing::guaranteed;
using testing::kGiB;
using testing::podOf;

// 2 NUMA nodes x 4 cores x 2 threads (8 CPUs per node); CPU 0 and its sibling 8 reserved, so
// node 0 has 6 exclusive candidates and node 1 has 8. GPUs: one per node.
const testing::ShapeSpec kTwoNodes{.name = "TwoNodes", .packages = 2, .cores_per_l3 = 4, .gpus_per_node = 1};

struct Row {
  std::string name;
  TopologyManagerPolicy manager;
  std::vector<int> earlier;  // exclusive CPU counts admitted first (must all succeed)
  int cpus = 0;              // then this request
  int gpu_node = -1;
  bool admitted = false;
  int nodes = 0;       // NUMA nodes of the admitted CPUs
  std::string reason;  // substring of the refusal
};

class AlignmentRuleTest : public ::testing::TestWithParam<Row> {};

std::unique_ptr<Policy> make(const topology::Topology& topology, TopologyManagerPolicy manager) {
  PolicyOptions options;
  options.policy = "topology-aware";
  options.reserved_cpus = topology.siblingsOf(0);
  options.topology_manager.policy = manager;
  auto policy = makePolicy(topology, options);
  EXPECT_TRUE(policy.has_value()) << policy.error().toString();
  return std::move(*policy);
}

NodeSet nodesOf(const topology::Topology& topology, const CpuSet& cpus) {
  NodeSet nodes;
  for (int cpu : cpus) nodes.insert(topology.numaOf(cpu));
  return nodes;
}

TEST_P(AlignmentRuleTest, AdmitsOrRefuses) {
  const Row& row = GetParam();
  topology::Topology topology = testing::buildShape(kTwoNodes);
  auto policy = make(topology, row.manager);
  State state;
  for (std::size_t i = 0; i < row.earlier.size(); ++i) {
    ContainerRequest c = guaranteed("c", row.earlier[i] * 1000, kGiB);
    auto d = policy->admit(state, podOf("earlier-" + std::to_string(i), {c}), c);
    ASSERT_TRUE(d.has_value()) << d.error().toString();
    state = applyDecision(state, *d);
  }
  std::vector<DeviceRequest> devices;
  if (row.gpu_node >= 0) devices.push_back(gpuOn(row.gpu_node));
  ContainerRequest c = guaranteed("c", row.cpus * 1000, kGiB, devices);
  auto decision = policy->admit(state, podOf("new", {c}), c);
  ASSERT_EQ(decision.has_value(), row.admitted)
      << (decision.has_value() ? decision->explanation : decision.error().toString());
  if (row.admitted) {
    EXPECT_EQ(nodesOf(topology, decision->allocation.exclusive_cpus).size(), row.nodes) << decision->explanation;
    if (row.gpu_node >= 0) {
      EXPECT_TRUE(decision->allocation.memory_nodes.contains(row.gpu_node));
    }
  } else {
    EXPECT_EQ(decision.error().code(), ErrorCode::ResourceExhausted);
    EXPECT_NE(decision.error().message().find(row.reason), std::string::npos) << decision.error().toString();
  }
}

using enum TopologyManagerPolicy;
INSTANTIATE_TEST_SUITE_P(
    Rows, AlignmentRuleTest,
    ::testing::Values(
        Row{"BestEffortFitsOneNode", BestEffort, {}, 4, -1, true, 1, ""},
        Row{"BestEffortSpansWhenNoNodeFits", BestEffort, {4, 4}, 6, -1, true, 2, ""},
        Row{"NoneSpansLikeBestEffort", None, {4, 4}, 6, -1, true, 2, ""},
        Row{"BestEffortSpansForLargerThanANode", BestEffort, {}, 10, -1, true, 2, ""},
        Row{"SingleNumaNodeFitsOneNode", SingleNumaNode, {4}, 8, -1, true, 1, ""},
        Row{"SingleNumaNodeRefusesASpan", SingleNumaNode, {4, 4}, 6, -1, false, 0, "single-numa-node"},
        Row{"SingleNumaNodeRefusesLargerThanANode", SingleNumaNode, {}, 10, -1, false, 0, "single-numa-node"},
        Row{"SingleNumaNodeRefusesWhenTheGpuNodeIsFull", SingleNumaNode, {8}, 2, 1, false, 0, "devices on node 1"},
        Row{"SingleNumaNodeFollowsTheGpu", SingleNumaNode, {}, 2, 1, true, 1, ""},
        Row{"RestrictedRefusesASpanThatOneNodeCouldHold", Restricted, {4, 4}, 6, -1, false, 0, "restricted"},
        Row{"RestrictedAdmitsTwoNodesWhenTwoAreTheNarrowest", Restricted, {2}, 12, -1, true, 2, ""}),
    [](const ::testing::TestParamInfo<Row>& row_info) { return row_info.param.name; });

struct GrowRow {
  std::string name;
  TopologyManagerPolicy manager;
  int from = 0;
  int to = 0;
  bool grown = false;
};

class AlignmentRuleGrowTest : public ::testing::TestWithParam<GrowRow> {};

// A 4-CPU container fills node 0 down to 2 free CPUs; the resized one starts with 4 CPUs on
// node 1 (best fit) and a 3-CPU container leaves node 1 one free CPU: a grow by one stays on
// node 1, a grow by two must spill to node 0.
TEST_P(AlignmentRuleGrowTest, GrowsOrKeepsItsCpus) {
  const GrowRow& row = GetParam();
  topology::Topology topology = testing::buildShape(kTwoNodes);
  auto policy = make(topology, row.manager);
  State state;
  auto admit = [&](const std::string& uid, int cpus) {
    ContainerRequest c = guaranteed("c", cpus * 1000, kGiB);
    auto d = policy->admit(state, podOf(uid, {c}), c);
    EXPECT_TRUE(d.has_value()) << d.error().toString();
    state = applyDecision(state, *d);
    return d->allocation.exclusive_cpus;
  };
  admit("filler-a", 4);
  CpuSet held = admit("grower", row.from);
  ASSERT_EQ(nodesOf(topology, held), NodeSet{1});
  admit("filler-b", 3);
  ContainerRequest bigger = guaranteed("c", row.to * 1000, kGiB);
  auto resized = policy->resize(state, podOf("grower", {bigger}), bigger);
  const CpuSet& before = held;
  ASSERT_EQ(resized.has_value(), row.grown)
      << (resized.has_value() ? resized->explanation : resized.error().toString());
  if (row.grown) {
    EXPECT_TRUE(before.isSubsetOf(resized->allocation.exclusive_cpus));
    EXPECT_EQ(resized->allocation.exclusive_cpus.size(), row.to);
  } else {
    EXPECT_NE(resized.error().message().find("keeping CPUs " + before.toString()), std::string::npos)
        << resized.error().toString();
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, AlignmentRuleGrowTest,
                         ::testing::Values(GrowRow{"BestEffortSpillsToTheNextNode", BestEffort, 4, 6, true},
                                           GrowRow{"SingleNumaNodeGrowsWithinTheNode", SingleNumaNode, 4, 5, true},
                                           GrowRow{"SingleNumaNodeRefusesASpill", SingleNumaNode, 4, 6, false},
                                           GrowRow{"RestrictedGrowsWithinTheNode", Restricted, 4, 5, true},
                                           GrowRow{"RestrictedRefusesASpillOneNodeCouldHold", Restricted, 4, 6, false}),
                         [](const ::testing::TestParamInfo<GrowRow>& row_info) { return row_info.param.name; });

}  // namespace
}  // namespace topod::policies
