// Topology-aware policy behaviour beyond single admissions: pools and options validation, the
// lending of an empty per-NUMA pool, re-admission, explanations, memory spread over nodes.
#include <gtest/gtest.h>

#include "policies/topology_aware/topology_aware_policy.h"
#include "tests/policies/topology_aware/invariants.h"
#include "tests/policies/topology_aware/requests.h"
#include "tests/policies/topology_aware/shapes.h"

namespace topod::policies {
namespace {

using testing::burstable;
using testing::guaranteed;
using testing::kGiB;
using testing::podOf;

using testing::kSnc;
using testing::kTwoSocket;

Decision admitOk(const Policy& policy, State& state, const std::string& uid, const ContainerRequest& c) {
  auto decision = policy.admit(state, podOf(uid, {c}), c);
  EXPECT_TRUE(decision.has_value()) << decision.error().toString();
  if (!decision.has_value()) return {};
  state = applyDecision(state, *decision);
  return *decision;
}

struct BadOptionsCase {
  std::string name;
  PolicyOptions options;
  std::string error;
};

class BadOptionsTest : public ::testing::TestWithParam<BadOptionsCase> {};

TEST_P(BadOptionsTest, RefusedAtConstruction) {
  auto policy = makeTopologyAwarePolicy(testing::buildShape(kTwoSocket), GetParam().options);
  ASSERT_FALSE(policy.has_value());
  EXPECT_EQ(policy.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(policy.error().message().find(GetParam().error), std::string::npos) << policy.error().toString();
}

INSTANTIATE_TEST_SUITE_P(
    Options, BadOptionsTest,
    ::testing::Values(
        BadOptionsCase{"ReservedCpuOffline", {.reserved_cpus = CpuSet{0, 99}}, "are not all online"},
        BadOptionsCase{"ReservedCountTooLarge", {.reserved_cpu_count = 33}, "reserved CPU count 33"},
        BadOptionsCase{"ReservedCountNegative", {.reserved_cpu_count = -1}, "reserved CPU count -1"},
        BadOptionsCase{"StrictReservationOfEverything",
                       {.cpu = {.strict_cpu_reservation = true}, .reserved_cpus = CpuSet::range(0, 31)},
                       "leaves no CPU"},
        BadOptionsCase{"ReservedMemoryOnMissingNode",
                       {.reserved_memory = {{7, {{"memory", kGiB}}}}},
                       "NUMA node 7, which does not exist"},
        BadOptionsCase{"ReservedMemoryBeyondCapacity",
                       {.reserved_memory = {{0, {{"memory", 100 * kGiB}}}}},
                       "exceeds its capacity"},
        BadOptionsCase{"StaticPolicyCpuOrderOption", {.cpu = {.full_pcpus_only = true}}, "only strict-cpu-reservation"},
        BadOptionsCase{
            "ReservedHugepagesNodeHasNone", {.reserved_memory = {{0, {{"hugepages-2Mi", kGiB}}}}}, "which has none"}),
    [](const ::testing::TestParamInfo<BadOptionsCase>& row_info) { return row_info.param.name; });

TEST(TopologyAwarePoolsTest, ReservedCountTakesWholeCoresFromTheLowestNode) {
  auto policy = TopologyAwarePolicy::create(testing::buildShape(kTwoSocket), {.reserved_cpu_count = 3});
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ((*policy)->pools().reserved, (CpuSet{0, 1, 16}));
}

TEST(TopologyAwarePoolsTest, ReservedMemoryLowersCapacity) {
  topology::Topology topology = testing::buildShape(kTwoSocket);
  auto policy = TopologyAwarePolicy::create(topology, {.reserved_memory = {{0, {{"memory", 60 * kGiB}}}}});
  ASSERT_TRUE(policy.has_value());
  State state;
  Decision d = admitOk(**policy, state, "a", guaranteed("c", 2000, 8 * kGiB));
  EXPECT_EQ(d.allocation.memory_nodes, NodeSet{1}) << d.explanation;
}

// The huge page pools are carved out of a node's memory: 32 GiB of 2 MiB pages leave 32 of the
// 64 GiB for ordinary pages, so 40 GiB of memory no longer fits on one node.
TEST(TopologyAwarePoolsTest, HugepagePoolsAreNotOrdinaryMemory) {
  testing::ShapeSpec shape = kTwoSocket;
  shape.hugepages_2m_per_node = 16384;
  auto policy = TopologyAwarePolicy::create(testing::buildShape(shape), {});
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ((*policy)->pools().capacity.at(0).at("memory"), 32 * kGiB);
  State state;
  Decision d = admitOk(**policy, state, "a", guaranteed("c", 2000, 40 * kGiB));
  EXPECT_EQ(d.allocation.memory_nodes, (NodeSet{0, 1})) << d.explanation;
}

TEST(TopologyAwarePoolsTest, HugepagesBeyondTheNodesMemoryRefused) {
  testing::ShapeSpec shape = kTwoSocket;
  shape.memory_per_node = 8 * kGiB;
  shape.hugepages_2m_per_node = 8192;  // 16 GiB
  auto policy = TopologyAwarePolicy::create(testing::buildShape(shape), {});
  ASSERT_FALSE(policy.has_value());
  EXPECT_NE(policy.error().message().find("more than its memory"), std::string::npos) << policy.error().toString();
}

TEST(TopologyAwarePolicyTest, EmptyPoolLendsFromTheNearestNode) {
  topology::Topology topology = testing::buildShape(kSnc);  // 4 nodes x 12 CPUs
  // Reserve one CPU of node 3 so the policy may fill nodes 0-2 completely.
  auto policy = TopologyAwarePolicy::create(topology, {.reserved_cpus = CpuSet{47}}).value();
  State state;
  Decision pinned = admitOk(*policy, state, "a", burstable("c", 500, kGiB));
  ASSERT_EQ(pinned.allocation.shared_pool_nodes, NodeSet{0});
  // Node 0 is avoided while another node fits as well: its pool has a pinned container.
  Decision b = admitOk(*policy, state, "b", guaranteed("c", 12000, kGiB));
  EXPECT_EQ(b.allocation.memory_nodes, NodeSet{1}) << b.explanation;
  admitOk(*policy, state, "c", guaranteed("c", 12000, kGiB));
  Decision d = admitOk(*policy, state, "d", guaranteed("c", 12000, kGiB));
  ASSERT_EQ(d.allocation.memory_nodes, NodeSet{0}) << d.explanation;
  // Node 0's pool is empty; nodes 1 and 2 are full too; node 3 is the nearest with shared CPUs.
  Placement lent = policy->placements(state).at({"a", "c"});
  EXPECT_EQ(lent.cpus, topology.cpusOfNuma(3));
  EXPECT_EQ(lent.mems, NodeSet{0});
  EXPECT_EQ(testing::invariantViolations(topology, *policy, state), std::vector<std::string>{});
  // Node 0's CPUs come back to its own pool once the exclusive container leaves.
  state = releaseContainer(state, {"d", "c"});
  EXPECT_EQ(policy->placements(state).at({"a", "c"}).cpus, topology.cpusOfNuma(0));
}

TEST(TopologyAwarePolicyTest, ReadmissionKeepsTheAllocation) {
  topology::Topology topology = testing::buildShape(kTwoSocket);
  auto policy = makeTopologyAwarePolicy(topology, {}).value();
  State state;
  Decision first = admitOk(*policy, state, "a", guaranteed("c", 4000, kGiB));
  auto again = policy->admit(state, podOf("a", {guaranteed("c", 4000, kGiB)}), guaranteed("c", 4000, kGiB));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->allocation, first.allocation);
  EXPECT_EQ(again->placement, first.placement);
}

TEST(TopologyAwarePolicyTest, ExplanationNamesCandidatesAndTheChoice) {
  topology::Topology topology = testing::buildShape(kTwoSocket);
  auto policy = makeTopologyAwarePolicy(topology, {}).value();
  State state;
  admitOk(*policy, state, "a", guaranteed("c", 10000, kGiB));
  Decision d = admitOk(*policy, state, "b", guaranteed("c", 4000, kGiB));
  EXPECT_EQ(d.explanation,
            "exclusive 4 CPUs 5-6,21-22: 2 whole cores (5,21, 6,22); NUMA node 0; package 0; L3 group 0; "
            "candidates: node 0 6 free (fits, 2 left), node 1 16 free (fits, 12 left); chose NUMA 0: best fit "
            "(2 CPUs left over); why these CPUs: inside the chosen node(s), one L3 group when the request fits one "
            "(the fullest that still holds it, keeping emptier groups whole), else whole L3 groups; then whole free "
            "cores, lowest first, and a remainder on a partly used core");
  auto refused = policy->admit(state, podOf("c", {guaranteed("c", 20000, kGiB)}), guaranteed("c", 20000, kGiB));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message(),
            "pod default/c container c: needs 20 exclusive CPUs, 17 available "
            "(one CPU stays in the shared pool, no CPUs are reserved)");
}

TEST(TopologyAwarePolicyTest, MultiNodeMemoryFillsThePrimaryNodeFirst) {
  topology::Topology topology = testing::buildShape(kSnc);  // 64 GiB per node
  auto policy = makeTopologyAwarePolicy(topology, {}).value();
  State state;
  Decision d = admitOk(*policy, state, "a", guaranteed("c", 16000, 100 * kGiB));
  EXPECT_EQ(d.allocation.memory_nodes, (NodeSet{0, 1}));
  EXPECT_EQ(d.allocation.memory.at(0).at(kResourceMemory), 64 * kGiB);
  EXPECT_EQ(d.allocation.memory.at(1).at(kResourceMemory), 36 * kGiB);
  EXPECT_EQ(d.placement.mems, (NodeSet{0, 1}));
}

TEST(TopologyAwarePolicyTest, InitContainersRunSharedAndAreNotCharged) {
  topology::Topology topology = testing::buildShape(kTwoSocket);
  auto policy = makeTopologyAwarePolicy(topology, {}).value();
  ContainerRequest init = guaranteed("init", 2000, 8 * kGiB);
  init.kind = ContainerKind::Init;
  ContainerRequest app = guaranteed("app", 2000, 8 * kGiB);
  PodRequest pod = podOf("a", {init, app});
  auto decision = policy->admit(State{}, pod, init);
  ASSERT_TRUE(decision.has_value());
  EXPECT_TRUE(decision->allocation.exclusive_cpus.empty());
  EXPECT_TRUE(decision->allocation.memory.empty());
  EXPECT_EQ(decision->allocation.shared_pool_nodes.size(), 1);
  auto app_decision = policy->admit(applyDecision(State{}, *decision), pod, app);
  ASSERT_TRUE(app_decision.has_value());
  EXPECT_EQ(app_decision->allocation.exclusive_cpus.size(), 2);
}

TEST(TopologyAwarePolicyTest, MachineWithoutMemorySizesDoesNotAccountMemory) {
  topology::TopologyBuilder b;
  for (int cpu = 0; cpu < 4; ++cpu) b.addCpu({.id = cpu, .core_id = cpu, .l3 = 0, .numa = 0});
  topology::Topology topology = b.build().value();
  auto policy = makeTopologyAwarePolicy(topology, {}).value();
  State state;
  Decision d = admitOk(*policy, state, "a", guaranteed("c", 2000, 1024 * kGiB));
  EXPECT_TRUE(d.allocation.memory.empty());
  EXPECT_EQ(d.allocation.memory_nodes, NodeSet{0});
}

TEST(TopologyAwarePolicyTest, NegativeCpuRequestIsInvalid) {
  auto policy = makeTopologyAwarePolicy(testing::buildShape(kTwoSocket), {}).value();
  ContainerRequest c = guaranteed("c", -1000, kGiB);
  auto decision = policy->admit(State{}, podOf("a", {c}), c);
  ASSERT_FALSE(decision.has_value());
  EXPECT_EQ(decision.error().code(), ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace topod::policies
