#include "cgroups/cgroup_path.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace topod::cgroups {
namespace {

struct PathRow {
  std::string name;
  std::string input;
  std::string expected;  // empty = rejected
};
void PrintTo(const PathRow& row, std::ostream* os) {
  *os << row.name;
}

class CgroupPathTest : public testing::TestWithParam<PathRow> {};

TEST_P(CgroupPathTest, Resolves) {
  auto path = cgroupPathOf(GetParam().input);
  if (GetParam().expected.empty()) {
    ASSERT_FALSE(path.has_value()) << *path;
    EXPECT_NE(path.error().message().find("cgroups path"), std::string::npos);
  } else {
    ASSERT_TRUE(path.has_value()) << path.error().toString();
    EXPECT_EQ(*path, GetParam().expected);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rows, CgroupPathTest,
    testing::Values(
        PathRow{"CgroupfsGuaranteed", "/kubepods/pod1/abc", "/kubepods/pod1/abc"},
        PathRow{"CgroupfsBurstable", "/kubepods/burstable/pod1/abc", "/kubepods/burstable/pod1/abc"},
        PathRow{"CgroupfsRelative", "kubepods/pod1/abc", "/kubepods/pod1/abc"},
        PathRow{"CgroupfsDoubleSlashes", "//kubepods//pod1/./abc/", "/kubepods/pod1/abc"},
        PathRow{"CrioCgroupfs", "/kubepods/besteffort/pod2/crio-abc", "/kubepods/besteffort/pod2/crio-abc"},
        PathRow{"SystemdContainerd", "kubepods-burstable-pod1_2.slice:cri-containerd:abc",
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice/cri-containerd-abc.scope"},
        PathRow{"SystemdGuaranteed", "kubepods-pod9.slice:crio:abc",
                "/kubepods.slice/kubepods-pod9.slice/crio-abc.scope"},
        PathRow{"SystemdRootSlice", "-.slice:p:n", "/p-n.scope"},
        PathRow{"SystemdEmptySlice", ":p:n", "/system.slice/p-n.scope"},
        PathRow{"SystemdNameIsSlice", "kubepods.slice::sub.slice", "/kubepods.slice/sub.slice"},
        PathRow{"SystemdNoPrefix", "kubepods.slice::abc", "/kubepods.slice/abc.scope"}, PathRow{"Empty", "", ""},
        PathRow{"DotDot", "/kubepods/../etc", ""}, PathRow{"SystemdTwoParts", "kubepods.slice:abc", ""},
        PathRow{"SystemdFourParts", "a.slice:b:c:d", ""}, PathRow{"SystemdNotASlice", "kubepods:p:n", ""},
        PathRow{"SystemdEmptySliceComponent", "kubepods--x.slice:p:n", ""},
        PathRow{"SystemdEmptyName", "kubepods.slice:p:", ""},
        PathRow{"SystemdSlashInName", "kubepods.slice:p:a/b", ""}),
    [](const testing::TestParamInfo<PathRow>& row) { return row.param.name; });

TEST(PodCgroupPathTest, CgroupfsParentIsAPath) {
  EXPECT_EQ(podCgroupPathOf("/kubepods/burstable/pod1").value(), "/kubepods/burstable/pod1");
  EXPECT_EQ(podCgroupPathOf("kubepods/pod1").value(), "/kubepods/pod1");
}

TEST(PodCgroupPathTest, SystemdParentIsASliceExpandedThroughItsParents) {
  EXPECT_EQ(podCgroupPathOf("kubepods-burstable-pod1_2.slice").value(),
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice");
  EXPECT_EQ(podCgroupPathOf("kubepods-pod1.slice").value(), "/kubepods.slice/kubepods-pod1.slice");
}

TEST(PodCgroupPathTest, RejectsBadParents) {
  EXPECT_FALSE(podCgroupPathOf("").has_value());
  EXPECT_FALSE(podCgroupPathOf("kubepods--pod1.slice").has_value());
  EXPECT_FALSE(podCgroupPathOf("/kubepods/../etc").has_value());
  EXPECT_FALSE(podCgroupPathOf("-.slice").has_value()) << "the root is no pod cgroup";
  EXPECT_FALSE(podCgroupPathOf("/").has_value());
}

}  // namespace
}  // namespace topod::cgroups
