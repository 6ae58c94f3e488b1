// Root-only: the real kernel's cgroup hierarchies of this machine, through openCgroupFs's
// default root (mountinfo). Creates a private cgroup, writes and reads back, removes it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "cgroups/cgroup_fs_impl.h"
#include "cgroups/container_files.h"

namespace topod::cgroups {
namespace {

namespace fs = std::filesystem;

TEST(RealCgroupTest, CpusetAndQuotaRoundTrip) {
  auto opened = openCgroupFs("/sys/fs/cgroup");
  ASSERT_TRUE(opened.has_value()) << opened.error().toString();
  CgroupFsImpl& cgfs = **opened;
  const std::string cg = "/topod-test-" + std::to_string(::getpid());

  // Directories are the one thing CgroupFs never creates; the test makes its own.
  auto cpuset_dir = fs::path(cgfs.filePath("cpuset", cg, "x").value()).parent_path();
  auto cpu_dir = fs::path(cgfs.filePath("cpu", cg, "x").value()).parent_path();
  ASSERT_TRUE(fs::create_directory(cpuset_dir)) << cpuset_dir;
  bool separate_cpu = cpu_dir != cpuset_dir;
  if (separate_cpu) {
    ASSERT_TRUE(fs::create_directory(cpu_dir)) << cpu_dir;
  }

  // The root cgroup of v2 has only cpuset.cpus.effective, and a child gets the cpuset and cpu
  // controllers only once the root's cgroup.subtree_control enables them (systemd enables only
  // what its units use).
  const bool v2 = cgfs.version() == CgroupVersion::V2;
  if (v2) {
    ASSERT_TRUE(cgfs.writeFile("cpuset", "/", "cgroup.subtree_control", "+cpuset +cpu").has_value());
  }
  auto root_cpus = cgfs.readFile("cpuset", "/", v2 ? "cpuset.cpus.effective" : "cpuset.cpus");
  ASSERT_TRUE(root_cpus.has_value()) << root_cpus.error().toString();
  std::string list = *root_cpus;
  while (!list.empty() && list.back() == '\n') list.pop_back();
  auto parent_cpus = CpuSet::parse(list);
  ASSERT_TRUE(parent_cpus.has_value()) << parent_cpus.error().toString();
  CpuSet one{parent_cpus->first()};
  EXPECT_TRUE(writeCpus(cgfs, cg, one).has_value());
  EXPECT_TRUE(writeMems(cgfs, cg, NodeSet{0}).has_value());
  EXPECT_EQ(readCpus(cgfs, cg).value(), one);
  EXPECT_EQ(readMems(cgfs, cg).value(), (NodeSet{0}));
  EXPECT_TRUE(writeCpuQuota(cgfs, cg, {.quota_us = 50000, .period_us = 100000}).has_value());
  EXPECT_EQ(readCpuQuota(cgfs, cg).value(), (CpuQuota{50000, 100000}));
  EXPECT_TRUE(writeCpuShares(cgfs, cg, 512).has_value());

  // The kernel refuses CPUs outside the parent's set; the error carries errno.
  Status bad = writeCpus(cgfs, cg, CpuSet{CpuSet::kMaxId});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().sysErrno(), 0);

  if (separate_cpu) {
    EXPECT_TRUE(fs::remove(cpu_dir));
  }
  EXPECT_TRUE(fs::remove(cpuset_dir));
}

}  // namespace
}  // namespace topod::cgroups
