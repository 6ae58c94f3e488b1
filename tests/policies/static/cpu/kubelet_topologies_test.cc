// The shared kubelet fixtures build, and each has the shape the kubelet test declares.
#include "tests/policies/kubelet_topologies.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace topod::testing {
namespace {

struct FixtureShape {
  std::string name;
  std::function<topology::Topology()> build;
  int cpus;
  int cores;
  int sockets;
  int numa_nodes;
  int l3_groups;
};

class KubeletFixtureTest : public ::testing::TestWithParam<FixtureShape> {};

TEST_P(KubeletFixtureTest, HasTheDeclaredShape) {
  const FixtureShape& shape = GetParam();
  const topology::Topology topo = shape.build();
  EXPECT_EQ(static_cast<int>(topo.cpus().size()), shape.cpus);
  EXPECT_EQ(static_cast<int>(topo.cores().size()), shape.cores);
  EXPECT_EQ(static_cast<int>(topo.packages().size()), shape.sockets);
  EXPECT_EQ(static_cast<int>(topo.numaNodes().size()), shape.numa_nodes);
  EXPECT_EQ(static_cast<int>(topo.l3Groups().size()), shape.l3_groups);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, KubeletFixtureTest,
    ::testing::Values(
        FixtureShape{"SingleSocketHT", topoSingleSocketHT, 8, 4, 1, 1, 0},
        FixtureShape{"DualSocketHT", topoDualSocketHT, 12, 6, 2, 2, 0},
        FixtureShape{"TripleSocketHT", topoTripleSocketHT, 18, 9, 3, 3, 0},
        FixtureShape{"DualSocketNoHT", topoDualSocketNoHT, 8, 8, 2, 2, 0},
        FixtureShape{"QuadSocketFourWayHT", topoQuadSocketFourWayHT, 288, 72, 4, 4, 0},
        FixtureShape{"DualSocketMultiNumaPerSocketHT", topoDualSocketMultiNumaPerSocketHT, 80, 40, 2, 4, 0},
        FixtureShape{"MultiSocketDualSocketPerNumaHT", fakeTopoMultiSocketDualSocketPerNumaHT, 80, 40, 4, 2, 0},
        FixtureShape{"DualSocketMultiNumaPerSocketHTLarge", topoDualSocketMultiNumaPerSocketHTLarge, 256, 128, 2, 8, 0},
        FixtureShape{"UncoreDualSocketNoSMT", topoUncoreDualSocketNoSMT, 16, 16, 2, 2, 4},
        FixtureShape{"UncoreSingleSocketMultiNuma", topoUncoreSingleSocketMultiNuma, 16, 16, 1, 2, 4},
        FixtureShape{"UncoreSingleSocketSMT", topoUncoreSingleSocketSMT, 16, 8, 1, 1, 2},
        FixtureShape{"UncoreSingleSocketNoSMT", topoUncoreSingleSocketNoSMT, 16, 16, 1, 1, 4}),
    [](const ::testing::TestParamInfo<FixtureShape>& param_info) { return param_info.param.name; });

TEST(KubeletFixtureTest, QuadSocketSiblingsFollowTheKubeletCoreIds) {
  const topology::Topology topo = topoQuadSocketFourWayHT();
  EXPECT_EQ(topo.siblingsOf(1).toString(), "1,13,25,38");
  EXPECT_EQ(topo.siblingsOf(37).toString(), "37,108,168,228");
  EXPECT_EQ(topo.packageOf(287), 3);
}

}  // namespace
}  // namespace topod::testing
