#include "cgroups/mountinfo.h"

#include <gtest/gtest.h>

namespace topod::cgroups {
namespace {

// Captured from this project's Debian 12 build machine (hybrid: v1 controllers + empty v2).
constexpr std::string_view kHybrid =
    "22 1 0:21 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// A systemd host with the unified hierarchy only (optional fields present).
constexpr std::string_view kUnified =
    "25 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

// A legacy host with joint controllers and an escaped space in a mount point.
constexpr std::string_view kLegacy =
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpu\\040set rw,relatime - cgroup cgroup rw,cpuset,clone_children\n"
    "35 30 0:30 / /mnt/again rw,relatime - cgroup cgroup rw,cpuset\n";

TEST(MountInfoTest, HybridHostUsesV1Controllers) {
  auto mounts = parseMountInfo(kHybrid);
  ASSERT_TRUE(mounts.has_value()) << mounts.error().toString();
  EXPECT_EQ(mounts->version(), CgroupVersion::V1);
  EXPECT_EQ(mounts->v1.at("cpuset"), "/sys/fs/cgroup/cpuset");
  EXPECT_EQ(mounts->v1.at("cpu"), "/sys/fs/cgroup/cpu");
  EXPECT_EQ(mounts->v1.at("memory"), "/sys/fs/cgroup/memory");
  EXPECT_EQ(mounts->v1.count("name=systemd"), 0U);
  EXPECT_EQ(mounts->unified, "/sys/fs/cgroup/unified");
}

TEST(MountInfoTest, UnifiedHostIsV2) {
  auto mounts = parseMountInfo(kUnified);
  ASSERT_TRUE(mounts.has_value());
  EXPECT_EQ(mounts->version(), CgroupVersion::V2);
  EXPECT_EQ(mounts->unified, "/sys/fs/cgroup");
  EXPECT_TRUE(mounts->v1.empty());
}

TEST(MountInfoTest, JointControllersEscapesAndFirstMountWins) {
  auto mounts = parseMountInfo(kLegacy);
  ASSERT_TRUE(mounts.has_value());
  EXPECT_EQ(mounts->v1.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(mounts->v1.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(mounts->v1.at("cpuset"), "/sys/fs/cgroup/cpu set");
  EXPECT_EQ(mounts->v1.count("clone_children"), 1U);  // harmless: never asked for
}

TEST(MountInfoTest, RejectsMalformedLinesWithTheirNumber) {
  auto mounts = parseMountInfo("31 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup\n");
  ASSERT_FALSE(mounts.has_value());
  EXPECT_NE(mounts.error().message().find("line 1"), std::string::npos);
  EXPECT_FALSE(parseMountInfo("1 2 3 / /x\\09 rw - cgroup cgroup rw,cpu\n").has_value());
  EXPECT_FALSE(parseMountInfo("1 2 3 / relative rw - cgroup cgroup rw,cpu\n").has_value());
}

TEST(MountInfoTest, NoCgroupMountIsNotFound) {
  auto mounts = parseMountInfo("22 1 0:21 / / rw,relatime - overlay overlay rw\n");
  ASSERT_FALSE(mounts.has_value());
  EXPECT_EQ(mounts.error().code(), ErrorCode::NotFound);
}

}  // namespace
}  // namespace topod::cgroups
