#include "nri/event_mask.h"

#include <gtest/gtest.h>

#include "nri/plugin.h"

namespace topod::nri {
namespace {

struct MaskCase {
  const char* name;
  const char* runtime;
  const char* version;
  const char* nri_version;
  EventMask valid;
};

class ValidEventsTest : public ::testing::TestWithParam<MaskCase> {};

TEST_P(ValidEventsTest, FollowsVendoredNriVersion) {
  const MaskCase& c = GetParam();
  EXPECT_EQ(validEventsFor(c.runtime, c.version, c.nri_version), c.valid);
}

INSTANTIATE_TEST_SUITE_P(Personalities, ValidEventsTest,
                         ::testing::Values(MaskCase{"containerd_1_7_0", "containerd", "v1.7.0", "", 0x07FF},
                                           MaskCase{"containerd_1_7_24", "containerd", "v1.7.24", "", 0x07FF},
                                           MaskCase{"containerd_1_7_distro", "containerd", "1.7.24~ds1", "", 0x07FF},
                                           MaskCase{"containerd_2_1", "containerd", "v2.1.4", "", 0x07FF},
                                           MaskCase{"containerd_2_2", "containerd", "v2.2.0", "", 0x3FFF},
                                           MaskCase{"containerd_2_3_with_nri_version", "containerd", "v2.3.1",
                                                    "v0.12.0", 0x3FFF},
                                           MaskCase{"crio_1_32", "cri-o", "1.32.4", "", 0x07FF},
                                           MaskCase{"crio_1_33", "cri-o", "1.33.2", "", 0x1FFF},
                                           MaskCase{"crio_1_34", "cri-o", "1.34.0", "", 0x3FFF},
                                           MaskCase{"unknown_runtime", "podman", "5.0.0", "", 0x07FF},
                                           MaskCase{"garbage_version", "containerd", "main", "", 0x07FF},
                                           MaskCase{"nri_version_old", "cri-o", "9.9.9", "v0.9.0", 0x07FF}),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(ChooseEventMask, IntersectsAndNeverReturnsZero) {
  EXPECT_EQ(*chooseEventMask(kTopodEvents, kValidEventsV02), kTopodEvents & 0x07FF);
  EXPECT_EQ(*chooseEventMask(kTopodEvents, kValidEventsV010), kTopodEvents);
  EXPECT_EQ(kTopodEvents & 0x07FF, 0x06AFu);
  auto none = chooseEventMask(eventBit(Event::UpdatePodSandbox), kValidEventsV02);
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message().find("0x0800"), std::string::npos) << none.error().toString();
}

}  // namespace
}  // namespace topod::nri
