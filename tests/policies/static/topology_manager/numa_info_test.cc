// Rows transcribed from the kubelet's topologymanager/numa_info_test.go (TestClosest,
// TestCalculateAvgDistanceFor) and bitmask/bitmask_test.go (TestIsNarrowerThan,
// TestIterateBitMasks). Rows about Go-specific API surface (String() formatting, bit numbers
// outside 0-63 returning errors, sysfs distance-file parsing) have no counterpart here.
#include "policies/static/topology_manager/numa_info.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "tests/policies/static/topology_manager/hint_dsl.h"
#include "tests/policies/static/topology_manager/numa_fixtures.h"
#include "topology/model.h"

namespace topod::policies::topology_manager {
namespace {

using policies::testing::sanitizeName;

const std::vector<std::vector<int>> kFourNodeMatrix = {
    {10, 11, 12, 12}, {11, 10, 12, 12}, {12, 12, 10, 11}, {12, 12, 11, 10}};

struct AverageRow {
  std::string name;
  NodeSet mask;
  std::vector<std::vector<int>> distances;
  double expected;
};

class AverageDistanceTest : public ::testing::TestWithParam<AverageRow> {};

TEST_P(AverageDistanceTest, Averages) {
  const AverageRow& row = GetParam();
  EXPECT_DOUBLE_EQ(fromMatrix(row.distances).averageDistance(toMask(row.mask)), row.expected);
}

INSTANTIATE_TEST_SUITE_P(Kubelet, AverageDistanceTest,
                         ::testing::ValuesIn(std::vector<AverageRow>{
                             {"1 NUMA node", {0}, {{10}}, 10},
                             {"2 NUMA node, 1 set in bitmask", {0}, {{10, 11}, {11, 10}}, 10},
                             {"2 NUMA node, 2 set in bitmask", {0, 1}, {{10, 11}, {11, 10}}, 10.5},
                             {"4 NUMA node, 2 set in bitmask", {0, 2}, kFourNodeMatrix, 11},
                             {"4 NUMA node, 3 set in bitmask", {0, 2, 3}, kFourNodeMatrix, 100.0 / 9.0},
                             {"0 NUMA node, 0 set in bitmask", {}, {}, 0},
                         }),
                         [](const ::testing::TestParamInfo<AverageRow>& param_info) {
                           return sanitizeName(param_info.param.name);
                         });

struct ClosestRow {
  std::string name;
  NodeSet current;
  NodeSet candidate;
  bool expect_candidate;
  std::vector<std::vector<int>> distances;
};

class ClosestTest : public ::testing::TestWithParam<ClosestRow> {};

TEST_P(ClosestTest, PicksLikeTheKubelet) {
  const ClosestRow& row = GetParam();
  NumaInfo numa = fromMatrix(row.distances);
  // The kubelet calls Closest(candidate, current).
  NumaMask result = numa.closest(toMask(row.candidate), toMask(row.current));
  EXPECT_EQ(toNodeSet(result), row.expect_candidate ? row.candidate : row.current);
}

const std::vector<std::vector<int>> kFlat3 = {{10, 10, 10}, {10, 10, 10}, {10, 10, 10}};
const std::vector<std::vector<int>> kFlat4 = {{10, 10, 10, 10}, {10, 10, 10, 10}, {10, 10, 10, 10}, {10, 10, 10, 10}};

INSTANTIATE_TEST_SUITE_P(
    Kubelet, ClosestTest,
    ::testing::ValuesIn(std::vector<ClosestRow>{
        {"current and candidate length is not the same, current narrower", {0}, {0, 2}, false, {}},
        {"current and candidate length is the same, distance is the same, current more lower bits set",
         {0, 1},
         {0, 2},
         false,
         kFlat3},
        {"current and candidate length is the same, distance is the same, candidate more lower bits set",
         {0, 3},
         {0, 2},
         true,
         kFlat4},
        {"current and candidate length is the same, candidate average distance is smaller",
         {0, 3},
         {0, 1},
         true,
         kFourNodeMatrix},
        {"current and candidate length is the same, current average distance is smaller",
         {2, 3},
         {0, 3},
         false,
         kFourNodeMatrix},
    }),
    [](const ::testing::TestParamInfo<ClosestRow>& param_info) { return sanitizeName(param_info.param.name); });

struct NarrowerRow {
  std::string name;
  NodeSet first;
  NodeSet second;
  bool first_narrower;
};

class NarrowerTest : public ::testing::TestWithParam<NarrowerRow> {};

TEST_P(NarrowerTest, ComparesLikeTheKubelet) {
  const NarrowerRow& row = GetParam();
  EXPECT_EQ(isNarrowerThan(toMask(row.first), toMask(row.second)), row.first_narrower);
}

INSTANTIATE_TEST_SUITE_P(Kubelet, NarrowerTest,
                         ::testing::ValuesIn(std::vector<NarrowerRow>{
                             {"Check narrowness of masks with unequal bits set 1/2", {0}, {0, 1}, true},
                             {"Check narrowness of masks with unequal bits set 2/2", {0, 1}, {0}, false},
                             {"Check narrowness of masks with equal bits set 1/2", {0}, {1}, true},
                             {"Check narrowness of masks with equal bits set 2/2", {1}, {0}, false},
                         }),
                         [](const ::testing::TestParamInfo<NarrowerRow>& param_info) {
                           return sanitizeName(param_info.param.name);
                         });

class IterateMasksTest : public ::testing::TestWithParam<int> {};

TEST_P(IterateMasksTest, VisitsEveryNonEmptyCombinationOnce) {
  const int bits = GetParam();
  std::vector<int> nodes;
  for (int i = 0; i < bits; ++i) nodes.push_back(i);
  std::set<NumaMask> seen;
  int visits = 0;
  int previous_width = 0;
  forEachMask(nodes, [&](NumaMask mask) {
    ++visits;
    seen.insert(mask);
    EXPECT_GE(maskCount(mask), previous_width) << "masks come by increasing width";
    previous_width = maskCount(mask);
  });
  EXPECT_EQ(visits, (1 << bits) - 1);
  EXPECT_EQ(static_cast<int>(seen.size()), (1 << bits) - 1);
}

// TestIterateBitMasks: "1 bit", "2 bits", "4 bits", "8 bits", "16 bits".
INSTANTIATE_TEST_SUITE_P(Kubelet, IterateMasksTest, ::testing::Values(1, 2, 4, 8, 16),
                         [](const ::testing::TestParamInfo<int>& param_info) {
                           return std::to_string(param_info.param) + "_bits";
                         });

TEST(IterateMasks, OrderWithinAWidthIsLexicographicOverTheGivenNodes) {
  std::vector<NodeSet> order;
  forEachMask({0, 2, 5}, [&](NumaMask mask) { order.push_back(toNodeSet(mask)); });
  std::vector<NodeSet> expected = {{0}, {2}, {5}, {0, 2}, {0, 5}, {2, 5}, {0, 2, 5}};
  EXPECT_EQ(order, expected);
}

TEST(IsLessThan, ComparesMasksAsNumbers) {
  // {1,2} = 0b0110 is below {0,3} = 0b1001: the kubelet's tie-break between equal widths.
  EXPECT_TRUE(isLessThan(toMask({1, 2}), toMask({0, 3})));
  EXPECT_TRUE(isNarrowerThan(toMask({1, 2}), toMask({0, 3})));
  EXPECT_FALSE(isLessThan(toMask({0, 3}), toMask({0, 3})));
}

TEST(NumaInfoFromTopology, TakesNodesAndDistances) {
  topology::TopologyBuilder builder;
  for (int cpu = 0; cpu < 4; ++cpu) builder.addCpu({.id = cpu, .core_id = cpu, .l3 = 0, .numa = cpu / 2});
  builder.addNumaNode({.id = 0, .memory_bytes = 1ULL << 30});
  builder.addNumaNode({.id = 1, .memory_bytes = 1ULL << 30});
  builder.setDistances({{10, 21}, {21, 10}});
  auto topology = builder.build();
  ASSERT_TRUE(topology.has_value()) << topology.error().toString();
  auto numa = NumaInfo::fromTopology(*topology);
  ASSERT_TRUE(numa.has_value());
  EXPECT_EQ(numa->nodes(), (std::vector<int>{0, 1}));
  EXPECT_EQ(numa->defaultAffinity(), NumaMask{0b11});
  EXPECT_DOUBLE_EQ(numa->averageDistance(0b11), 15.5);
}

}  // namespace
}  // namespace topod::policies::topology_manager
