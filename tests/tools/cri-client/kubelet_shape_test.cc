#include "tests/tools/cri-client/kubelet_shape.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace topod::e2e {
namespace {

constexpr int64_t kMi = int64_t{1} << 20;
constexpr int64_t kGi = int64_t{1} << 30;

struct QosRow {
  const char* name;
  ResourceAsk ask;
  QosClass want;
};

TEST(KubeletShapeTest, QosClassFollowsRequestsAndLimits) {
  const QosRow rows[] = {
      {"nothing set is BestEffort", {}, QosClass::BestEffort},
      {"equal cpu and memory is Guaranteed", {1000, 1000, 64 * kMi, 64 * kMi}, QosClass::Guaranteed},
      {"limits only default the requests: Guaranteed", {0, 2000, 0, 64 * kMi}, QosClass::Guaranteed},
      {"request below limit is Burstable", {500, 1000, 64 * kMi, 64 * kMi}, QosClass::Burstable},
      {"cpu without memory is Burstable", {1000, 1000, 0, 0}, QosClass::Burstable},
      {"requests only is Burstable", {100, 0, 0, 0}, QosClass::Burstable},
  };
  for (const QosRow& row : rows) {
    EXPECT_EQ(qosOf(row.ask), row.want) << row.name;
  }
}

TEST(KubeletShapeTest, CgroupParentRoundTripsTheQosClass) {
  for (QosClass qos : {QosClass::Guaranteed, QosClass::Burstable, QosClass::BestEffort}) {
    EXPECT_EQ(qosFromCgroupParent(podCgroupParent(qos, "1234-ab")), qos) << qosClassName(qos);
  }
  EXPECT_EQ(podCgroupParent(QosClass::Guaranteed, "u1"), "/kubepods/podu1");
  EXPECT_EQ(podCgroupParent(QosClass::Burstable, "u1"), "/kubepods/burstable/podu1");
  EXPECT_EQ(podCgroupParent(QosClass::BestEffort, "u1"), "/kubepods/besteffort/podu1");
}

TEST(KubeletShapeTest, SystemdDriverNamesThePodSliceLikeTheKubelet) {
  EXPECT_EQ(podCgroupParent(QosClass::Guaranteed, "1a-2b", CgroupDriver::Systemd), "kubepods-pod1a_2b.slice");
  EXPECT_EQ(podCgroupParent(QosClass::Burstable, "1a-2b", CgroupDriver::Systemd), "kubepods-burstable-pod1a_2b.slice");
  EXPECT_EQ(podCgroupParent(QosClass::BestEffort, "1a-2b", CgroupDriver::Systemd),
            "kubepods-besteffort-pod1a_2b.slice");
  for (QosClass qos : {QosClass::Guaranteed, QosClass::Burstable, QosClass::BestEffort}) {
    EXPECT_EQ(qosFromCgroupParent(podCgroupParent(qos, "u-1", CgroupDriver::Systemd)), qos) << qosClassName(qos);
  }
  EXPECT_EQ(qosSlices(QosClass::Guaranteed), std::vector<std::string>{"kubepods.slice"});
  EXPECT_EQ(qosSlices(QosClass::Burstable), (std::vector<std::string>{"kubepods.slice", "kubepods-burstable.slice"}));
  EXPECT_EQ(qosSlices(QosClass::BestEffort), (std::vector<std::string>{"kubepods.slice", "kubepods-besteffort.slice"}));
}

TEST(KubeletShapeTest, ExpandsSliceNamesToCgroupPaths) {
  EXPECT_EQ(*expandSlice("kubepods.slice"), "/kubepods.slice");
  EXPECT_EQ(*expandSlice("kubepods-pod1a_2b.slice"), "/kubepods.slice/kubepods-pod1a_2b.slice");
  EXPECT_EQ(*expandSlice("kubepods-burstable-podu_1.slice"),
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podu_1.slice");
  EXPECT_EQ(*expandSlice("-.slice"), "/");
  for (const char* bad : {"kubepods", "kubepods.scope", "a/b.slice", "-a.slice", "a--b.slice", "a-.slice", ".slice"}) {
    EXPECT_FALSE(expandSlice(bad).has_value()) << bad;
  }
}

TEST(KubeletShapeTest, ParsesTheCgroupDriver) {
  EXPECT_EQ(*parseCgroupDriver("cgroupfs"), CgroupDriver::Cgroupfs);
  EXPECT_EQ(*parseCgroupDriver("systemd"), CgroupDriver::Systemd);
  EXPECT_FALSE(parseCgroupDriver("Systemd").has_value());
  EXPECT_FALSE(parseCgroupDriver("").has_value());
}

TEST(KubeletShapeTest, ConvertsToCgroupV2ValuesLikeTheKubelet) {
  // getCPUWeight: 1 + (shares - 2) * 9999 / 262142.
  EXPECT_EQ(cpuSharesToWeight(0), 0);
  EXPECT_EQ(cpuSharesToWeight(2), 1);
  EXPECT_EQ(cpuSharesToWeight(256), 10);
  EXPECT_EQ(cpuSharesToWeight(512), 20);
  EXPECT_EQ(cpuSharesToWeight(1024), 39);
  EXPECT_EQ(cpuSharesToWeight(2048), 79);
  EXPECT_EQ(cpuSharesToWeight(262144), 10000);
  EXPECT_EQ(cpuMaxValue(100000, kCfsPeriodUs), "100000 100000");
  EXPECT_EQ(cpuMaxValue(50000, kCfsPeriodUs), "50000 100000");
  EXPECT_EQ(cpuMaxValue(0, kCfsPeriodUs), "max 100000");
  EXPECT_EQ(cpuMaxValue(0, 0), "");
  EXPECT_EQ(memoryMaxValue(64 * kMi), "67108864");
  EXPECT_EQ(memoryMaxValue(0), "max");
  // runc's addCpuQuota: per second, rounded up to 10 ms; infinity without a quota.
  EXPECT_EQ(cpuQuotaPerSecUSec(100000, kCfsPeriodUs), 1000000U);
  EXPECT_EQ(cpuQuotaPerSecUSec(50000, kCfsPeriodUs), 500000U);
  EXPECT_EQ(cpuQuotaPerSecUSec(1000, kCfsPeriodUs), 10000U);
  EXPECT_EQ(cpuQuotaPerSecUSec(1500, kCfsPeriodUs), 20000U);
  EXPECT_EQ(cpuQuotaPerSecUSec(0, kCfsPeriodUs), std::numeric_limits<uint64_t>::max());
}

struct ValuesRow {
  const char* name;
  QosClass qos;
  ResourceAsk ask;
  LinuxResourceValues want_container;
  LinuxResourceValues want_pod;
};

TEST(KubeletShapeTest, ContainerAndPodValuesMatchTheKubelet) {
  const int64_t machine = 16 * kGi;
  const ValuesRow rows[] = {
      {"Guaranteed one CPU",
       QosClass::Guaranteed,
       {1000, 1000, 64 * kMi, 64 * kMi},
       {kCfsPeriodUs, 100000, 1024, 64 * kMi, -997},
       {kCfsPeriodUs, 100000, 1024, 64 * kMi, 0}},
      {"Burstable with a cpu limit",
       QosClass::Burstable,
       {250, 500, 4 * kGi, 8 * kGi},
       {kCfsPeriodUs, 50000, 256, 8 * kGi, 750},
       {kCfsPeriodUs, 50000, 256, 8 * kGi, 0}},
      {"Burstable request only", QosClass::Burstable, {100, 0, 0, 0}, {0, 0, 102, 0, 999}, {0, 0, 102, 0, 0}},
      {"BestEffort", QosClass::BestEffort, {}, {0, 0, 2, 0, 1000}, {0, 0, 2, 0, 0}},
      {"tiny limit gets the minimum quota",
       QosClass::Burstable,
       {1, 5, 0, 0},
       {kCfsPeriodUs, 1000, 2, 0, 999},
       {kCfsPeriodUs, 1000, 2, 0, 0}},
  };
  for (const ValuesRow& row : rows) {
    EXPECT_EQ(containerValues(row.qos, row.ask, machine), row.want_container) << row.name;
    EXPECT_EQ(podValues(row.qos, row.ask), row.want_pod) << row.name;
  }
}

struct QuantityRow {
  const char* text;
  bool is_cpu;
  bool ok;
  int64_t want;
};

TEST(KubeletShapeTest, ParsesQuantities) {
  const QuantityRow rows[] = {
      {"500m", true, true, 500},
      {"2", true, true, 2000},
      {"1.5", true, true, 1500},
      {"m", true, false, 0},
      {"-1", true, false, 0},
      {"64Mi", false, true, 64 * kMi},
      {"1G", false, true, 1000000000},
      {"4096", false, true, 4096},
      {"Mi", false, false, 0},
      {"12x", false, false, 0},
      {"99999999999999999999Gi", false, false, 0},
  };
  for (const QuantityRow& row : rows) {
    auto got = row.is_cpu ? parseCpuMilli(row.text) : parseBytes(row.text);
    ASSERT_EQ(got.has_value(), row.ok) << row.text;
    if (row.ok) {
      EXPECT_EQ(*got, row.want) << row.text;
    }
  }
}

}  // namespace
}  // namespace topod::e2e
