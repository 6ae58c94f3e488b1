// Golden bytes: encoded ttrpc messages and mux frames compared with byte strings computed by
// hand from the protobuf wire format (the worked example in docs/nri.md, "ttrpc messages").
#include <gtest/gtest.h>

#include <string>

#include "nri/mux.h"
#include "nri/proto/nri_api.pb.h"
#include "nri/ttrpc.h"

namespace topod::nri {
namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

std::string toHex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

TEST(WireGolden, RegisterPluginRequestMatchesHandComputedBytes) {
  ::nri::pkg::api::v1alpha1::RegisterPluginRequest request;
  request.set_plugin_name("myplugin");
  request.set_plugin_idx("10");
  const std::string payload = request.SerializeAsString();
  EXPECT_EQ(toHex(payload), "0a086d79706c7567696e12023130");

  auto message = ttrpc::encodeRequest(1, {"nri.pkg.api.v1alpha1.Runtime", "RegisterPlugin", payload, 5000000000});
  ASSERT_TRUE(message.has_value());
  const std::string expected_body = "0a1c" + toHex("nri.pkg.api.v1alpha1.Runtime") + "120e" + toHex("RegisterPlugin") +
                                    "1a0e" + "0a086d79706c7567696e12023130" + "20" + "80e497d012";  // varint 5000000000
  EXPECT_EQ(expected_body.size() / 2, 68u);
  EXPECT_EQ(toHex(*message),
            "00000044"
            "00000001"
            "01"
            "00" +
                expected_body);

  std::string frames;
  mux::appendMessageFrames(frames, mux::kRuntimeServiceConn, *message);
  EXPECT_EQ(toHex(frames),
            "00000002"
            "0000004e" +
                toHex(*message));
}

TEST(WireGolden, SuccessResponseWithoutPayloadIsJustTheHeader) {
  auto message = ttrpc::encodeResponse(7, {});
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(toHex(*message),
            "00000000"
            "00000007"
            "02"
            "00");
}

TEST(WireGolden, ErrorResponseCarriesCodeAndMessage) {
  auto message = ttrpc::encodeResponse(3, {ErrorCode::Unimplemented, "method Foo", {}});
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(toHex(*message),
            "00000010"
            "00000003"
            "02"
            "00"
            "0a0e"
            "080c"
            "120a" +
                toHex("method Foo"));
}

TEST(WireGolden, ConfigureResponseMaskUsesField2) {
  ::nri::pkg::api::v1alpha1::ConfigureResponse response;
  response.set_events(0x068F);
  EXPECT_EQ(toHex(response.SerializeAsString()), "108f0d");
}

TEST(WireGolden, DecodesZeroLengthResponseAsOk) {
  auto response = ttrpc::decodeResponse("");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->code, ErrorCode::Ok);
  EXPECT_TRUE(response->payload.empty());
}

TEST(WireGolden, DecodesStatusWithCodeZeroAsOk) {
  auto response = ttrpc::decodeResponse(unhex("0a00"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->code, ErrorCode::Ok);
}

TEST(WireGolden, DecodesErrorStatus) {
  auto response = ttrpc::decodeResponse(unhex("0a0e080c120a") + "method Foo");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->code, ErrorCode::Unimplemented);
  EXPECT_EQ(response->message, "method Foo");
}

TEST(WireGolden, HeaderRoundTrips) {
  char bytes[ttrpc::kHeaderSize];
  const ttrpc::Header header{0x01020304, 0xfffffffd, 1, 0};
  ttrpc::encodeHeader(header, bytes);
  EXPECT_EQ(toHex(std::string_view(bytes, sizeof(bytes))), "01020304fffffffd0100");
  EXPECT_EQ(ttrpc::decodeHeader(bytes), header);
}

TEST(WireGolden, RefusesToEncodeOversizedMessages) {
  ttrpc::Request request{"s", "m", std::string(ttrpc::kMaxDataLength, 'x'), 0};
  auto message = ttrpc::encodeRequest(1, request);
  ASSERT_FALSE(message.has_value());
  EXPECT_EQ(message.error().code(), ErrorCode::ResourceExhausted);
}

TEST(WireGolden, GarbageEnvelopesAreErrors) {
  EXPECT_FALSE(ttrpc::decodeRequest(unhex("0aff")).has_value());
  EXPECT_FALSE(ttrpc::decodeResponse(unhex("ffffffff")).has_value());
}

}  // namespace
}  // namespace topod::nri
