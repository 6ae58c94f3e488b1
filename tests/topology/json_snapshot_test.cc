#include "topology/json_snapshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace topod::topology {
namespace {

using ::testing::HasSubstr;

// A small valid document that the error rows below break one field at a time.
const std::string kValid = R"({
  "format": "topod-topology",
  "version": 1,
  "cpus": [
    {"id": 0, "package": 0, "die": 0, "core_id": 0, "l3": 0, "numa": 0},
    {"id": 1, "package": 0, "die": 0, "core_id": 0, "l3": 0, "numa": 0}
  ],
  "offline_cpus": "2-3",
  "isolated_cpus": "1",
  "l3_groups": [
    {"index": 0, "size_bytes": 33554432}
  ],
  "numa_nodes": [
    {"id": 0, "memory_bytes": 68719476736, "kind": "dram", "hugepages": [{"page_size_bytes": 2097152, "pages": 16}]},
    {"id": 1, "memory_bytes": 68719476736, "kind": "cxl", "hugepages": [], "package": 0}
  ],
  "distances": [
    [10, 18],
    [18, 10]
  ],
  "devices": [
    {"address": "0000:17:00.0", "class": "gpu", "vendor_id": "0x10de", "device_id": "0x20b0", "name": "card0", "numa": 0}
  ]
}
)";

std::string replaced(const std::string& from, const std::string& to) {
  std::string text = kValid;
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(TopologyJsonTest, ParsesEveryField) {
  auto t = parseTopologyJson(kValid);
  ASSERT_TRUE(t.has_value()) << t.error().toString();
  EXPECT_EQ(t->siblingsOf(0), (CpuSet{0, 1}));
  EXPECT_EQ(t->offlineCpus(), (CpuSet{2, 3}));
  EXPECT_EQ(t->isolatedCpus(), CpuSet{1});
  EXPECT_EQ(t->l3Groups()[0].size_bytes, 32ULL << 20);
  EXPECT_EQ(t->numaNode(0)->hugepages.at(2ULL << 20), 16U);
  EXPECT_EQ(t->numaNode(1)->kind, MemoryKind::Cxl);
  EXPECT_EQ(t->package(0)->numa_nodes, (NodeSet{0, 1}));
  EXPECT_EQ(t->distance(0, 1), 18);
  EXPECT_EQ(t->device("0000:17:00.0")->vendor_id, 0x10de);
}

TEST(TopologyJsonTest, RoundTripsByteForByte) {
  auto t = parseTopologyJson(kValid);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(toTopologyJson(*t), kValid);
}

TEST(TopologyJsonTest, OptionalFieldsTakeDefaults) {
  auto t = parseTopologyJson(R"({"format": "topod-topology", "version": 1,
      "cpus": [{"id": 3, "package": 0, "core_id": 0, "numa": 0}], "numa_nodes": [{"id": 0, "memory_bytes": 0}]})");
  ASSERT_TRUE(t.has_value()) << t.error().toString();
  EXPECT_EQ(t->cpu(3).die, 0);
  EXPECT_EQ(t->l3Of(3), -1);
  EXPECT_EQ(t->numaNode(0)->kind, MemoryKind::Unknown);
  EXPECT_EQ(t->distance(0, 0), 10);
  EXPECT_TRUE(t->devices().empty());
}

struct BadJson {
  std::string name;
  std::string text;
  std::string expected;
};
void PrintTo(const BadJson& row, std::ostream* os) {
  *os << row.name;
}

class MalformedJsonTest : public ::testing::TestWithParam<BadJson> {};

