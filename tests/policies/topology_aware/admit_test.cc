// Admission rules of the topology-aware policy, one row per rule, on several machine shapes.
#include <gtest/gtest.h>

#include <optional>

#include "policies/topology_aware/topology_aware_policy.h"
#include "tests/policies/topology_aware/invariants.h"
#include "tests/policies/topology_aware/requests.h"
#include "tests/policies/topology_aware/shapes.h"

namespace topod::policies {
namespace {

using testing::bestEffort;
using testing::burstable;
using testing::gpuOn;
using testing::guaranteed;
using testing::kAmd;
using testing::kFourSocket;
using testing::kGiB;
using testing::kGpu;
using testing::kOneNode;
using testing::kSnc;
using testing::kTwoSocket;
using testing::podOf;
using testing::ShapeSpec;

struct Step {
  PodRequest pod;
  ContainerRequest container;
};

Step ex(const std::string& uid, int cpus, uint64_t memory = kGiB, std::vector<DeviceRequest> devices = {},
        std::map<std::string, std::string> annotations = {}) {
  ContainerRequest c = guaranteed("c", cpus * 1000, memory, std::move(devices));
  return {podOf(uid, {c}, std::move(annotations)), c};
}
Step bu(const std::string& uid, int64_t millis, uint64_t memory = kGiB, std::vector<DeviceRequest> devices = {}) {
  ContainerRequest c = burstable("c", millis, memory, std::move(devices));
  return {podOf(uid, {c}), c};
}
Step withHugepages(Step step, uint64_t bytes) {
  step.container.hugepages[testing::kHugepage2M] = bytes;
  step.pod.containers = {step.container};
  return step;
}

ShapeSpec withIsolated(ShapeSpec shape, CpuSet isolated) {
  shape.isolated = std::move(isolated);
  return shape;
}
ShapeSpec withHugepageCapacity(ShapeSpec shape, uint64_t pages) {
  shape.hugepages_2m_per_node = pages;
  return shape;
}
PolicyOptions reserved(CpuSet cpus, bool strict = false) {
  PolicyOptions options;
  options.policy = "topology-aware";
  options.reserved_cpus = std::move(cpus);
  options.cpu.strict_cpu_reservation = strict;
  return options;
}

struct AdmitCase {
  std::string name;
  ShapeSpec shape;
  PolicyOptions options;
  std::vector<Step> before;
  Step request;
  std::optional<NodeSet> nodes;  // exclusive: cpuset.mems; shared: shared pool nodes
  std::optional<CpuSet> cpus;    // exact CPUs of the placement
  std::optional<CpuSet> within;  // placement CPUs are a subset of these
  std::optional<CpuSet> avoids;  // placement CPUs never include these
  std::string error;             // part of the refusal; empty when admitted
};

std::vector<AdmitCase> admitCases() {
  CpuSet node0 = CpuSet::range(0, 7) | CpuSet::range(16, 23);
  CpuSet node1 = CpuSet::range(8, 15) | CpuSet::range(24, 31);
  CpuSet gpu_node1 = CpuSet::range(12, 23) | CpuSet::range(36, 47);
  CpuSet isolated{6, 7, 22, 23};
  return {
      {.name = "BestFitPicksTheFullerNode",
       .shape = kTwoSocket,
       .before = {ex("a", 10)},
       .request = ex("b", 4),
       .nodes = NodeSet{0}},
      {.name = "WholeCoresOnSmt", .shape = kTwoSocket, .request = ex("a", 4), .cpus = CpuSet{0, 1, 16, 17}},
      {.name = "OddRemainderFillsAHalfUsedCore",
       .shape = kTwoSocket,
       .before = {ex("a", 3)},
       .request = ex("b", 1),
       .cpus = CpuSet{17}},
      {.name = "RequestFitsOneL3GroupBestFit",
       .shape = kAmd,
       .before = {ex("a", 4)},
       .request = ex("b", 4),
       .cpus = CpuSet{2, 3, 34, 35}},
      {.name = "LargeRequestTakesAWholeL3Group",
       .shape = kAmd,
       .request = ex("a", 12),
       .cpus = CpuSet::range(0, 5) | CpuSet::range(32, 37)},
      {.name = "DeviceLocalityBeatsBestFit",
       .shape = kGpu,
       .before = {ex("a", 10)},
       .request = ex("b", 2, kGiB, {gpuOn(1)}),
       .nodes = NodeSet{1},
       .within = gpu_node1},
      {.name = "SpansTheClosestNodesWhenNoneFits", .shape = kSnc, .request = ex("a", 16), .nodes = NodeSet{0, 1}},
      {.name = "FourSocketSpillsToANeighbour",
       .shape = kFourSocket,
       .before = {ex("a", 6)},
       .request = ex("b", 10),
       .nodes = NodeSet{0, 1}},
      {.name = "MemoryDecidesTheNode",
       .shape = kTwoSocket,
       .before = {ex("a", 1, 60 * kGiB)},
       .request = ex("b", 2, 8 * kGiB),
       .nodes = NodeSet{1},
       .within = node1},
      {.name = "HugepagesDecideTheNode",
       .shape = withHugepageCapacity(kTwoSocket, 512),
       .before = {withHugepages(ex("a", 1), 768ULL << 20)},
       .request = withHugepages(ex("b", 1), 512ULL << 20),
       .nodes = NodeSet{1}},
      {.name = "HugepagesBeyondCapacityRefused",
       .shape = withHugepageCapacity(kTwoSocket, 512),
       .request = withHugepages(ex("a", 1), 4 * kGiB),
       .error = "no NUMA node set holds"},
      {.name = "TooFewCpusRefused", .shape = kTwoSocket, .request = ex("a", 40), .error = "needs 40 exclusive CPUs"},
      {.name = "MemoryShortEverywhereRefused",
       .shape = kTwoSocket,
       .request = ex("a", 2, 200 * kGiB),
       .error = "no NUMA node set holds 2 exclusive CPUs"},
      {.name = "ReservedNeverExclusive",
       .shape = kTwoSocket,
       .options = reserved({0, 16}),
       .request = ex("a", 16),
       .nodes = NodeSet{1},
       .cpus = node1},
      {.name = "ReservedLeftOutOfAFullNode",
       .shape = kTwoSocket,
       .options = reserved({0, 16}),
       .request = ex("a", 14),
       .cpus = node0 - CpuSet{0, 16}},
      {.name = "IsolatedUnusedWithoutAnnotation",
       .shape = withIsolated(kTwoSocket, isolated),
       .request = ex("a", 14),
       .nodes = NodeSet{1},
       .avoids = isolated},
      {.name = "IsolatedOnlyWithAnnotation",
       .shape = withIsolated(kTwoSocket, isolated),
       .request = ex("a", 2, kGiB, {}, {{std::string(kIsolatedCpusAnnotation), "true"}}),
       .within = isolated},
      {.name = "IsolatedTooFewRefused",
       .shape = withIsolated(kTwoSocket, isolated),
       .request = ex("a", 6, kGiB, {}, {{std::string(kIsolatedCpusAnnotation), "true"}}),
       .error = "needs 6 isolated CPUs"},
      {.name = "BadIsolatedAnnotationRefused",
       .shape = kTwoSocket,
       .request = ex("a", 2, kGiB, {}, {{std::string(kIsolatedCpusAnnotation), "yes"}}),
       .error = "must be \"true\" or \"false\""},
      {.name = "BurstableFollowsItsDevice",
       .shape = kGpu,
       .request = bu("a", 500, kGiB, {gpuOn(1)}),
       .nodes = NodeSet{1},
       .cpus = gpu_node1},
      {.name = "BurstableFollowsFreeMemory",
       .shape = kTwoSocket,
       .before = {ex("a", 1, 60 * kGiB)},
       .request = bu("b", 500, 8 * kGiB),
       .nodes = NodeSet{1},
       .cpus = node1},
      {.name = "BurstableGoesToTheLeastCrowdedPool",
       .shape = kTwoSocket,
       .before = {bu("a", 2000)},
       .request = bu("b", 500),
       .nodes = NodeSet{1}},
      {.name = "BurstableTooBigForOneNodeSpans",
       .shape = kSnc,
       .request = bu("a", 500, 100 * kGiB),
       .nodes = NodeSet{0, 1}},
      {.name = "BestEffortUsesTheNodeWidePool",
       .shape = kTwoSocket,
       .before = {ex("a", 4)},
       .request = {podOf("b", {bestEffort("c")}), bestEffort("c")},
       .nodes = NodeSet{},
       .cpus = CpuSet::range(0, 31) - CpuSet{0, 1, 16, 17}},
      {.name = "FractionalGuaranteedIsShared",
       .shape = kTwoSocket,
       .request = {podOf("a", {guaranteed("c", 1500, kGiB)}), guaranteed("c", 1500, kGiB)},
       .nodes = NodeSet{0},
       .cpus = node0},
      {.name = "SharedPoolKeepsOneCpuWithoutReserved",
       .shape = kOneNode,
       .request = ex("a", 8),
       .error = "one CPU stays in the shared pool"},
      {.name = "AllButOneCpuWithoutReserved", .shape = kOneNode, .request = ex("a", 7), .cpus = CpuSet::range(0, 6)},
      {.name = "StrictReservationKeepsReservedOutOfPools",
       .shape = kTwoSocket,
       .options = reserved({0, 16}, true),
       .request = {podOf("a", {bestEffort("c")}), bestEffort("c")},
       .cpus = CpuSet::range(0, 31) - CpuSet{0, 16}},
  };
}

class AdmitTest : public ::testing::TestWithParam<AdmitCase> {};

TEST_P(AdmitTest, Admits) {
  const AdmitCase& row = GetParam();
  topology::Topology topology = testing::buildShape(row.shape);
  auto policy = TopologyAwarePolicy::create(topology, row.options);
  ASSERT_TRUE(policy.has_value()) << policy.error().toString();
  State state;
  for (const Step& step : row.before) {
    auto decision = (*policy)->admit(state, step.pod, step.container);
    ASSERT_TRUE(decision.has_value()) << decision.error().toString();
    state = applyDecision(state, *decision);
  }
  auto decision = (*policy)->admit(state, row.request.pod, row.request.container);
  if (!row.error.empty()) {
    ASSERT_FALSE(decision.has_value()) << decision->explanation;
    EXPECT_NE(decision.error().message().find(row.error), std::string::npos) << decision.error().toString();
    return;
  }
  ASSERT_TRUE(decision.has_value()) << decision.error().toString();
  const ContainerAllocation& alloc = decision->allocation;
  SCOPED_TRACE(decision->explanation);
  if (row.nodes.has_value()) {
    EXPECT_EQ(alloc.exclusive_cpus.empty() ? alloc.shared_pool_nodes : alloc.memory_nodes, *row.nodes);
  }
  if (row.cpus.has_value()) {
    EXPECT_EQ(decision->placement.cpus, *row.cpus);
  }
  if (row.within.has_value()) {
    EXPECT_TRUE(decision->placement.cpus.isSubsetOf(*row.within));
  }
  if (row.avoids.has_value()) {
    EXPECT_FALSE(decision->placement.cpus.intersects(*row.avoids));
  }
  EXPECT_FALSE(decision->explanation.empty());
  State after = applyDecision(state, *decision);
  EXPECT_EQ(testing::invariantViolations(topology, **policy, after), std::vector<std::string>{});
  EXPECT_EQ((*policy)->placements(after).at(decision->key), decision->placement);
}

INSTANTIATE_TEST_SUITE_P(Rules, AdmitTest, ::testing::ValuesIn(admitCases()),
                         [](const ::testing::TestParamInfo<AdmitCase>& row_info) { return row_info.param.name; });

}  // namespace
}  // namespace topod::policies
