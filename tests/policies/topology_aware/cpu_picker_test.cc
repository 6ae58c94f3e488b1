// CPU choice inside the chosen node(s), and which CPUs a shrink gives back.
#include "policies/topology_aware/cpu_picker.h"

#include <gtest/gtest.h>

#include "tests/policies/topology_aware/shapes.h"

namespace topod::policies::topology_aware {
namespace {

// 1 package, 2 nodes, 4 L3 groups of 4 cores per node, SMT 2: core k has CPUs k and k + 32;
// L3 group g holds cores 4g..4g+3.
const testing::ShapeSpec kAmd{
    .name = "Amd", .packages = 1, .nodes_per_package = 2, .l3_per_node = 4, .cores_per_l3 = 4};

struct PickCase {
  std::string name;
  CpuSet free;
  int count;
  CpuSet expected;
};

class PickCpusTest : public ::testing::TestWithParam<PickCase> {};

TEST_P(PickCpusTest, Picks) {
  topology::Topology topology = testing::buildShape(kAmd);
  EXPECT_EQ(pickCpus(topology, GetParam().free, GetParam().count), GetParam().expected);
}

CpuSet l3(int group) {
  return CpuSet::range(4 * group, 4 * group + 3) | CpuSet::range(32 + 4 * group, 32 + 4 * group + 3);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, PickCpusTest,
    ::testing::Values(PickCase{"WholeCoresFromTheLowEnd", l3(0), 4, CpuSet{0, 1, 32, 33}},
                      PickCase{"BestFitGroupAmongSeveral", l3(0) | (l3(1) - CpuSet{4, 36, 5, 37}), 4,
                               CpuSet{6, 7, 38, 39}},
                      PickCase{"HalfCoreRemainderFillsAPartlyUsedCore", l3(0) - CpuSet{32}, 1, CpuSet{0}},
                      PickCase{"WholeCoreBrokenOnlyWithoutPartlyUsedOne", l3(0), 1, CpuSet{0}},
                      PickCase{"ThreeTakesACoreAndAPartlyUsedSibling", l3(0) - CpuSet{35}, 3, CpuSet{0, 32, 3}},
                      PickCase{"SpansGroupsLargestFirst", l3(0) | (l3(1) - CpuSet{4}), 10, l3(0) | CpuSet{5, 37}},
                      PickCase{"EverythingWhenAskedForAll", l3(2), 8, l3(2)},
                      PickCase{"NothingForZero", l3(2), 0, CpuSet{}}),
    [](const ::testing::TestParamInfo<PickCase>& row_info) { return row_info.param.name; });

TEST(CpusToReleaseTest, SpillNodeFirstThenPartialCoresThenHighestCore) {
  topology::Topology topology = testing::buildShape(kAmd);
  // Cores 0, 1 (whole) and 2 (one thread) on node 0, core 16 (whole) on node 1.
  CpuSet held{0, 32, 1, 33, 2, 16, 48};
  EXPECT_EQ(cpusToRelease(topology, held, 2), (CpuSet{16, 48}));
  EXPECT_EQ(cpusToRelease(topology, held, 3), (CpuSet{16, 48, 2}));
  EXPECT_EQ(cpusToRelease(topology, held, 5), (CpuSet{16, 48, 2, 1, 33}));
  EXPECT_EQ(cpusToRelease(topology, held, 0), CpuSet{});
}

}  // namespace
}  // namespace topod::policies::topology_aware
