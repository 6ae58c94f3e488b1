// The API's messages from a peer are checked field by field: a bad CPU list, an unknown enum name
// or an impossible request is an error naming the field, never a crash or a silent default.
#include "api/convert.h"

#include <gtest/gtest.h>

namespace topod::api {
namespace {

v1::WhatIfRequest oneContainer() {
  v1::WhatIfRequest request;
  request.set_pod_namespace("ns");
  request.set_pod_name("p");
  v1::ContainerRequest* c = request.add_containers();
  c->set_name("main");
  c->set_cpu_request_millis(2000);
  c->set_cpu_limit_millis(2000);
  c->set_memory_request_bytes(1 << 30);
  c->set_memory_limit_bytes(1 << 30);
  return request;
}

TEST(ApiConvertTest, AWhatIfRoundTripsAndComputesItsQosWhenNotGiven) {
  auto pod = fromProto(oneContainer());
  ASSERT_TRUE(pod.has_value()) << pod.error().toString();
  EXPECT_EQ(pod->qos, QosClass::Guaranteed);
  EXPECT_EQ(pod->containers.at(0).kind, policies::ContainerKind::App);
  auto again = fromProto(toProto(*pod));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *pod);
}

struct BadWhatIf {
  std::string name;
  std::function<void(v1::WhatIfRequest&)> mangle;
  std::string expected;
};

class ApiConvertBadWhatIfTest : public ::testing::TestWithParam<BadWhatIf> {};

TEST_P(ApiConvertBadWhatIfTest, IsRefusedWithAReason) {
  v1::WhatIfRequest request = oneContainer();
  GetParam().mangle(request);
  auto pod = fromProto(request);
  ASSERT_FALSE(pod.has_value());
  EXPECT_EQ(pod.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(pod.error().message().find(GetParam().expected), std::string::npos) << pod.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ApiConvertBadWhatIfTest,
    ::testing::Values(
        BadWhatIf{"UnknownKind", [](v1::WhatIfRequest& r) { r.mutable_containers(0)->set_kind("daemon"); },
                  "unknown container kind \"daemon\""},
        BadWhatIf{"UnknownQos", [](v1::WhatIfRequest& r) { r.set_qos("Premium"); }, "unknown QoS class"},
        BadWhatIf{"NoName", [](v1::WhatIfRequest& r) { r.clear_pod_name(); }, "needs a UID or a name"},
        BadWhatIf{"NoContainers", [](v1::WhatIfRequest& r) { r.clear_containers(); }, "no containers"},
        BadWhatIf{"NegativeCpu", [](v1::WhatIfRequest& r) { r.mutable_containers(0)->set_cpu_request_millis(-1); },
                  "negative CPU"},
        BadWhatIf{"RequestAboveLimit",
                  [](v1::WhatIfRequest& r) { r.mutable_containers(0)->set_cpu_request_millis(3000); },
                  "CPU request above its limit"},
        BadWhatIf{"HugePagesNotWholePages",
                  [](v1::WhatIfRequest& r) { (*r.mutable_containers(0)->mutable_hugepages())[2 << 20] = 1; },
                  "huge pages not a multiple"},
        BadWhatIf{"HugePageSizeZero",
                  [](v1::WhatIfRequest& r) { (*r.mutable_containers(0)->mutable_hugepages())[0] = 0; },
                  "huge pages not a multiple"},
        BadWhatIf{"TooManyContainers",
                  [](v1::WhatIfRequest& r) {
                    for (int i = 0; i < 64; ++i) r.add_containers()->set_name("c" + std::to_string(i));
                  },
                  "more than the 64 allowed"},
        BadWhatIf{"LongName", [](v1::WhatIfRequest& r) { r.set_pod_name(std::string(300, 'x')); },
                  "longer than 253 bytes"}),
    [](const ::testing::TestParamInfo<BadWhatIf>& row) { return row.param.name; });

TEST(ApiConvertTest, ABadCpuListInAReplyIsAnError) {
  v1::StatusReply reply;
  reply.set_exclusive_cpus("0-");
  auto status = fromProto(reply);
  ASSERT_FALSE(status.has_value());
  EXPECT_NE(status.error().message().find("exclusive_cpus"), std::string::npos) << status.error().message();
}

TEST(ApiConvertTest, AnUnknownQosInAReplyIsAnError) {
  v1::AllocationsReply reply;
  reply.add_allocations()->set_qos("Gold");
  EXPECT_FALSE(fromProto(reply).has_value());
}

TEST(ApiConvertTest, DescribeRequestSaysWhatWasAsked) {
  policies::ContainerRequest request{.name = "a",
                                     .kind = policies::ContainerKind::App,
                                     .cpu_request_millis = 1500,
                                     .cpu_limit_millis = 2000,
                                     .memory_request_bytes = 64ULL << 20,
                                     .memory_limit_bytes = 0,
                                     .hugepages = {{2ULL << 20, 4ULL << 20}},
                                     .devices = {}};
  EXPECT_EQ(describeRequest(request), "cpu 1500m (limit 2), memory 64Mi (no limit), hugepages-2Mi 4Mi");
}

}  // namespace
}  // namespace topod::api
