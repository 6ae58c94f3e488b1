#include "topology/zone_summary.h"

#include <gtest/gtest.h>

#include <string>

#include "topology/loaders.h"

namespace topod::topology {
namespace {

const std::string kFixtureDir = std::string(TOPOD_FIXTURES_DIR) + "/topology/";

const ZoneResource* find(const Zone& zone, const std::string& name) {
  for (const ZoneResource& r : zone.resources) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

TEST(ZoneSummaryTest, OneNodeZonePerNumaNodeWithDistancesAsCosts) {
  auto t = loadTopology("xml:" + kFixtureDir + "gpu-2s-2x16c-smt2-4gpu-2nic.xml");
  ASSERT_TRUE(t.has_value());
  auto zones = summarizeZones(*t);
  ASSERT_EQ(zones.size(), 2U);
  EXPECT_EQ(zones[1].name, "node-1");
  EXPECT_EQ(zones[1].type, "Node");
  EXPECT_EQ(zones[0].costs, (std::vector<ZoneCost>{{"node-0", 10}, {"node-1", 21}}));
  std::vector<std::string> names;
  for (const ZoneResource& r : zones[0].resources) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"cpu", "memory", "hugepages-2Mi", "hugepages-1Gi", "nvidia.com/gpu",
                                             "topod.io/nic"}));
  EXPECT_EQ(*find(zones[0], "cpu"), (ZoneResource{"cpu", 32, 32, 32}));
  EXPECT_EQ(find(zones[0], "hugepages-1Gi")->capacity, 16LL << 30);
  EXPECT_EQ(find(zones[1], "nvidia.com/gpu")->capacity, 2);
  EXPECT_EQ(find(zones[0], "memory")->available, 500LL << 30);
}

TEST(ZoneSummaryTest, ReservationsAndUsageLowerAllocatableAndAvailable) {
  auto t = loadTopology("xml:" + kFixtureDir + "intel-2s-2x20c-smt2.xml");
  ASSERT_TRUE(t.has_value());
  ZoneSummaryOptions options;
  options.reserved_cpus = CpuSet{0, 40, 20};  // two on node 0, one on node 1
  options.reserved[0]["memory"] = 4LL << 30;
  options.used[0]["cpu"] = 10;
  options.used[1]["memory"] = 1000LL << 30;  // more than there is: clamps at 0
  auto zones = summarizeZones(*t, options);
  EXPECT_EQ(*find(zones[0], "cpu"), (ZoneResource{"cpu", 40, 38, 28}));
  EXPECT_EQ(*find(zones[1], "cpu"), (ZoneResource{"cpu", 40, 39, 39}));
  EXPECT_EQ(find(zones[0], "memory")->allocatable, 186LL << 30);
  EXPECT_EQ(find(zones[1], "memory")->available, 0);
}

TEST(ZoneSummaryTest, MemoryOnlyNodesHaveNoCpuResource) {
  auto t = loadTopology("xml:" + kFixtureDir + "cxl-2s-2x16c-smt2-2memonly.xml");
  ASSERT_TRUE(t.has_value());
  auto zones = summarizeZones(*t);
  ASSERT_EQ(zones.size(), 4U);
  EXPECT_EQ(find(zones[2], "cpu"), nullptr);
  EXPECT_EQ(find(zones[2], "memory")->capacity, 256LL << 30);
}

TEST(ZoneSummaryTest, DeviceClassesWithoutANameAreLeftOut) {
  auto t = loadTopology("xml:" + kFixtureDir + "gpu-2s-2x16c-smt2-4gpu-2nic.xml");
  ASSERT_TRUE(t.has_value());
  ZoneSummaryOptions options;
  options.device_resources =
      DeviceResourceNames({{.klass = DeviceClass::Gpu, .vendor_id = 0x10de, .resource = "nvidia.com/gpu"}});
  auto zones = summarizeZones(*t, options);
  EXPECT_EQ(find(zones[0], "nvidia.com/gpu")->capacity, 2);
  EXPECT_EQ(find(zones[0], "topod.io/nic"), nullptr);
}

TEST(ZoneSummaryTest, DevicesCarryTheirDevicePluginsNamesByDefault) {
  auto t = loadTopology("xml:" + kFixtureDir + "gpu-2s-2x16c-smt2-4gpu-2nic.xml");
  ASSERT_TRUE(t.has_value());
  auto zones = summarizeZones(*t);
  // NVIDIA GPUs (vendor 10de) as NVIDIA's device plugin advertises them; NICs keep topod's name.
  EXPECT_EQ(find(zones[0], "nvidia.com/gpu")->capacity, 2);
  EXPECT_EQ(find(zones[1], "nvidia.com/gpu")->capacity, 2);
  EXPECT_EQ(find(zones[0], "topod.io/gpu"), nullptr);
  EXPECT_EQ(find(zones[0], "topod.io/nic")->capacity, 1);
}

TEST(DeviceResourceNamesTest, FirstMatchingRuleWinsAndUnmatchedDevicesHaveNoName) {
  DeviceResourceNames names;
  PciDevice gpu{.address = "0000:01:00.0", .klass = DeviceClass::Gpu, .vendor_id = 0x1002};
  EXPECT_EQ(names.nameOf(gpu), "amd.com/gpu");
  gpu.vendor_id = 0x8086;
  EXPECT_EQ(names.nameOf(gpu), "gpu.intel.com/i915");
  gpu.vendor_id = 0x1234;
  EXPECT_EQ(names.nameOf(gpu), "topod.io/gpu");
  PciDevice storage{.address = "0000:02:00.0", .klass = DeviceClass::Storage, .vendor_id = 0x144d};
  EXPECT_EQ(names.nameOf(storage), std::nullopt);
  DeviceResourceNames only_nic({{.klass = DeviceClass::Nic, .vendor_id = std::nullopt, .resource = "intel.com/sriov"}});
  EXPECT_EQ(only_nic.nameOf(gpu), std::nullopt);
}

struct QuantityRow {
  std::string resource;
  int64_t amount;
  std::string expected;
};

TEST(ZoneSummaryTest, QuantitiesUseKubernetesSyntax) {
  for (const QuantityRow& row : std::vector<QuantityRow>{{"cpu", 1024, "1024"},
                                                         {"memory", 64LL << 30, "64Gi"},
                                                         {"memory", 1536LL << 20, "1536Mi"},
                                                         {"memory", 100, "100"},
                                                         {"memory", 0, "0"},
                                                         {"hugepages-2Mi", 2LL << 20, "2Mi"},
                                                         {"topod.io/gpu", 2048, "2048"}}) {
    EXPECT_EQ(zoneQuantity(row.resource, row.amount), row.expected) << row.resource << " " << row.amount;
  }
  EXPECT_EQ(hugepageResourceName(2ULL << 20), "hugepages-2Mi");
  EXPECT_EQ(hugepageResourceName(1ULL << 30), "hugepages-1Gi");
  EXPECT_EQ(hugepageResourceName(64ULL << 10), "hugepages-64Ki");
}

}  // namespace
}  // namespace topod::topology
