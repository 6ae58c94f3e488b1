// ttrpc::ServerRules: what the plugin does with each request message before it dispatches it,
// as Go ttrpc's server does it.
#include <gtest/gtest.h>

#include <string>

#include "nri/ttrpc.h"

namespace topod::nri::ttrpc {
namespace {

Message request(uint32_t stream, const std::string& method = "RunPodSandbox") {
  auto encoded = encodeRequest(stream, {"nri.pkg.api.v1alpha1.Plugin", method, "", 0});
  EXPECT_TRUE(encoded.has_value());
  return {decodeHeader(encoded->data()), encoded->substr(kHeaderSize), false};
}

TEST(ServerRules, DispatchesOddIncreasingRequests) {
  ServerRules rules;
  for (uint32_t stream : {1u, 3u, 9u}) {
    auto verdict = rules.check(request(stream));
    ASSERT_TRUE(verdict.has_value());
    ASSERT_TRUE(verdict->request.has_value()) << stream;
    EXPECT_EQ(verdict->request->method, "RunPodSandbox");
  }
}

TEST(ServerRules, RefusesBadStreamIdsWithoutForgettingTheLastGoodOne) {
  ServerRules rules;
  ASSERT_TRUE(rules.check(request(5))->request.has_value());
  for (uint32_t stream : {4u, 5u, 3u}) {
    auto verdict = rules.check(request(stream));
    ASSERT_TRUE(verdict.has_value());
    EXPECT_FALSE(verdict->request.has_value()) << stream;
    EXPECT_EQ(verdict->refusal.code, ErrorCode::InvalidArgument) << stream;
  }
  EXPECT_TRUE(rules.check(request(7))->request.has_value());
}

TEST(ServerRules, OversizedAndUndecodableRequestsAreRefused) {
  ServerRules rules;
  auto oversized = rules.check({{kMaxDataLength + 1, 1, 1, 0}, {}, true});
  ASSERT_TRUE(oversized.has_value());
  EXPECT_EQ(oversized->refusal.code, ErrorCode::ResourceExhausted);
  auto garbage = rules.check({{4, 3, 1, 0}, std::string(4, '\xff'), false});
  ASSERT_TRUE(garbage.has_value());
  EXPECT_EQ(garbage->refusal.code, ErrorCode::InvalidArgument);
}

TEST(ServerRules, AnythingButARequestBreaksTheStream) {
  ServerRules rules;
  for (uint8_t type : {uint8_t{2}, uint8_t{3}, uint8_t{0}, uint8_t{0x7f}}) {
    auto verdict = rules.check({{0, 1, type, 0}, {}, false});
    ASSERT_FALSE(verdict.has_value()) << int{type};
    EXPECT_EQ(verdict.error().code(), ErrorCode::DataLoss);
  }
}

}  // namespace
}  // namespace topod::nri::ttrpc
