// Init-container memory reuse, rows transcribed from the kubelet's memorymanager
// policy_static_test.go (TestStaticPolicyAllocateWithInitContainers and
// TestStaticPolicyAllocateWithRestartableInitContainers): the pod's containers are allocated in
// spec order (init containers, then apps) on an empty machine, each committed to the State, and
// the machine state afterwards must be the kubelet's expected one.
//
// What topod records differs from the kubelet's assignments in one way: the kubelet shrinks the
// blocks of the init containers by what later containers reused, topod keeps every container's
// whole request and derives the sharing (policies::podMemoryShare), so the rows check each
// container's own charge instead of the kubelet's shrunk blocks.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policies/state_check.h"
#include "policies/static/memory/static_memory_policy.h"
#include "tests/policies/static/memory/memory_fixtures.h"
#include "tests/policies/static/topology_manager/hint_dsl.h"

namespace topod::policies::memory {
namespace {

using namespace testing;  // NOLINT: test fixtures
using policies::testing::sanitizeName;

struct Spec {
  std::string name;
  ContainerKind kind;
  uint64_t gib;  // memory and 1Gi huge pages, as the kubelet rows ask for both alike
};

struct ReuseRow {
  std::string name;
  NodeSpec node;
  std::vector<Spec> containers;    // spec order
  uint64_t expected_reserved_gib;  // memory and huge pages each, after all containers
};

ContainerRequest requestOf(const Spec& spec) {
  ContainerRequest c = guaranteedContainer(spec.name, spec.gib * kGi, spec.gib * kGi);
  c.kind = spec.kind;
  return c;
}

PodRequest podFor(const ReuseRow& row) {
  std::vector<ContainerRequest> containers;
  for (const Spec& spec : row.containers) containers.push_back(requestOf(spec));
  return podOf("pod1", containers);
}

// Allocates every container of the row's pod in spec order, committing each.
State allocateAll(const StaticMemoryPolicy& policy, const PodRequest& pod) {
  State state;
  for (const ContainerRequest& container : pod.containers) {
    ContainerAllocation allocation;
    allocation.request = container;
    allocation.qos = pod.qos;
    Status status = policy.allocate(state, pod, container, TopologyHint{}, allocation);
    EXPECT_TRUE(status.has_value()) << container.name << ": " << status.error().toString();
    state.put(ContainerKey{pod.uid, container.name}, allocation);
  }
  return state;
}

class InitReuseTest : public ::testing::TestWithParam<ReuseRow> {};

TEST_P(InitReuseTest, MachineStateMatchesTheKubelet) {
  const ReuseRow& row = GetParam();
  const topology::Topology machine = machineOf({row.node});
  auto policy = StaticMemoryPolicy::create(machine, reservedOf({row.node}));
  ASSERT_TRUE(policy.has_value()) << policy.error().toString();
  const PodRequest pod = podFor(row);
  State state = allocateAll(*policy, pod);
  ASSERT_EQ(state.size(), row.containers.size());

  auto charged = policy->machineState(state);
  ASSERT_TRUE(charged.has_value()) << charged.error().toString();
  const NumaMemoryState& node = charged->at(0);
  EXPECT_EQ(node.memory.at(kResourceMemory).reserved, row.expected_reserved_gib * kGi);
  EXPECT_EQ(node.memory.at(kResourceMemory).free, row.node.allocatable - row.expected_reserved_gib * kGi);
  EXPECT_EQ(node.memory.at(kHugepages1Gi).reserved, row.expected_reserved_gib * kGi);
  EXPECT_EQ(node.memory.at(kHugepages1Gi).free, (row.node.hugepages_1g - row.expected_reserved_gib) * kGi);
  EXPECT_EQ(node.cells, NodeSet{0});
  EXPECT_EQ(node.assignments, static_cast<int>(row.containers.size()));  // the kubelet counts per block

  // Every container keeps its whole request on node 0.
  for (const Spec& spec : row.containers) {
    const ContainerAllocation* allocation = state.find(ContainerKey{"pod1", spec.name});
    ASSERT_NE(allocation, nullptr) << spec.name;
    EXPECT_EQ(allocation->memory_nodes, NodeSet{0}) << spec.name;
    EXPECT_EQ(allocation->memory,
              (NumaResourceBytes{{0, {{kResourceMemory, spec.gib * kGi}, {kHugepages1Gi, spec.gib * kGi}}}}))
        << spec.name;
  }

  // The invariant checker accepts exactly this sharing.
  PolicyOptions options;
  options.reserved_memory = reservedOf({row.node});
  EXPECT_EQ(checkState(machine, options, state), std::vector<std::string>{});
}

constexpr uint64_t kMiB = kMi;

INSTANTIATE_TEST_SUITE_P(
    Kubelet, InitReuseTest,
    ::testing::ValuesIn(std::vector<ReuseRow>{
        // TestStaticPolicyAllocateWithInitContainers.
        {"should re-use init containers memory, init containers requests 1Gi and 2Gi, apps containers 3Gi and 4Gi",
         {7680 * kMiB, 512 * kMiB, 8},
         {{"initContainer1", ContainerKind::Init, 1},
          {"initContainer2", ContainerKind::Init, 2},
          {"container1", ContainerKind::App, 3},
          {"container2", ContainerKind::App, 4}},
         7},
        {"should re-use init containers memory, init containers requests 4Gi and 3Gi, apps containers 2Gi and 1Gi",
         {7680 * kMiB, 512 * kMiB, 8},
         {{"initContainer1", ContainerKind::Init, 4},
          {"initContainer2", ContainerKind::Init, 3},
          {"container1", ContainerKind::App, 2},
          {"container2", ContainerKind::App, 1}},
         4},
        {"should re-use init containers memory, init containers requests 7Gi and 4Gi, apps containers 4Gi and 3Gi",
         {7680 * kMiB, 512 * kMiB, 8},
         {{"initContainer1", ContainerKind::Init, 7},
          {"initContainer2", ContainerKind::Init, 4},
          {"container1", ContainerKind::App, 4},
          {"container2", ContainerKind::App, 3}},
         7},
        {"should re-use init containers memory, init containers requests 7Gi and 4Gi, apps containers 5Gi and 2Gi",
         {10240 * kMiB, 512 * kMiB, 10},
         {{"initContainer1", ContainerKind::Init, 7},
          {"initContainer2", ContainerKind::Init, 4},
          {"container1", ContainerKind::App, 5},
          {"container2", ContainerKind::App, 2}},
         7},
        // TestStaticPolicyAllocateWithRestartableInitContainers.
        {"should not re-use restartable init containers memory",
         {7 * kGi, 512 * kMiB, 7},
         {{"initContainer1", ContainerKind::Init, 1},
          {"restartableInitContainer2", ContainerKind::Sidecar, 2},
          {"initContainer3", ContainerKind::Init, 3},
          {"restartableInitContainer4", ContainerKind::Sidecar, 4},
          {"container1", ContainerKind::App, 1}},
         7},
    }),
    [](const ::testing::TestParamInfo<ReuseRow>& p) { return sanitizeName(p.param.name); });

TEST(InitReuse, ContainersAlreadyInTheStateKeepWhatTheyHold) {
  // TestStaticPolicyAllocateWithRestartableInitContainers, "should do nothing once containers
  // already exist under the state file": a sidecar and an app of 1Gi each hold 2Gi (a sidecar's
  // memory is never reused), and allocating them again changes nothing.
  const NodeSpec spec{2560 * kMiB, 512 * kMiB, 2};
  auto policy = StaticMemoryPolicy::create(machineOf({spec}), reservedOf({spec}));
  ASSERT_TRUE(policy.has_value());
  PodRequest pod = podOf("pod1", {requestOf({"initContainer1", ContainerKind::Sidecar, 1}),
                                  requestOf({"container1", ContainerKind::App, 1})});
  State state;
  for (const ContainerRequest& container : pod.containers) {
    ContainerAllocation held{.memory_nodes = NodeSet{0}, .request = container, .qos = QosClass::Guaranteed};
    held.memory[0][kResourceMemory] = kGi;
    state.put({"pod1", container.name}, held);
  }
  for (const ContainerRequest& container : pod.containers) {
    ContainerAllocation again;
    ASSERT_TRUE(policy->allocate(state, pod, container, TopologyHint{}, again).has_value());
    EXPECT_EQ(again.memory, state.find({"pod1", container.name})->memory);
  }
  auto charged = policy->machineState(state);
  ASSERT_TRUE(charged.has_value());
  EXPECT_EQ(charged->at(0).memory.at(kResourceMemory).reserved, 2048 * kMiB);
  EXPECT_EQ(charged->at(0).memory.at(kResourceMemory).free, 512 * kMiB);
}

TEST(InitReuse, RowsFailWithoutReuse) {
  // The third row needs reuse at all: 7Gi of init containers leave 512Mi, and the apps' 4Gi fit
  // only in the init containers' memory. Another pod's app gets none of it.
  const NodeSpec spec{7680 * kMiB, 512 * kMiB, 8};
  auto policy = StaticMemoryPolicy::create(machineOf({spec}), reservedOf({spec}));
  ASSERT_TRUE(policy.has_value());
  ContainerRequest init = requestOf({"init", ContainerKind::Init, 7});
  PodRequest pod = podOf("pod1", {init, requestOf({"app", ContainerKind::App, 4})});
  State state;
  ContainerAllocation allocation{.request = init, .qos = QosClass::Guaranteed};
  ASSERT_TRUE(policy->allocate(state, pod, init, TopologyHint{}, allocation).has_value());
  state.put({"pod1", "init"}, allocation);

  PodRequest other = podOf("pod2", {requestOf({"app", ContainerKind::App, 4})});
  ContainerAllocation refused;
  EXPECT_FALSE(policy->allocate(state, other, other.containers[0], TopologyHint{}, refused).has_value());
  EXPECT_TRUE(policy->containerHints(state, other, other.containers[0]).empty());  // no node fits: no preference

  ContainerAllocation reused;
  ASSERT_TRUE(policy->allocate(state, pod, pod.containers[1], TopologyHint{}, reused).has_value());
  EXPECT_EQ(reused.memory_nodes, NodeSet{0});
  ResourceHints hints = policy->containerHints(state, pod, pod.containers[1]);
  ASSERT_EQ(hints.count(kResourceMemory), 1U);
  EXPECT_EQ(hints.at(kResourceMemory), (std::vector<TopologyHint>{{NodeSet{0}, true}}));
}

TEST(InitReuse, InitContainerAfterASidecarRunsBesideIt) {
  // sidecar 2Gi, then init 3Gi: both run at once, so the init container reuses nothing and the
  // pod holds 5Gi; the kubelet charges the same (its reusable memory is empty after the sidecar).
  const NodeSpec spec{6 * kGi, 512 * kMiB, 6};
  const topology::Topology machine = machineOf({spec});
  auto policy = StaticMemoryPolicy::create(machine, reservedOf({spec}));
  ASSERT_TRUE(policy.has_value());
  PodRequest pod =
      podOf("pod1", {requestOf({"sidecar", ContainerKind::Sidecar, 2}), requestOf({"init", ContainerKind::Init, 3}),
                     requestOf({"app", ContainerKind::App, 1})});
  State state = allocateAll(*policy, pod);
  const ContainerAllocation* init = state.find({"pod1", "init"});
  ASSERT_NE(init, nullptr);
  EXPECT_EQ(init->memory_beside, (NumaResourceBytes{{0, {{kResourceMemory, 2 * kGi}, {kHugepages1Gi, 2 * kGi}}}}));
  auto charged = policy->machineState(state);
  ASSERT_TRUE(charged.has_value());
  // max(sidecar + app = 3Gi, init + beside = 5Gi)
  EXPECT_EQ(charged->at(0).memory.at(kResourceMemory).reserved, 5 * kGi);
  // Announced again (a retried create), the init container keeps what it recorded, beside included.
  ContainerAllocation again;
  ASSERT_TRUE(policy->allocate(state, pod, pod.containers[1], TopologyHint{}, again).has_value());
  EXPECT_EQ(again.memory_beside, init->memory_beside);

  // A 5Gi init container needs 7Gi beside the 2Gi sidecar: refused on a 6Gi node.
  PodRequest bigger =
      podOf("pod2", {requestOf({"sidecar", ContainerKind::Sidecar, 2}), requestOf({"init", ContainerKind::Init, 5})});
  State fresh;
  ContainerAllocation sidecar{.request = bigger.containers[0], .qos = QosClass::Guaranteed};
  ASSERT_TRUE(policy->allocate(fresh, bigger, bigger.containers[0], TopologyHint{}, sidecar).has_value());
  fresh.put({"pod2", "sidecar"}, sidecar);
  ContainerAllocation refused{.request = bigger.containers[1], .qos = QosClass::Guaranteed};
  EXPECT_FALSE(policy->allocate(fresh, bigger, bigger.containers[1], TopologyHint{}, refused).has_value());
}

TEST(InitReuse, ReleasingTheInitContainerKeepsTheAppsCharged) {
  // The agent releases an init container when it stops: the apps that reused its memory still
  // hold all of theirs.
  const NodeSpec spec{7680 * kMiB, 512 * kMiB, 8};
  auto policy = StaticMemoryPolicy::create(machineOf({spec}), reservedOf({spec}));
  ASSERT_TRUE(policy.has_value());
  PodRequest pod =
      podOf("pod1", {requestOf({"init", ContainerKind::Init, 4}), requestOf({"app", ContainerKind::App, 3})});
  State state = allocateAll(*policy, pod);
  EXPECT_EQ(policy->machineState(state)->at(0).memory.at(kResourceMemory).reserved, 4 * kGi);
  state.erase({"pod1", "init"});
  EXPECT_EQ(policy->machineState(state)->at(0).memory.at(kResourceMemory).reserved, 3 * kGi);
}

}  // namespace
}  // namespace topod::policies::memory
