// Rows transcribed from the kubelet's memorymanager/policy_static_test.go (TestStaticPolicyNew,
// TestStaticPolicyStart where it validates assignments, TestStaticPolicyAllocate,
// TestStaticPolicyGetTopologyHints): same machine, same existing assignments, same request and
// topology manager hint, same expected blocks or error. The kubelet keeps a machine-state table
// beside the assignments; topod derives it from the State, so the machines below are spelled by
// their allocatable memory and the States by what each container holds per NUMA node.
#include "policies/static/memory/static_memory_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/policies/static/memory/memory_fixtures.h"
#include "tests/policies/static/topology_manager/hint_dsl.h"

namespace topod::policies::memory {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace testing;  // NOLINT: test fixtures
using policies::testing::sanitizeName;

TEST(StaticMemoryPolicyNew, FailsWithoutSystemReservedMemory) {
  // "should fail, when machine does not have reserved memory for the system workloads"
  auto policy = StaticMemoryPolicy::create(machineOf({{1536 * kMi, 512 * kMi, 1}}), {});
  ASSERT_FALSE(policy.has_value());
  EXPECT_EQ(policy.error().message(), "[memorymanager] you should specify the system reserved memory");
}

TEST(StaticMemoryPolicyNew, SucceedsWhenOneNodeHasReservedMemory) {
  // "should succeed, when at least one NUMA node has reserved memory"
  std::vector<NodeSpec> nodes = {{1536 * kMi, 0, 1}, {1536 * kMi, 512 * kMi, 1}};
  NumaResourceBytes reserved = {{0, {}}, {1, {{kResourceMemory, 512 * kMi}}}};
  EXPECT_TRUE(StaticMemoryPolicy::create(machineOf(nodes), reserved).has_value());
}

TEST(StaticMemoryPolicyNew, RejectsReservedMemoryTheMachineLacks) {
  std::vector<NodeSpec> nodes = {{1536 * kMi, 512 * kMi, 1}};
  EXPECT_FALSE(
      StaticMemoryPolicy::create(machineOf(nodes), {{0, {{kResourceMemory, 512 * kMi}}}, {3, {{kResourceMemory, kMi}}}})
          .has_value());
  EXPECT_FALSE(
      StaticMemoryPolicy::create(machineOf(nodes), {{0, {{kResourceMemory, 512 * kMi}, {kHugepages2Mi, 2 * kMi}}}})
          .has_value());
  EXPECT_FALSE(StaticMemoryPolicy::create(machineOf(nodes), {{0, {{kResourceMemory, 8 * kGi}}}}).has_value());
}

TEST(StaticMemoryPolicyStart, DefaultMachineStateSubtractsReservedAndHugepages) {
  // "should fill the state with default values, when the state is empty": 3Gi node, 512Mi
  // reserved, one 1Gi page -> memory allocatable 1536Mi, huge pages 1Gi.
  StaticMemoryPolicy policy = policyFor({{1536 * kMi, 512 * kMi, 1}});
  const NumaMemoryState& node = policy.defaultState().at(0);
  EXPECT_EQ(node.memory.at(kResourceMemory), (MemoryTable{3 * kGi, 512 * kMi, 1536 * kMi, 0, 1536 * kMi}));
  EXPECT_EQ(node.memory.at(kHugepages1Gi), (MemoryTable{kGi, 0, kGi, 0, kGi}));
  EXPECT_EQ(node.cells, NodeSet{0});
  EXPECT_EQ(node.assignments, 0);
}

TEST(StaticMemoryPolicyStart, AssignmentOnMissingNodeIsAnError) {
  // "should fail when machine state does not have NUMA node that is used under the memory assignment"
  StaticMemoryPolicy policy = policyFor({{1536 * kMi, 512 * kMi, 1}});
  auto machine = policy.machineState(stateOf({{"pod1", "container1", {1}, {{1, {{kResourceMemory, kGi}}}}}}));
  ASSERT_FALSE(machine.has_value());
  EXPECT_THAT(machine.error().message(), HasSubstr("NUMA node 1, which this machine does not have"));
}

TEST(StaticMemoryPolicyStart, AssignmentOfMissingResourceIsAnError) {
  // "should fail when machine state does not have resource that used under the memory assignment"
  StaticMemoryPolicy policy = policyFor({{1536 * kMi, 512 * kMi, 1}});
  auto machine = policy.machineState(
      stateOf({{"pod1", "container1", {0}, {{0, {{kResourceMemory, kGi}, {kHugepages2Mi, kGi}}}}}}));
  ASSERT_FALSE(machine.has_value());
  EXPECT_THAT(machine.error().message(), HasSubstr("hugepages-2Mi on NUMA node 0, which has none"));
}

TEST(StaticMemoryPolicyStart, CrossNumaAssignmentsAddUp) {
  // "should validate cross NUMA reserved memory vs container assignments": two containers on
  // {0,1}; the kubelet's greedy fill puts 640Mi + 128Mi... here the holdings say it directly.
  StaticMemoryPolicy policy = policyFor({{640 * kMi, 512 * kMi, 1}, {640 * kMi, 512 * kMi, 1}});
  State state = stateOf({
      {"pod1",
       "container1",
       {0, 1},
       {{0, {{kResourceMemory, 640 * kMi}, {kHugepages1Gi, kGi}}}, {1, {{kResourceMemory, 128 * kMi}}}}},
      {"pod2", "container2", {0, 1}, {{1, {{kResourceMemory, 256 * kMi}, {kHugepages1Gi, kGi}}}}},
  });
  auto machine = policy.machineState(state);
  ASSERT_TRUE(machine.has_value()) << machine.error().toString();
  EXPECT_EQ(machine->at(0).memory.at(kResourceMemory).free, 0u);
  EXPECT_EQ(machine->at(1).memory.at(kResourceMemory).free, 256 * kMi);
  EXPECT_EQ(machine->at(1).memory.at(kResourceMemory).reserved, 384 * kMi);
  EXPECT_EQ(machine->at(0).cells, (NodeSet{0, 1}));
  EXPECT_EQ(machine->at(1).assignments, 2);
}

TEST(StaticMemoryPolicyStart, OverchargedNodeIsAnError) {
  StaticMemoryPolicy policy = policyFor({{1536 * kMi, 512 * kMi, 1}});
  auto machine = policy.machineState(stateOf({{"pod1", "container1", {0}, {{0, {{kResourceMemory, 2 * kGi}}}}}}));
  ASSERT_FALSE(machine.has_value());
  EXPECT_THAT(machine.error().message(), HasSubstr("more than the 1536Mi left there"));
}

// TestStaticPolicyAllocate.
struct AllocateRow {
  std::string name;
  std::vector<NodeSpec> machine;
  std::vector<Holding> existing;
  PodRequest pod;
  TopologyHint hint;
  std::optional<std::string> expected_error;  // the kubelet's error text (a prefix of ours)
  NodeSet expected_nodes;
  NumaResourceBytes expected_charges;
};

class StaticMemoryAllocateTest : public ::testing::TestWithParam<AllocateRow> {};

TEST_P(StaticMemoryAllocateTest, AllocatesLikeTheKubelet) {
  const AllocateRow& row = GetParam();
  StaticMemoryPolicy policy = policyFor(row.machine);
  State state = stateOf(row.existing);
  ContainerAllocation allocation;
  Status status = policy.allocate(state, row.pod, row.pod.containers[0], row.hint, allocation);
  if (row.expected_error.has_value()) {
    ASSERT_FALSE(status.has_value());
    EXPECT_THAT(status.error().message(), StartsWith(*row.expected_error));
    return;
  }
  ASSERT_TRUE(status.has_value()) << status.error().toString();
  EXPECT_EQ(allocation.memory_nodes, row.expected_nodes);
  EXPECT_EQ(allocation.memory, row.expected_charges);
}

// Three nodes as in the kubelet's "preferred false" rows: node 0 has 1Gi allocatable (512Mi of
// it held by pod1), nodes 1 and 2 have 512Mi; one 1Gi page each.
const std::vector<NodeSpec> kThreeSmallNodes = {
    {kGi, 512 * kMi, 1}, {512 * kMi, 512 * kMi, 1}, {512 * kMi, 512 * kMi, 1}};
const std::vector<Holding> kPod1HalfGigOnNode0 = {{"pod1", "container1", {0}, {{0, {{kResourceMemory, 512 * kMi}}}}}};
const std::vector<NodeSpec> kFourHalfGigNodes = {
    {512 * kMi, 512 * kMi, 1}, {512 * kMi, 512 * kMi, 1}, {512 * kMi, 512 * kMi, 1}, {512 * kMi, 512 * kMi, 1}};

INSTANTIATE_TEST_SUITE_P(
    Kubelet, StaticMemoryAllocateTest,
    ::testing::ValuesIn(std::vector<AllocateRow>{
        {"should do nothing for non-guaranteed pods",
         {{1536 * kMi, 512 * kMi, 1}},
         {},
         burstablePod("pod1", "container1"),
         {},
         std::nullopt,
         {},
         {}},
        {"should do nothing once container already exists under the state file",
         {{1536 * kMi, 512 * kMi, 1}},
         {{"pod1", "container1", {0}, {{0, {{kResourceMemory, kGi}}}}}},
         guaranteedPod("pod1", "container1"),
         {},
         std::nullopt,
         {0},
         {{0, {{kResourceMemory, kGi}}}}},
        {"should calculate a default topology hint when no NUMA affinity was provided by the topology manager hint",
         {{1536 * kMi, 512 * kMi, 1}},
         {},
         guaranteedPod("pod1", "container1"),
         {},
         std::nullopt,
         {0},
         {{0, {{kResourceMemory, kGi}, {kHugepages1Gi, kGi}}}}},
        {"should fail when no NUMA affinity was provided under the topology manager hint and calculation of the "
         "default hint failed",
         {{1536 * kMi, 512 * kMi, 1}},
         {{"pod1", "container1", {0}, {{0, {{kResourceMemory, kGi}, {kHugepages1Gi, kGi}}}}}},
         guaranteedPod("pod2", "container2"),
         {},
         "[memorymanager] failed to get the default NUMA affinity, no NUMA nodes with enough memory is available",
         {},
         {}},
        {"should fail when no NUMA affinity was provided under the topology manager preferred hint and default "
         "hint has preferred false",
         kThreeSmallNodes,
         kPod1HalfGigOnNode0,
         guaranteedPod("pod2", "container2"),
         {NodeSet{}, true},
         "[memorymanager] failed to find the default preferred hint",
         {},
         {}},
        {"should fail when NUMA affinity provided under the topology manager hint did not satisfy container "
         "requirements and extended hint generation failed",
         {{512 * kMi, 512 * kMi, 1}, {1536 * kMi, 512 * kMi, 1}, {1536 * kMi, 512 * kMi, 1}},
         {{"pod0", "holder", {1, 2}, {{1, {{kResourceMemory, kGi}}}, {2, {{kResourceMemory, kGi}}}}}},
         guaranteedPod("pod1", "container1"),
         {NodeSet{0}, false},
         "[memorymanager] failed to find NUMA nodes to extend the current topology hint",
         {},
         {}},
        {"should fail when the topology manager provided the preferred hint and extended hint has preferred false",
         kThreeSmallNodes,
         kPod1HalfGigOnNode0,
         guaranteedPod("pod2", "container2"),
         {NodeSet{1}, true},
         "[memorymanager] failed to find the extended preferred hint",
         {},
         {}},
        {"should succeed to allocate memory from multiple NUMA nodes",
         kFourHalfGigNodes,
         {},
         guaranteedPod("pod1", "container1"),
         {NodeSet{}, true},
         std::nullopt,
         {0, 1},
         {{0, {{kResourceMemory, 512 * kMi}, {kHugepages1Gi, kGi}}}, {1, {{kResourceMemory, 512 * kMi}}}}},
    }),
    [](const ::testing::TestParamInfo<AllocateRow>& param_info) { return sanitizeName(param_info.param.name); });

// TestStaticPolicyGetTopologyHints.
struct HintsRow {
  std::string name;
  std::vector<NodeSpec> machine;
  std::vector<Holding> existing;
  PodRequest pod;
  std::string expected;  // hint_dsl provider syntax; "{}" = no preference
};

class StaticMemoryHintsTest : public ::testing::TestWithParam<HintsRow> {};

TEST_P(StaticMemoryHintsTest, HintsLikeTheKubelet) {
  const HintsRow& row = GetParam();
  StaticMemoryPolicy policy = policyFor(row.machine);
  ResourceHints hints = policy.containerHints(stateOf(row.existing), row.pod, row.pod.containers[0]);
  EXPECT_EQ(hints, policies::testing::parseProvider(row.expected));
}

const std::vector<NodeSpec> kFourNodes = {
    {1536 * kMi, 512 * kMi, 1}, {1536 * kMi, 512 * kMi, 1}, {1536 * kMi, 512 * kMi, 1}, {1536 * kMi, 512 * kMi, 1}};

INSTANTIATE_TEST_SUITE_P(
    Kubelet, StaticMemoryHintsTest,
    ::testing::ValuesIn(std::vector<HintsRow>{
        {"should not provide topology hints for non-guaranteed pods",
         {{1536 * kMi, 512 * kMi, 1}},
         {},
         burstablePod("pod1", "container1"),
         "{}"},
        {"should provide topology hints based on the existent memory assignment",
         {{1536 * kMi, 512 * kMi, 1}},
         {{"pod1", "container1", {0}, {{0, {{kResourceMemory, kGi}, {kHugepages1Gi, kGi}}}}}},
         guaranteedPod("pod1", "container1"),
         "hugepages-1Gi=0*; memory=0*"},
        {"should calculate new topology hints, when the container does not exist under assignments",
         kFourNodes,
         {{"pod1",
           "container1",
           {0, 1},
           {{0, {{kResourceMemory, 1536 * kMi}, {kHugepages1Gi, kGi}}},
            {1, {{kResourceMemory, 512 * kMi}, {kHugepages1Gi, kGi}}}}}},
         guaranteedPod("pod2", "container2"),
         "hugepages-1Gi=2* 3* 2-3!; memory=2* 3* 2-3!"},
        {"should fail when number of existing memory assignment resources are different from resources "
         "requested by container",
         {{1536 * kMi, 512 * kMi, 1}},
         {{"pod1", "container1", {0}, {{0, {{kResourceMemory, kGi}}}}}},
         guaranteedPod("pod1", "container1"),
         "{}"},
        {"should fail when existing memory assignment resources are different from resources requested by "
         "container",
         {{1536 * kMi, 512 * kMi, 1}},
         {{"pod1", "container1", {0}, {{0, {{kResourceMemory, kGi}, {kHugepages2Mi, kGi}}}}}},
         guaranteedPod("pod1", "container1"),
         "{}"},
        {"should fail when existing memory assignment size is different from one requested by the container",
         {{1536 * kMi, 512 * kMi, 1}},
         {{"pod1", "container1", {0}, {{0, {{kResourceMemory, 512 * kMi}, {kHugepages1Gi, kGi}}}}}},
         guaranteedPod("pod1", "container1"),
         "{}"},
    }),
    [](const ::testing::TestParamInfo<HintsRow>& param_info) { return sanitizeName(param_info.param.name); });

// Beyond the kubelet's rows: topod's own rules and edge cases.

TEST(StaticMemoryPolicy, NoCombinationFitsMeansNoPreference) {
  // The kubelet returns an empty hint map (no preference) when memory fits nowhere; the
  // allocation then fails with the default-hint error.
  StaticMemoryPolicy policy = policyFor({{512 * kMi, 512 * kMi, 1}});
  PodRequest pod = guaranteedPod("pod1", "c");
  EXPECT_TRUE(policy.containerHints(State{}, pod, pod.containers[0]).empty());
}

TEST(StaticMemoryPolicy, SingleNodeUseBlocksGroupsAndGroupsBlockSingles) {
  StaticMemoryPolicy policy = policyFor(kFourNodes);
  PodRequest pod = podOf("pod9", {guaranteedContainer("c", 2 * kGi, 0)});
  // Node 0 used alone: no group may include it. Nodes 2-3 grouped: neither is usable alone.
  State state = stateOf({{"a", "x", {0}, {{0, {{kResourceMemory, 512 * kMi}}}}},
                         {"b", "y", {2, 3}, {{2, {{kResourceMemory, 512 * kMi}}}}}});
  ResourceHints hints = policy.containerHints(state, pod, pod.containers[0]);
  // Singles cannot hold 2Gi (1536Mi allocatable), so the narrowest size is 2: {1,2}, {1,3} break
  // the 2-3 group and {0,x} break node 0's single use; only {2,3} (the group itself) remains.
  EXPECT_EQ(hints, policies::testing::parseProvider("memory=2-3*"));
}

TEST(StaticMemoryPolicy, PodHintsUseTheEffectiveRequest) {
  StaticMemoryPolicy policy = policyFor(kFourNodes);
  ContainerRequest init = guaranteedContainer("init", 1536 * kMi, 0);
  init.kind = ContainerKind::Init;
  ContainerRequest app1 = guaranteedContainer("app1", 512 * kMi, 0);
  ContainerRequest app2 = guaranteedContainer("app2", 512 * kMi, 0);
  PodRequest pod = podOf("pod1", {init, app1, app2});
  EXPECT_EQ(StaticMemoryPolicy::podRequestedResources(pod), (ResourceBytes{{kResourceMemory, 1536 * kMi}}));
  ContainerRequest sidecar = guaranteedContainer("sidecar", kGi, 0);
  sidecar.kind = ContainerKind::Sidecar;
  PodRequest with_sidecar = podOf("pod2", {sidecar, init, app1, app2});
  // Sidecar runs beside the init container (1Gi + 1536Mi) and beside the apps (1Gi + 1Gi).
  EXPECT_EQ(StaticMemoryPolicy::podRequestedResources(with_sidecar), (ResourceBytes{{kResourceMemory, 2560 * kMi}}));
  EXPECT_EQ(policy.podHints(State{}, with_sidecar),
            policies::testing::parseProvider("memory=0-1* 0,2* 0,3* 1-2* 1,3* 2-3* 0-2! 0-1,3! 0,2-3! 1-3! 0-3!"));
}

TEST(StaticMemoryPolicy, AllocationFillsNodesInIdOrder) {
  StaticMemoryPolicy policy = policyFor(kFourNodes);
  PodRequest pod = podOf("pod1", {guaranteedContainer("c", 2 * kGi, 0)});
  ContainerAllocation allocation;
  ASSERT_TRUE(policy.allocate(State{}, pod, pod.containers[0], {NodeSet{1, 3}, true}, allocation).has_value());
  EXPECT_EQ(allocation.memory_nodes, (NodeSet{1, 3}));
  EXPECT_EQ(allocation.memory,
            (NumaResourceBytes{{1, {{kResourceMemory, 1536 * kMi}}}, {3, {{kResourceMemory, 512 * kMi}}}}));
}

TEST(StaticMemoryPolicy, ViolatingGroupIsRefused) {
  StaticMemoryPolicy policy = policyFor(kFourNodes);
  State state = stateOf({{"a", "x", {0}, {{0, {{kResourceMemory, 512 * kMi}}}}}});
  PodRequest pod = podOf("pod1", {guaranteedContainer("c", 2 * kGi, 0)});
  ContainerAllocation allocation;
  Status status = policy.allocate(state, pod, pod.containers[0], {NodeSet{0, 1}, true}, allocation);
  ASSERT_FALSE(status.has_value());
  EXPECT_THAT(status.error().message(), StartsWith("[memorymanager] preferred hint violates NUMA node allocation"));
}

}  // namespace
}  // namespace topod::policies::memory