TEST_P(MalformedJsonTest, NamesThePathAndTheProblem) {
  auto t = parseTopologyJson(GetParam().text);
  ASSERT_FALSE(t.has_value());
  EXPECT_THAT(t.error().message(), HasSubstr(GetParam().expected));
  EXPECT_EQ(t.error().message().find('\n'), std::string::npos);
  EXPECT_EQ(t.error().code(), ErrorCode::InvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, MalformedJsonTest,
    ::testing::Values(
        BadJson{"Empty", "", "invalid JSON: parse error at line 1, column 1"},
        BadJson{"TrailingGarbage", kValid + "}", "invalid JSON"},
        BadJson{"DuplicateKey", replaced("\"version\": 1,", "\"version\": 1, \"version\": 1,"),
                "key \"version\" appears twice in one object"},
        BadJson{"TopLevelArray", "[]", "(top level): expected an object, got array"},
        BadJson{"WrongFormat", replaced("\"topod-topology\"", "\"hwloc\""), "format: expected \"topod-topology\""},
        BadJson{"FutureVersion", replaced("\"version\": 1", "\"version\": 2"), "version: unsupported version 2"},
        BadJson{"UnknownTopLevelKey", replaced("\"version\": 1,", "\"version\": 1, \"cpu\": [],"), "cpu: unknown key"},
        BadJson{"UnknownCpuKey", replaced("\"l3\": 0, \"numa\": 0}", "\"l3\": 0, \"node\": 0}"),
                "cpus[0].node: unknown key"},
        BadJson{"MissingCpus", replaced("\"cpus\"", "\"cpus_\""), "cpus_: unknown key"},
        BadJson{"CpuIdNegative", replaced("{\"id\": 1,", "{\"id\": -1,"), "cpus[1].id: -1 is out of range 0-8191"},
        BadJson{"CpuIdTooLarge", replaced("{\"id\": 1,", "{\"id\": 99999,"), "cpus[1].id: 99999 is out of range"},
        BadJson{"CpuIdHuge", replaced("{\"id\": 1,", "{\"id\": 18446744073709551615,"),
                "cpus[1].id: 18446744073709551615 is out of range"},
        BadJson{"CpuIdFloat", replaced("{\"id\": 1,", "{\"id\": 1.5,"), "cpus[1].id: expected an integer, got number"},
        BadJson{"CpuIdString", replaced("{\"id\": 1,", "{\"id\": \"1\","),
                "cpus[1].id: expected an integer, got string"},
        BadJson{"CpuListedTwice", replaced("{\"id\": 1,", "{\"id\": 0,"), "CPU 0 listed twice"},
        BadJson{"CpuOnMissingNode", replaced("\"l3\": 0, \"numa\": 0}\n  ]", "\"l3\": 0, \"numa\": 5}\n  ]"),
                "cpus[1].numa: NUMA node 5 is not listed in numa_nodes"},
        BadJson{"CpuOnUnlistedL3", replaced("\"l3\": 0, \"numa\": 0}\n  ]", "\"l3\": 1, \"numa\": 0}\n  ]"),
                "cpus[1].l3: L3 group 1 is not listed in l3_groups"},
        BadJson{"BadOfflineList", replaced("\"2-3\"", "\"3-2\""), "offline_cpus: cpu list"},
        BadJson{"OnlineCpuOffline", replaced("\"2-3\"", "\"1-3\""), "both online and offline"},
        BadJson{"IsolatedNotOnline", replaced("\"isolated_cpus\": \"1\"", "\"isolated_cpus\": \"7\""),
                "isolated CPUs 7 are not online"},
        BadJson{
            "NegativeMemory",
            replaced("\"memory_bytes\": 68719476736, \"kind\": \"dram\"", "\"memory_bytes\": -1, \"kind\": \"dram\""),
            "numa_nodes[0].memory_bytes: must not be negative"},
        BadJson{"UnknownKind", replaced("\"kind\": \"cxl\"", "\"kind\": \"flash\""),
                "numa_nodes[1].kind: unknown memory kind \"flash\""},
        BadJson{"HugePageNotPowerOfTwo", replaced("\"page_size_bytes\": 2097152", "\"page_size_bytes\": 3000000"),
                "not a power of two"},
        BadJson{"PackageOnNodeWithCpus", replaced("\"hugepages\": [{", "\"package\": 0, \"hugepages\": [{"),
                "node 0 has CPUs, so its package comes from them"},
        BadJson{"NodeListedTwice", replaced("{\"id\": 1, \"memory_bytes\"", "{\"id\": 0, \"memory_bytes\""),
                "NUMA node 0 listed twice"},
        BadJson{"DistanceRowShort", replaced("[18, 10]", "[18]"),
                "distance matrix row 1 has 1 entries for 2 NUMA nodes"},
        BadJson{"DistanceSelfNot10", replaced("[10, 18]", "[11, 18]"), "distance of a node to itself must be 10"},
        BadJson{"DistanceTooLarge", replaced("[10, 18]", "[10, 300]"), "distances[0][1]: 300 is out of range 1-255"},
        BadJson{"DistanceNotArray", replaced("[10, 18]", "\"10 18\""), "distances[0]: expected an array, got string"},
        BadJson{"DeviceOnMissingNode", replaced("\"card0\", \"numa\": 0", "\"card0\", \"numa\": 4"),
                "devices[0].numa: NUMA node 4 is not listed in numa_nodes"},
        BadJson{"DeviceBadVendor", replaced("\"0x10de\"", "\"10de\""),
                "devices[0].vendor_id: expected a 16-bit hex id"},
        BadJson{"DeviceUnknownClass", replaced("\"class\": \"gpu\"", "\"class\": \"fpga\""),
                "devices[0].class: unknown device class"},
        BadJson{"HugepagesNotArray", replaced("\"hugepages\": []", "\"hugepages\": {}"),
                "numa_nodes[1].hugepages: expected an array, got object"}),
    [](const auto& row) { return row.param.name; });

}  // namespace
}  // namespace topod::topology
