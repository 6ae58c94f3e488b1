// Controller files under both layouts, on directory trees laid out like the kernel's (which also
// exercises openCgroupFs's layout detection for `cgroup_root` overrides).
#include "cgroups/container_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cgroups/cgroup_fs_impl.h"

namespace topod::cgroups {
namespace {

namespace fs = std::filesystem;

class TreeTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "topod-cg-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }
  void touch(const std::string& relative, const std::string& content = "") {
    fs::create_directories(fs::path(root_ + relative).parent_path());
    std::ofstream(root_ + relative) << content;
  }
  std::string slurp(const std::string& relative) {
    std::ifstream in(root_ + relative);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::string root_;
};

TEST_F(TreeTest, V2TreeUsesUnifiedFileNames) {
  touch("/cgroup.controllers", "cpuset cpu memory\n");
  const std::string cg = "/kubepods/pod1/c1";
  for (const char* file : {"cpuset.cpus", "cpuset.mems", "cpu.max", "cpu.weight", "memory.max"}) {
    touch(cg + "/" + file);
  }
  auto opened = openCgroupFs(root_);
  ASSERT_TRUE(opened.has_value()) << opened.error().toString();
  CgroupFs& cgfs = **opened;
  EXPECT_EQ(cgfs.version(), CgroupVersion::V2);

  ASSERT_TRUE(writeCpus(cgfs, cg, CpuSet{1, 2, 3, 8}).has_value());
  ASSERT_TRUE(writeMems(cgfs, cg, NodeSet{0}).has_value());
  EXPECT_EQ(slurp(cg + "/cpuset.cpus"), "1-3,8");
  EXPECT_EQ(readCpus(cgfs, cg).value(), (CpuSet{1, 2, 3, 8}));
  EXPECT_EQ(readMems(cgfs, cg).value(), (NodeSet{0}));

  ASSERT_TRUE(writeCpuQuota(cgfs, cg, {.quota_us = 50000, .period_us = 100000}).has_value());
  EXPECT_EQ(slurp(cg + "/cpu.max"), "50000 100000");
  EXPECT_EQ(readCpuQuota(cgfs, cg).value(), (CpuQuota{50000, 100000}));
  ASSERT_TRUE(writeCpuQuota(cgfs, cg, {.quota_us = -1, .period_us = 100000}).has_value());
  EXPECT_EQ(slurp(cg + "/cpu.max"), "max 100000");
  EXPECT_EQ(readCpuQuota(cgfs, cg).value().quota_us, -1);

  ASSERT_TRUE(writeCpuShares(cgfs, cg, 1024).has_value());
  EXPECT_EQ(slurp(cg + "/cpu.weight"), "39");
  ASSERT_TRUE(writeMemoryLimit(cgfs, cg, -1).has_value());
  EXPECT_EQ(slurp(cg + "/memory.max"), "max");
}

TEST_F(TreeTest, V1TreeUsesPerControllerHierarchies) {
  const std::string cg = "/kubepods/burstable/pod1/c1";
  touch("/cpuset" + cg + "/cpuset.cpus");
  touch("/cpuset" + cg + "/cpuset.mems");
  touch("/cpu,cpuacct" + cg + "/cpu.cfs_quota_us");
  touch("/cpu,cpuacct" + cg + "/cpu.cfs_period_us");
  touch("/cpu,cpuacct" + cg + "/cpu.shares");
  touch("/memory" + cg + "/memory.limit_in_bytes");
  auto opened = openCgroupFs(root_);
  ASSERT_TRUE(opened.has_value()) << opened.error().toString();
  CgroupFs& cgfs = **opened;
  EXPECT_EQ(cgfs.version(), CgroupVersion::V1);

  ASSERT_TRUE(writeCpus(cgfs, cg, CpuSet{0, 1}).has_value());
  EXPECT_EQ(slurp("/cpuset" + cg + "/cpuset.cpus"), "0-1");
  ASSERT_TRUE(writeCpuQuota(cgfs, cg, {.quota_us = 150000, .period_us = 100000}).has_value());
  EXPECT_EQ(slurp("/cpu,cpuacct" + cg + "/cpu.cfs_quota_us"), "150000");
  EXPECT_EQ(slurp("/cpu,cpuacct" + cg + "/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(readCpuQuota(cgfs, cg).value(), (CpuQuota{150000, 100000}));
  ASSERT_TRUE(writeCpuShares(cgfs, cg, 512).has_value());
  EXPECT_EQ(slurp("/cpu,cpuacct" + cg + "/cpu.shares"), "512");
  ASSERT_TRUE(writeMemoryLimit(cgfs, cg, 1 << 20).has_value());
  EXPECT_EQ(slurp("/memory" + cg + "/memory.limit_in_bytes"), "1048576");
}

TEST_F(TreeTest, MissingCgroupIsNotFoundAndNothingIsCreated) {
  touch("/cgroup.controllers");
  auto opened = openCgroupFs(root_);
  ASSERT_TRUE(opened.has_value());
  Status status = writeCpus(**opened, "/gone", CpuSet{0});
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::NotFound);
  EXPECT_FALSE(fs::exists(root_ + "/gone"));
  EXPECT_EQ(readCpus(**opened, "/gone").error().code(), ErrorCode::NotFound);
}

TEST_F(TreeTest, GarbageInAFileIsAnErrorNamingIt) {
  touch("/cgroup.controllers");
  touch("/c/cpuset.cpus", "zero\n");
  touch("/c/cpu.max", "lots 100000\n");
  auto opened = openCgroupFs(root_);
  ASSERT_TRUE(opened.has_value());
  auto cpus = readCpus(**opened, "/c");
  ASSERT_FALSE(cpus.has_value());
  EXPECT_NE(cpus.error().message().find("/c/cpuset.cpus"), std::string::npos);
  EXPECT_FALSE(readCpuQuota(**opened, "/c").has_value());
}

TEST_F(TreeTest, UnrecognisedRootIsRefused) {
  EXPECT_FALSE(openCgroupFs(root_).has_value());
  EXPECT_FALSE(openCgroupFs(root_ + "/missing").has_value());
}

TEST(CpuWeightTest, ConvertsLikeRunc) {
  EXPECT_EQ(cpuSharesToWeight(2), 1U);
  EXPECT_EQ(cpuSharesToWeight(0), 1U);
  EXPECT_EQ(cpuSharesToWeight(1024), 39U);
  EXPECT_EQ(cpuSharesToWeight(262144), 10000U);
  EXPECT_EQ(cpuSharesToWeight(1000000), 10000U);
}

TEST(CpuMaxTest, Parses) {
  EXPECT_EQ(parseCpuMax("max 100000\n").value(), (CpuQuota{-1, 100000}));
  EXPECT_EQ(parseCpuMax("20000 50000").value(), (CpuQuota{20000, 50000}));
  EXPECT_EQ(parseCpuMax("max").value(), (CpuQuota{-1, 100000}));
  EXPECT_FALSE(parseCpuMax("").has_value());
  EXPECT_FALSE(parseCpuMax("1 x").has_value());
}

// Found by the cpu_max fuzzer: a quota the writer would write back as "max", or a zero period,
// was read as a quota.
TEST(CpuMaxTest, RefusesWhatTheKernelNeverShows) {
  EXPECT_FALSE(parseCpuMax("-5 100000").has_value());
  EXPECT_FALSE(parseCpuMax("0 100000").has_value());
  EXPECT_FALSE(parseCpuMax("max 0").has_value());
  EXPECT_EQ(formatCpuMax(parseCpuMax("50000 100000").value()), "50000 100000");
  EXPECT_EQ(formatCpuMax(parseCpuMax("max").value()), "max 100000");
}

}  // namespace
}  // namespace topod::cgroups
