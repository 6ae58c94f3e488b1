#include "topology/sysfs_cpus.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace topod::topology {
namespace {

// A fake sysfs tree in a fresh temporary directory.
class FakeSysfs {
 public:
  // mkdtemp, not a counter: CTest runs each test case as its own process, in parallel, and every
  // process would otherwise start counting at the same name.
  FakeSysfs() {
    std::string pattern = std::string(::testing::TempDir()) + "sysfs-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << pattern << " failed";
    root_ = pattern;
    std::filesystem::create_directories(root_ / "sys/devices/system/cpu");
  }
  ~FakeSysfs() { std::filesystem::remove_all(root_); }
  void write(const std::string& name, const std::string& content) {
    std::ofstream(root_ / "sys/devices/system/cpu" / name) << content;
  }
  std::string root() const { return root_.string(); }

 private:
  std::filesystem::path root_;
};

TEST(SysfsCpuStateTest, ReadsTheCommittedFixture) {
  auto state =
      readSysfsCpuState(std::string(TOPOD_FIXTURES_DIR) + "/topology/sysfs/intel-2s-2x8c-smt2-isolated-offline");
  ASSERT_TRUE(state.has_value()) << state.error().toString();
  EXPECT_EQ(state->isolated, (CpuSet{2, 3, 18, 19}));
  EXPECT_EQ(state->offline, (CpuSet{30, 31}));
}

TEST(SysfsCpuStateTest, OfflineExcludesCpusThatAreNotPresent) {
  FakeSysfs fs;
  fs.write("present", "0-3\n");
  fs.write("offline", "2,4-255\n");
  auto state = readSysfsCpuState(fs.root());
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->offline, CpuSet{2});
  EXPECT_TRUE(state->isolated.empty());
}

TEST(SysfsCpuStateTest, MissingFilesMeanEmptySets) {
  FakeSysfs fs;
  auto state = readSysfsCpuState(fs.root());
  ASSERT_TRUE(state.has_value());
  EXPECT_TRUE(state->offline.empty());
  EXPECT_TRUE(state->isolated.empty());
}

TEST(SysfsCpuStateTest, MalformedListNamesTheFile) {
  FakeSysfs fs;
  fs.write("isolated", "3-1\n");
  auto state = readSysfsCpuState(fs.root());
  ASSERT_FALSE(state.has_value());
  EXPECT_THAT(state.error().message(), ::testing::HasSubstr("sys/devices/system/cpu/isolated"));
}

TEST(SysfsCpuStateTest, MissingTreeIsAnError) {
  auto state = readSysfsCpuState("/nonexistent-root");
  ASSERT_FALSE(state.has_value());
  EXPECT_EQ(state.error().code(), ErrorCode::NotFound);
}

}  // namespace
}  // namespace topod::topology
