// Fuzzes the local API's message checks (api/convert.h), both directions of the socket: the
// first byte picks the message, the rest is its protobuf encoding. A what-if request the server
// accepts is valid and round-trips; a reply the client accepts round-trips too.
#include <cstddef>
#include <cstdint>

#include "api/convert.h"
#include "common/check.h"

namespace {

template <typename Message>
void replyRoundTrip(const uint8_t* data, size_t size) {
  Message message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return;
  auto parsed = topod::api::fromProto(message);
  if (!parsed.has_value()) {
    TOPOD_CHECK(!parsed.error().message().empty());
    return;
  }
  auto again = topod::api::fromProto(topod::api::toProto(*parsed));
  TOPOD_CHECK(again.has_value());
  TOPOD_CHECK(*again == *parsed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t* body = data + 1;
  const size_t body_size = size - 1;
  switch (data[0] % 4) {
    case 0: {
      topod::api::v1::WhatIfRequest request;
      if (!request.ParseFromArray(body, static_cast<int>(body_size))) return 0;
      auto pod = topod::api::fromProto(request);
      if (!pod.has_value()) {
        TOPOD_CHECK(!pod.error().message().empty());
        return 0;
      }
      TOPOD_CHECK(topod::api::validateWhatIf(*pod).has_value());
      auto again = topod::api::fromProto(topod::api::toProto(*pod));
      TOPOD_CHECK(again.has_value());
      TOPOD_CHECK(*again == *pod);
      (void)topod::api::describeRequest(pod->containers.front());
      break;
    }
    case 1: replyRoundTrip<topod::api::v1::StatusReply>(body, body_size); break;
    case 2: replyRoundTrip<topod::api::v1::AllocationsReply>(body, body_size); break;
    default: replyRoundTrip<topod::api::v1::ExplainReply>(body, body_size); break;
  }
  return 0;
}
