// systemd::UnitProperties: the arithmetic and naming it shares with the kubelet's systemd driver,
// the errors without a bus, and (where systemd is PID 1) a read of a real slice.
#include "systemd/unit_properties.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace topod::systemd {
namespace {

TEST(CpuQuotaPerSecUs, RoundsUpToTenMillisecondsAsRuncDoes) {
  EXPECT_EQ(cpuQuotaPerSecUs(50000, 100000), 500000U);
  EXPECT_EQ(cpuQuotaPerSecUs(100000, 100000), 1000000U);
  EXPECT_EQ(cpuQuotaPerSecUs(91650, 50000), 1840000U) << "1833000 rounds up";
  EXPECT_EQ(cpuQuotaPerSecUs(1000, 100000), 10000U) << "the kubelet's minimum quota, 1 %";
  EXPECT_EQ(cpuQuotaPerSecUs(1, 100000), 10000U);
}

TEST(CpuQuotaPerSecUs, NoQuotaIsInfinity) {
  EXPECT_EQ(cpuQuotaPerSecUs(-1, 100000), std::nullopt);
  EXPECT_EQ(cpuQuotaPerSecUs(0, 100000), std::nullopt);
  EXPECT_EQ(cpuQuotaPerSecUs(50000, 0), std::nullopt);
  EXPECT_EQ(cpuQuotaPerSecUs(INT64_MAX, 1000), std::nullopt) << "beyond what the product can hold";
}

TEST(SliceUnitOf, TheLastComponentWhenItIsASlice) {
  EXPECT_EQ(sliceUnitOf("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice"),
            "kubepods-burstable-pod1.slice");
  EXPECT_EQ(sliceUnitOf("/kubepods.slice/kubepods-pod1.slice/"), "kubepods-pod1.slice");
  EXPECT_EQ(sliceUnitOf("kubepods.slice"), "kubepods.slice");
  EXPECT_EQ(sliceUnitOf("/kubepods/pod1"), std::nullopt) << "the cgroupfs driver";
  EXPECT_EQ(sliceUnitOf("/kubepods.slice/cri-containerd-1.scope"), std::nullopt);
  EXPECT_EQ(sliceUnitOf("/-.slice"), std::nullopt) << "the root";
  EXPECT_EQ(sliceUnitOf("/x/.slice"), std::nullopt);
  EXPECT_EQ(sliceUnitOf(""), std::nullopt);
  EXPECT_EQ(sliceUnitOf("/"), std::nullopt);
}

TEST(ConnectUnitProperties, NoBusIsUnavailableWithItsReason) {
  auto units = connectUnitProperties(std::chrono::seconds(1), "unix:path=/nonexistent/topod-test-bus");
  ASSERT_FALSE(units.has_value());
  EXPECT_EQ(units.error().code(), ErrorCode::Unavailable) << units.error().toString();
  EXPECT_EQ(units.error().reason(), kNoBusReason);
}

// Read-only: the quota of a slice every systemd has, and a unit it does not know.
TEST(ConnectUnitProperties, ReadsARealSlice) {
  if (::access("/run/systemd/system", F_OK) != 0) GTEST_SKIP() << "systemd is not PID 1 here";
  auto units = connectUnitProperties();
  if (!units.has_value()) GTEST_SKIP() << units.error().toString();
  auto quota = (*units)->cpuQuota("system.slice");
  ASSERT_TRUE(quota.has_value()) << quota.error().toString();
  auto unknown = (*units)->cpuQuota("topod-test-no-such-unit.slice");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), ErrorCode::NotFound) << unknown.error().toString();
  EXPECT_EQ(unknown.error().reason(), kNoSuchUnitReason);
  auto odd = (*units)->cpuQuota("system.target");
  ASSERT_FALSE(odd.has_value());
  EXPECT_EQ(odd.error().code(), ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace topod::systemd
