// describeCpuShape: the CPU part of `topod explain`.
#include "policies/cpu_shape.h"

#include <gtest/gtest.h>

#include "tests/policies/engine/engine_topologies.h"

namespace topod::policies {
namespace {

using testing::twoNuma16Cpus;  // CPUs 0-7 on node 0, 8-15 on node 1; siblings (n, n+1); L3 per node

// 2 packages x 2 cores x 2 threads, siblings far apart: core k is CPUs k and k + 4.
topology::Topology twoPackages() {
  topology::TopologyBuilder b;
  for (int core = 0; core < 4; ++core) {
    for (int thread = 0; thread < 2; ++thread) {
      b.addCpu({.id = core + 4 * thread, .package = core / 2, .die = 0, .core_id = core % 2, .numa = core / 2});
    }
  }
  for (int node = 0; node < 2; ++node) {
    b.addNumaNode({.id = node, .memory_bytes = testing::kGiB, .kind = topology::MemoryKind::Dram});
  }
  return b.build().value();
}

TEST(CpuShapeTest, WholeCoresOnOneNode) {
  EXPECT_EQ(describeCpuShape(twoNuma16Cpus(), CpuSet{10, 11, 12, 13}),
            "4 CPUs 10-13: 2 whole cores (10-11, 12-13); NUMA node 1; package 0; L3 group 1");
}

TEST(CpuShapeTest, PartlyHeldCoresAreNamedWithTheirSiblings) {
  EXPECT_EQ(describeCpuShape(twoNuma16Cpus(), CpuSet{2, 3, 4}),
            "3 CPUs 2-4: 1 whole core (2-3) and 1 thread of partly held cores (4 of core 4-5); "
            "NUMA node 0; package 0; L3 group 0");
}

TEST(CpuShapeTest, SpanningNodesAndPackagesWithoutL3) {
  EXPECT_EQ(describeCpuShape(twoPackages(), CpuSet{1, 2, 5}),
            "3 CPUs 1-2,5: 1 whole core (1,5) and 1 thread of partly held cores (2 of core 2,6); "
            "NUMA nodes 0-1; packages 0-1");
}

TEST(CpuShapeTest, LongListsAreCutAndUnknownCpusKept) {
  const std::string all = describeCpuShape(twoNuma16Cpus(), CpuSet::range(0, 15));
  EXPECT_EQ(all,
            "16 CPUs 0-15: 8 whole cores (0-1, 2-3, 4-5, 6-7, 8-9, 10-11, 12-13, 14-15); NUMA nodes 0-1; "
            "package 0; L3 groups 0-1");
  // More than 8 cores: the counts stay exact, the names stop.
  topology::TopologyBuilder b;
  for (int cpu = 0; cpu < 10; ++cpu) b.addCpu({.id = cpu, .package = 0, .die = 0, .core_id = cpu, .numa = 0});
  b.addNumaNode({.id = 0, .memory_bytes = testing::kGiB, .kind = topology::MemoryKind::Dram});
  EXPECT_EQ(describeCpuShape(b.build().value(), CpuSet::range(0, 9)),
            "10 CPUs 0-9: 10 whole cores (0, 1, 2, 3, 4, 5, 6, 7), ...; NUMA node 0; package 0");
  EXPECT_EQ(describeCpuShape(twoNuma16Cpus(), CpuSet{0, 1, 40}),
            "3 CPUs 0-1,40: 1 whole core (0-1); NUMA node 0; package 0; L3 group 0; not online here: 40");
  EXPECT_EQ(describeCpuShape(twoNuma16Cpus(), CpuSet{}), "no CPUs");
}

}  // namespace
}  // namespace topod::policies
