// Every loader against every machine fixture (tests/fixtures/topology/<shape>.xml, its fake
// sysfs tree where one exists, and its committed JSON snapshot <shape>.json).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "topology/json_snapshot.h"
#include "topology/loaders.h"

namespace topod::topology {
namespace {

const std::string kDir = std::string(TOPOD_FIXTURES_DIR) + "/topology/";

struct FixtureRow {
  std::string shape;
  std::size_t packages;
  std::size_t dies;
  std::size_t numa_nodes;
  std::size_t l3_groups;
  std::size_t cores;
  std::size_t cpus;
  std::size_t devices;
  int threads_per_core;
  // Shape-specific facts: siblings of a few CPUs, device locality, memory-only nodes, ...
  std::function<void(const Topology&)> check;
};
void PrintTo(const FixtureRow& row, std::ostream* os) {
  *os << row.shape;
}

std::string readText(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

LoadOptions sysfsFor(const std::string& shape) {
  const std::string root = kDir + "sysfs/" + shape;
  return {.sysfs_root = std::filesystem::is_directory(root) ? root : ""};
}

void expectCounts(const FixtureRow& row, const Topology& t, const std::string& loader) {
  SCOPED_TRACE(loader);
  EXPECT_EQ(t.packages().size(), row.packages);
  EXPECT_EQ(t.dies().size(), row.dies);
  EXPECT_EQ(t.numaNodes().size(), row.numa_nodes);
  EXPECT_EQ(t.l3Groups().size(), row.l3_groups);
  EXPECT_EQ(t.cores().size(), row.cores);
  EXPECT_EQ(t.cpus().size(), row.cpus);
  EXPECT_EQ(t.devices().size(), row.devices);
  EXPECT_EQ(t.threadsPerCore(), row.threads_per_core);
  row.check(t);
}

class FixtureTest : public ::testing::TestWithParam<FixtureRow> {};

TEST_P(FixtureTest, XmlLoaderGivesTheExpectedMachine) {
  const FixtureRow& row = GetParam();
  auto t = loadTopology("xml:" + kDir + row.shape + ".xml", sysfsFor(row.shape));
  ASSERT_TRUE(t.has_value()) << t.error().toString();
  expectCounts(row, *t, "xml");
}

TEST_P(FixtureTest, JsonSnapshotLoaderGivesTheExpectedMachine) {
  const FixtureRow& row = GetParam();
  auto t = loadTopology("json:" + kDir + row.shape + ".json");
  ASSERT_TRUE(t.has_value()) << t.error().toString();
  expectCounts(row, *t, "json");
}

TEST_P(FixtureTest, XmlToJsonToModelEqualsXmlToModel) {
  const FixtureRow& row = GetParam();
  auto from_xml = loadHwlocXmlFile(kDir + row.shape + ".xml", sysfsFor(row.shape));
  ASSERT_TRUE(from_xml.has_value()) << from_xml.error().toString();
  auto via_json = parseTopologyJson(toTopologyJson(*from_xml));
  ASSERT_TRUE(via_json.has_value()) << via_json.error().toString();
  EXPECT_EQ(*via_json, *from_xml);
}

TEST_P(FixtureTest, CommittedSnapshotRoundTripsByteForByte) {
  const FixtureRow& row = GetParam();
  const std::string text = readText(kDir + row.shape + ".json");
  ASSERT_FALSE(text.empty());
  auto t = parseTopologyJson(text);
  ASSERT_TRUE(t.has_value()) << t.error().toString();
  EXPECT_EQ(toTopologyJson(*t), text);
  // The committed snapshot is what the XML loader produces today (regenerate.sh rewrites it).
  auto from_xml = loadHwlocXmlFile(kDir + row.shape + ".xml", sysfsFor(row.shape));
  ASSERT_TRUE(from_xml.has_value());
  EXPECT_EQ(toTopologyJson(*from_xml), text);
}

TEST_P(FixtureTest, XmlBufferLoaderMatchesXmlFileLoader) {
  const FixtureRow& row = GetParam();
  auto from_file = loadHwlocXmlFile(kDir + row.shape + ".xml");
  auto from_buffer = loadHwlocXmlBuffer(readText(kDir + row.shape + ".xml"), row.shape);
  ASSERT_TRUE(from_file.has_value() && from_buffer.has_value());
  EXPECT_EQ(*from_file, *from_buffer);
}

INSTANTIATE_TEST_SUITE_P(
    Machines, FixtureTest,
    ::testing::Values(
        FixtureRow{"intel-2s-2x20c-smt2", 2, 2, 2, 2, 40, 80, 2, 2,
                   [](const Topology& m) {
                     EXPECT_EQ(m.siblingsOf(1), (CpuSet{1, 41}));  // kernel numbering: N and N+ncores
                     EXPECT_EQ(m.siblingsOf(60), (CpuSet{20, 60}));
                     EXPECT_EQ(m.numaOf(41), 0);
                     EXPECT_EQ(m.numaOf(20), 1);
                     EXPECT_EQ(m.cpu(5).core_id, 8);  // Intel core ids are sparse
                     EXPECT_EQ(m.distance(0, 1), 21);
                     EXPECT_EQ(m.numaNode(0)->hugepages.at(2ULL << 20), 1024U);
                     EXPECT_EQ(m.numaNode(1)->hugepages.at(1ULL << 30), 4U);
                     EXPECT_EQ(m.numaNode(0)->kind, MemoryKind::Dram);
                     EXPECT_EQ(m.l3Groups()[0].size_bytes, 28835840U);  // 27.5 MiB
                     ASSERT_NE(m.device("0000:18:00.0"), nullptr);
                     EXPECT_EQ(m.device("0000:98:00.0")->numa, 1);
                   }},
        FixtureRow{"amd-epyc-1s-64c-smt2-nps1", 1, 1, 1, 8, 64, 128, 1, 2,
                   [](const Topology& m) {
                     EXPECT_EQ(m.siblingsOf(0), (CpuSet{0, 64}));
                     EXPECT_EQ(m.l3Of(8), 1);
                     EXPECT_EQ(m.l3Of(72), 1);
                     EXPECT_EQ(m.l3Groups()[7].cpus, CpuSet::range(56, 63) | CpuSet::range(120, 127));
                     EXPECT_EQ(m.l3Groups()[3].numa_nodes, NodeSet{0});
                     EXPECT_EQ(m.devices()[0].klass, DeviceClass::Storage);
                     EXPECT_EQ(m.devices()[0].numa, 0);
                   }},
        FixtureRow{"amd-epyc-1s-64c-smt2-nps4", 1, 1, 4, 8, 64, 128, 1, 2,
                   [](const Topology& m) {
                     EXPECT_EQ(m.numaOf(16), 1);
                     EXPECT_EQ(m.numaOf(80), 1);
                     EXPECT_EQ(m.cpusOfNuma(3), CpuSet::range(48, 63) | CpuSet::range(112, 127));
                     EXPECT_EQ(m.l3Groups()[2].numa_nodes, NodeSet{1});
                     EXPECT_EQ(m.l3Groups()[3].numa_nodes, NodeSet{1});
                     EXPECT_EQ(m.distance(0, 3), 12);
                     EXPECT_EQ(m.device("0000:41:00.0")->numa, 1);
                   }},
        FixtureRow{"amd-epyc-2s-2x64c-smt2", 2, 2, 2, 16, 128, 256, 2, 2,
                   [](const Topology& m) {
                     EXPECT_EQ(m.siblingsOf(64), (CpuSet{64, 192}));
                     EXPECT_EQ(m.numaOf(64), 1);
                     EXPECT_EQ(m.l3Of(200), 9);
                     EXPECT_EQ(m.device("0000:c1:00.0")->numa, 1);
                     EXPECT_EQ(m.distance(1, 0), 32);
                   }},
        FixtureRow{"intel-2s-snc2-2x32c-smt2", 2, 2, 4, 2, 64, 128, 0, 2,
                   [](const Topology& m) {
                     EXPECT_EQ(m.numaOf(16), 1);
                     EXPECT_EQ(m.numaOf(80), 1);
                     EXPECT_EQ(m.l3Of(16), 0);  // the L3 spans both sub-NUMA clusters
                     EXPECT_EQ(m.l3Groups()[0].numa_nodes, (NodeSet{0, 1}));
                     EXPECT_EQ(m.package(1)->numa_nodes, (NodeSet{2, 3}));
                     EXPECT_EQ(m.distance(0, 1), 12);
                     EXPECT_EQ(m.distance(1, 2), 21);
                   }},
        FixtureRow{"gpu-2s-2x16c-smt2-4gpu-2nic", 2, 2, 2, 2, 32, 64, 7, 2,
                   [](const Topology& m) {
                     const PciDevice* gpu = m.device("0000:98:00.0");
                     ASSERT_NE(gpu, nullptr);
                     EXPECT_EQ(gpu->klass, DeviceClass::Gpu);
                     EXPECT_EQ(gpu->vendor_id, 0x10de);
                     EXPECT_EQ(gpu->device_id, 0x20b0);
                     EXPECT_EQ(gpu->numa, 1);
                     EXPECT_EQ(gpu->name, "card2");
                     const PciDevice* nic = m.device("0000:1a:00.0");
                     ASSERT_NE(nic, nullptr);
                     EXPECT_EQ(nic->klass, DeviceClass::Nic);
                     EXPECT_EQ(nic->numa, 0);
                     EXPECT_EQ(nic->name, "ib0,mlx5_0");
                     EXPECT_EQ(m.device("0000:1c:00.0"), nullptr);  // USB controller: not of interest
                     int gpus_on_node1 = 0;
                     for (const PciDevice& d : m.devices()) gpus_on_node1 += d.klass == DeviceClass::Gpu && d.numa == 1;
                     EXPECT_EQ(gpus_on_node1, 2);
                   }},
        FixtureRow{"intel-2s-2x8c-smt2-isolated-offline", 2, 2, 2, 2, 16, 30, 0, 2,
                   [](const Topology& m) {
                     EXPECT_EQ(m.offlineCpus(), (CpuSet{30, 31}));
                     EXPECT_EQ(m.isolatedCpus(), (CpuSet{2, 3, 18, 19}));
                     EXPECT_EQ(m.siblingsOf(14), CpuSet{14});  // its sibling 30 is offline
                     EXPECT_EQ(m.siblingsOf(13), (CpuSet{13, 29}));
                     EXPECT_FALSE(m.onlineCpus().contains(31));
                   }},
        FixtureRow{"intel-4s-4x12c-smt2", 4, 4, 4, 4, 48, 96, 0, 2,
                   [](const Topology& m) {
                     EXPECT_EQ(m.numaOf(60), 1);
                     EXPECT_EQ(m.packageOf(95), 3);
                     EXPECT_EQ(m.siblingsOf(47), (CpuSet{47, 95}));
                     EXPECT_EQ(m.distance(0, 2), 31);
                     EXPECT_EQ(m.distance(0, 3), 21);
                   }},
        FixtureRow{"intel-2s-2die-2x2x12c-smt2", 2, 4, 4, 4, 48, 96, 0, 2,
                   [](const Topology& m) {
                     EXPECT_EQ(m.cpu(12).die, 1);
                     EXPECT_EQ(m.numaOf(12), 1);
                     EXPECT_EQ(m.cpu(60).die, 1);
                     EXPECT_EQ(m.dies()[3].cpus, CpuSet::range(36, 47) | CpuSet::range(84, 95));
                     EXPECT_EQ(m.package(1)->numa_nodes, (NodeSet{2, 3}));
                     EXPECT_EQ(m.distance(2, 3), 11);
                   }},
        FixtureRow{"vm-1s-8c-nosmt", 1, 1, 1, 1, 8, 8, 2, 1,
                   [](const Topology& m) {
                     EXPECT_EQ(m.siblingsOf(3), CpuSet{3});
                     EXPECT_EQ(m.numaNode(0)->kind, MemoryKind::Unknown);
                     // A single-node machine: every device is local to its only node.
                     EXPECT_EQ(m.device("0000:00:03.0")->numa, 0);
                     EXPECT_EQ(m.distances(), (std::vector<std::vector<int>>{{10}}));
                   }},
        FixtureRow{"cxl-2s-2x16c-smt2-2memonly", 2, 2, 4, 2, 32, 64, 0, 2,
                   [](const Topology& m) {
                     EXPECT_TRUE(m.cpusOfNuma(2).empty());
                     EXPECT_TRUE(m.cpusOfNuma(3).empty());
                     EXPECT_EQ(m.numaNode(2)->kind, MemoryKind::Cxl);
                     EXPECT_EQ(m.numaNode(3)->memory_bytes, 256ULL << 30);
                     EXPECT_EQ(m.package(0)->numa_nodes, (NodeSet{0, 2}));
                     EXPECT_EQ(m.package(1)->numa_nodes, (NodeSet{1, 3}));
                     EXPECT_EQ(m.numaOf(0), 0);
                     EXPECT_EQ(m.distance(0, 2), 14);
                   }},
        FixtureRow{"intel-1s-56c-smt2-hbm-flat", 1, 1, 2, 1, 56, 112, 0, 2,
                   [](const Topology& m) {
                     EXPECT_EQ(m.numaOf(0), 0);  // DRAM, not the HBM node beside it
                     EXPECT_EQ(m.cpusOfNuma(0), CpuSet::range(0, 111));
                     EXPECT_TRUE(m.cpusOfNuma(1).empty());
                     EXPECT_EQ(m.numaNode(1)->kind, MemoryKind::Hbm);
                     EXPECT_EQ(m.distance(0, 1), 13);
                   }}),
    [](const auto& row) {
      std::string name = row.param.shape;
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

TEST(FixtureSetTest, EveryXmlFixtureHasARowAndASnapshot) {
  std::size_t xml_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
    if (entry.path().extension() != ".xml") continue;
    ++xml_files;
    std::filesystem::path snapshot = entry.path();
    snapshot.replace_extension(".json");
    EXPECT_TRUE(std::filesystem::exists(snapshot)) << snapshot;
  }
  EXPECT_EQ(xml_files, 12U) << "a new fixture needs a row in FixtureTest";
}

}  // namespace
}  // namespace topod::topology
