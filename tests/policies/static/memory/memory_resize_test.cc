// In-place resize of pinned memory (issue 4 item 6): grow on the same NUMA nodes when they have
// room, shrink from the highest node, widen to the narrowest group containing the current nodes,
// refuse with a reason otherwise (the old allocation stays as it was).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policies/static/memory/static_memory_policy.h"
#include "policies/static/topology_manager/topology_manager.h"
#include "tests/policies/static/memory/memory_fixtures.h"

namespace topod::policies::memory {
namespace {

using ::testing::HasSubstr;
using namespace testing;  // NOLINT: test fixtures

const std::vector<NodeSpec> kFourNodesUnreserved = {
    {1536 * kMi, 512 * kMi, 0}, {1536 * kMi, 512 * kMi, 0}, {1536 * kMi, 512 * kMi, 0}, {1536 * kMi, 512 * kMi, 0}};

struct ResizeRow {
  std::string name;
  std::vector<NodeSpec> machine;
  std::vector<Holding> existing;  // the first holding is the container being resized
  uint64_t new_memory;
  bool expect_ok;
  NodeSet expected_nodes;
  NumaResourceBytes expected_charges;
  std::string expected_error;  // substring
};

class MemoryResizeTest : public ::testing::TestWithParam<ResizeRow> {};

TEST_P(MemoryResizeTest, Resizes) {
  const ResizeRow& row = GetParam();
  StaticMemoryPolicy policy = policyFor(row.machine);
  const Holding& self = row.existing.front();
  PodRequest pod = podOf(self.pod, {guaranteedContainer(self.container, row.new_memory, 0)});
  State state = stateOf(row.existing);
  auto resized = policy.resize(state, pod, pod.containers[0]);
  if (!row.expect_ok) {
    ASSERT_FALSE(resized.has_value());
    EXPECT_THAT(resized.error().message(), HasSubstr(row.expected_error));
    return;
  }
  ASSERT_TRUE(resized.has_value()) << resized.error().toString();
  EXPECT_EQ(resized->memory_nodes, row.expected_nodes);
  EXPECT_EQ(resized->memory, row.expected_charges);
  EXPECT_EQ(resized->request, pod.containers[0]);
  // The result must fit the machine together with everyone else.
  State next = state;
  next.put(ContainerKey{self.pod, self.container}, *resized);
  EXPECT_TRUE(policy.machineState(next).has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Rows, MemoryResizeTest,
    ::testing::ValuesIn(std::vector<ResizeRow>{
        {"grow_on_the_same_node",
         kFourNodesUnreserved,
         {{"p", "c", {1}, {{1, {{kResourceMemory, 512 * kMi}}}}}},
         kGi,
         true,
         {1},
         {{1, {{kResourceMemory, kGi}}}},
         ""},
        {"shrink_gives_back_from_the_highest_node",
         kFourNodesUnreserved,
         {{"p", "c", {0, 1}, {{0, {{kResourceMemory, 1536 * kMi}}}, {1, {{kResourceMemory, 512 * kMi}}}}}},
         kGi,
         true,
         {0, 1},
         {{0, {{kResourceMemory, kGi}}}},
         ""},
        {"grow_widens_to_the_narrowest_group_containing_the_nodes",
         kFourNodesUnreserved,
         {{"p", "c", {0}, {{0, {{kResourceMemory, kGi}}}}}},
         2 * kGi,
         true,
         {0, 1},
         {{0, {{kResourceMemory, 1536 * kMi}}}, {1, {{kResourceMemory, 512 * kMi}}}},
         ""},
        {"grow_within_an_existing_group",
         kFourNodesUnreserved,
         {{"p", "c", {2, 3}, {{2, {{kResourceMemory, kGi}}}}},
          {"q", "d", {2, 3}, {{2, {{kResourceMemory, 512 * kMi}}}, {3, {{kResourceMemory, kGi}}}}}},
         1536 * kMi,
         true,
         {2, 3},
         {{2, {{kResourceMemory, kGi}}}, {3, {{kResourceMemory, 512 * kMi}}}},
         ""},
        {"refused_when_nothing_fits",
         {{1536 * kMi, 512 * kMi, 0}},
         {{"p", "c", {0}, {{0, {{kResourceMemory, kGi}}}}}},
         2 * kGi,
         false,
         {},
         {},
         "keeping the current allocation"},
        {"refused_when_a_single_node_user_blocks_widening",
         kFourNodesUnreserved,
         {{"p", "c", {0}, {{0, {{kResourceMemory, 512 * kMi}}}}},
          {"q", "d", {0}, {{0, {{kResourceMemory, 512 * kMi}}}}}},
         1536 * kMi,
         false,
         {},
         {},
         "NUMA nodes 0 have memory 1Gi free"},
    }),
    [](const ::testing::TestParamInfo<ResizeRow>& param_info) { return param_info.param.name; });

TEST(MemoryResize, UnknownContainerIsNotFound) {
  StaticMemoryPolicy policy = policyFor(kFourNodesUnreserved);
  PodRequest pod = guaranteedPod("p", "c");
  auto resized = policy.resize(State{}, pod, pod.containers[0]);
  ASSERT_FALSE(resized.has_value());
  EXPECT_EQ(resized.error().code(), ErrorCode::NotFound);
}

TEST(MemoryResize, UnpinnedContainerOnlyRecordsTheRequest) {
  StaticMemoryPolicy policy = policyFor(kFourNodesUnreserved);
  State state;
  state.put(ContainerKey{"p", "c"}, ContainerAllocation{.qos = QosClass::Burstable});
  PodRequest pod = burstablePod("p", "c");
  auto resized = policy.resize(state, pod, pod.containers[0]);
  ASSERT_TRUE(resized.has_value());
  EXPECT_TRUE(resized->memory.empty());
  EXPECT_EQ(resized->request, pod.containers[0]);
}

// The memory provider under the topology manager (policy single-numa-node): a request that needs
// two NUMA nodes has no single-node hint and is rejected with the kubelet's reason.
TEST(MemoryUnderTopologyManager, SingleNumaNodeRejectsMultiNodeMemory) {
  std::vector<NodeSpec> nodes = kFourNodesUnreserved;
  StaticMemoryPolicy policy = policyFor(nodes);
  auto manager = topology_manager::TopologyManager::create(
      machineOf(nodes), {.policy = TopologyManagerPolicy::SingleNumaNode}, {&policy});
  ASSERT_TRUE(manager.has_value());
  PodRequest big = podOf("big", {guaranteedContainer("c", 2 * kGi, 0)});
  auto rejected = manager->admit(State{}, big, big.containers[0]);
  ASSERT_FALSE(rejected.has_value());
  EXPECT_THAT(rejected.error().message(), HasSubstr("TopologyAffinityError"));

  PodRequest small = podOf("small", {guaranteedContainer("c", kGi, 0)});
  auto admitted = manager->admit(State{}, small, small.containers[0]);
  ASSERT_TRUE(admitted.has_value()) << admitted.error().toString();
  EXPECT_EQ(admitted->allocation.memory_nodes, NodeSet{0});
  EXPECT_EQ(admitted->allocation.memory, (NumaResourceBytes{{0, {{kResourceMemory, kGi}}}}));
}

// Pod scope: the second container of a pod gets the affinity the pod had before any of its
// containers held memory, as in the kubelet, where pod hints are computed once at admission.
TEST(MemoryUnderTopologyManager, PodScopeKeepsThePodAffinityForLaterContainers) {
  std::vector<NodeSpec> nodes = {{1536 * kMi, 512 * kMi, 0}, {1536 * kMi, 512 * kMi, 0}};
  StaticMemoryPolicy policy = policyFor(nodes);
  auto manager = topology_manager::TopologyManager::create(
      machineOf(nodes), {.policy = TopologyManagerPolicy::Restricted, .scope = TopologyManagerScope::Pod}, {&policy});
  ASSERT_TRUE(manager.has_value());
  PodRequest pod = podOf("p", {guaranteedContainer("a", kGi, 0), guaranteedContainer("b", 512 * kMi, 0)});
  auto first = manager->admit(State{}, pod, pod.containers[0]);
  ASSERT_TRUE(first.has_value()) << first.error().toString();
  EXPECT_EQ(first->affinity, (TopologyHint{NodeSet{0}, true}));
  State state;
  state.put(ContainerKey{"p", "a"}, first->allocation);
  auto second = manager->admit(state, pod, pod.containers[1]);
  ASSERT_TRUE(second.has_value()) << second.error().toString();
  EXPECT_EQ(second->affinity, (TopologyHint{NodeSet{0}, true}));
  EXPECT_EQ(second->allocation.memory, (NumaResourceBytes{{0, {{kResourceMemory, 512 * kMi}}}}));
}

}  // namespace
}  // namespace topod::policies::memory
