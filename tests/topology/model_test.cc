#include "topology/model.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace topod::topology {
namespace {

// 2 packages x 2 cores x 2 threads, Intel-style numbering: siblings are N and N+4.
Topology twoSocketSmt() {
  TopologyBuilder b;
  for (int cpu = 0; cpu < 8; ++cpu) {
    int core = cpu % 4;
    int package = core / 2;
    b.addCpu({.id = cpu, .package = package, .die = 0, .core_id = core % 2, .l3 = package, .numa = package});
  }
  b.addNumaNode({.id = 0, .memory_bytes = 32ULL << 30, .hugepages = {{2ULL << 20, 16}}, .kind = MemoryKind::Dram});
  b.addNumaNode({.id = 1, .memory_bytes = 32ULL << 30, .hugepages = {}, .kind = MemoryKind::Dram});
  b.setDistances({{10, 21}, {21, 10}});
  return b.build().value();
}

TEST(TopologyModelTest, DerivesCoresCachesPackagesAndNodes) {
  Topology t = twoSocketSmt();
  EXPECT_EQ(t.cpus().size(), 8U);
  EXPECT_EQ(t.cores().size(), 4U);
  EXPECT_EQ(t.l3Groups().size(), 2U);
  EXPECT_EQ(t.packages().size(), 2U);
  EXPECT_EQ(t.numaNodes().size(), 2U);
  EXPECT_EQ(t.threadsPerCore(), 2);
  EXPECT_EQ(t.siblingsOf(1), (CpuSet{1, 5}));
  EXPECT_EQ(t.coreOf(6).cpus, (CpuSet{2, 6}));
  EXPECT_EQ(t.numaOf(6), 1);
  EXPECT_EQ(t.packageOf(3), 1);
  EXPECT_EQ(t.l3Of(4), 0);
  EXPECT_EQ(t.cpusOfNuma(1), (CpuSet{2, 3, 6, 7}));
  EXPECT_EQ(t.cpusOfNumaNodes(NodeSet{0, 1}), CpuSet::range(0, 7));
  EXPECT_EQ(t.distance(0, 1), 21);
  EXPECT_EQ(t.distance(1, 1), 10);
  EXPECT_EQ(t.distance(0, 5), -1);
  EXPECT_EQ(t.numaNode(0)->hugepages.at(2ULL << 20), 16U);
  EXPECT_EQ(t.numaNode(7), nullptr);
  EXPECT_EQ(t.package(1)->numa_nodes, NodeSet{1});
}

TEST(TopologyModelTest, IsAValue) {
  Topology a = twoSocketSmt();
  Topology b = twoSocketSmt();
  EXPECT_EQ(a, b);
  Topology c = a;
  EXPECT_EQ(c, a);
}

TEST(TopologyModelTest, MemoryOnlyNodeAttachesToItsPackage) {
  TopologyBuilder b;
  b.addCpu({.id = 0, .package = 0, .die = 0, .core_id = 0, .l3 = 0, .numa = 0});
  b.addNumaNode({.id = 0, .memory_bytes = 1ULL << 30});
  b.addNumaNode({.id = 2, .memory_bytes = 4ULL << 30, .hugepages = {}, .kind = MemoryKind::Cxl, .package = 0});
  Topology t = b.build().value();
  EXPECT_EQ(t.package(0)->numa_nodes, (NodeSet{0, 2}));
  EXPECT_TRUE(t.cpusOfNuma(2).empty());
  EXPECT_EQ(t.distance(0, 2), 20);  // default when no SLIT is given
}

struct BadTopologyRow {
  std::string name;
  std::function<void(TopologyBuilder&)> setup;
  std::string message_part;
};

class TopologyBuilderRejectTest : public ::testing::TestWithParam<BadTopologyRow> {};

TEST_P(TopologyBuilderRejectTest, RejectsInconsistentInput) {
  TopologyBuilder b;
  GetParam().setup(b);
  auto t = b.build();
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message().find(GetParam().message_part), std::string::npos) << t.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Rows, TopologyBuilderRejectTest,
    ::testing::Values(
        BadTopologyRow{"NoCpus", [](TopologyBuilder&) {}, "no online CPUs"},
        BadTopologyRow{"DuplicateCpu", [](TopologyBuilder& b) { b.addCpu({.id = 0}).addCpu({.id = 0}); },
                       "listed twice"},
        BadTopologyRow{"SiblingsOnDifferentNodes",
                       [](TopologyBuilder& b) { b.addCpu({.id = 0, .numa = 0}).addCpu({.id = 1, .numa = 1}); },
                       "disagrees with its SMT siblings"},
        BadTopologyRow{"OfflineAndOnline", [](TopologyBuilder& b) { b.addCpu({.id = 0}).setOfflineCpus(CpuSet{0}); },
                       "both online and offline"},
        BadTopologyRow{"IsolatedNotOnline", [](TopologyBuilder& b) { b.addCpu({.id = 0}).setIsolatedCpus(CpuSet{3}); },
                       "are not online"},
        BadTopologyRow{"SparseL3", [](TopologyBuilder& b) { b.addCpu({.id = 0, .l3 = 1}); }, "L3 group 0 has no CPUs"},
        BadTopologyRow{"DistanceMatrixWrongSize",
                       [](TopologyBuilder& b) {
                         b.addCpu({.id = 0}).setDistances({{10, 20}, {20, 10}});
                       },
                       "2 rows for 1 NUMA nodes"},
        BadTopologyRow{"DistanceToSelfNotTen", [](TopologyBuilder& b) { b.addCpu({.id = 0}).setDistances({{11}}); },
                       "must be 10"},
        BadTopologyRow{
            "DeviceOnMissingNode",
            [](TopologyBuilder& b) { b.addCpu({.id = 0}).addDevice({.address = "0000:01:00.0", .numa = 3}); },
            "does not exist"},
        BadTopologyRow{"HugePageSizeNotPowerOfTwo",
                       [](TopologyBuilder& b) {
                         b.addCpu({.id = 0}).addNumaNode({.id = 0, .memory_bytes = 0, .hugepages = {{3000, 1}}});
                       },
                       "not a power of two"}),
    [](const ::testing::TestParamInfo<BadTopologyRow>& row) { return row.param.name; });

TEST(TopologyModelDeathTest, QueryingAnOfflineCpuTerminates) {
  Topology t = twoSocketSmt();
  EXPECT_DEATH((void)t.cpu(99), "not online");
}

}  // namespace
}  // namespace topod::topology
