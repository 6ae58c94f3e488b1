#include "nri/ttrpc.h"

#include <algorithm>

#include "nri/proto/ttrpc.pb.h"

namespace topod::nri::ttrpc {
namespace {

void putBe32(char* out, uint32_t value) {
  out[0] = static_cast<char>(value >> 24);
  out[1] = static_cast<char>(value >> 16);
  out[2] = static_cast<char>(value >> 8);
  out[3] = static_cast<char>(value);
}

uint32_t getBe32(const char* in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

Result<std::string> frameMessage(uint32_t stream_id, MessageType type, const google::protobuf::MessageLite& body) {
  const size_t size = body.ByteSizeLong();
  if (size > kMaxDataLength) {
    return Error::resourceExhausted("ttrpc message of " + std::to_string(size) + " bytes exceeds the maximum of " +
                                    std::to_string(kMaxDataLength));
  }
  std::string out(kHeaderSize + size, '\0');
  encodeHeader({static_cast<uint32_t>(size), stream_id, static_cast<uint8_t>(type), 0}, out.data());
  if (size > 0 && !body.SerializeToArray(out.data() + kHeaderSize, static_cast<int>(size))) {
    return Error::internal("serializing a ttrpc envelope failed");
  }
  return out;
}

}  // namespace

void encodeHeader(const Header& header, char* out) {
  putBe32(out, header.length);
  putBe32(out + 4, header.stream_id);
  out[8] = static_cast<char>(header.type);
  out[9] = static_cast<char>(header.flags);
}

Header decodeHeader(const char* in) {
  return {getBe32(in), getBe32(in + 4), static_cast<uint8_t>(in[8]), static_cast<uint8_t>(in[9])};
}

Result<std::string> encodeRequest(uint32_t stream_id, const Request& request) {
  ::ttrpc::Request pb;
  pb.set_service(request.service);
  pb.set_method(request.method);
  pb.set_payload(request.payload);
  pb.set_timeout_nano(request.timeout_nano);
  return frameMessage(stream_id, MessageType::Request, pb);
}

Result<std::string> encodeResponse(uint32_t stream_id, const Response& response) {
  ::ttrpc::Response pb;
  if (response.code != ErrorCode::Ok) {
    pb.mutable_status()->set_code(static_cast<int32_t>(response.code));
    pb.mutable_status()->set_message(response.message);
  }
  pb.set_payload(response.payload);
  return frameMessage(stream_id, MessageType::Response, pb);
}

Result<Request> decodeRequest(std::string_view data) {
  ::ttrpc::Request pb;
  if (!pb.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return Error::invalidArgument("ttrpc request of " + std::to_string(data.size()) +
                                  " bytes is not a valid ttrpc.Request protobuf");
  }
  Request out;
  out.service = std::move(*pb.mutable_service());
  out.method = std::move(*pb.mutable_method());
  out.payload = std::move(*pb.mutable_payload());
  out.timeout_nano = pb.timeout_nano();
  return out;
}

Result<Response> decodeResponse(std::string_view data) {
  ::ttrpc::Response pb;
  if (!pb.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return Error::invalidArgument("ttrpc response of " + std::to_string(data.size()) +
                                  " bytes is not a valid ttrpc.Response protobuf");
  }
  Response out;
  if (pb.has_status()) {
    const int32_t code = pb.status().code();
    // Codes outside the canonical range are still errors; keep them distinguishable as Unknown.
    out.code = (code >= 0 && code <= static_cast<int32_t>(ErrorCode::Unauthenticated)) ? static_cast<ErrorCode>(code)
                                                                                       : ErrorCode::Unknown;
    out.message = pb.status().message();
  }
  out.payload = std::move(*pb.mutable_payload());
  return out;
}

void MessageReader::feed(std::string_view bytes) {
  if (discard_ > 0) {
    const size_t skip = static_cast<size_t>(std::min<uint64_t>(discard_, bytes.size()));
    discard_ -= skip;
    bytes.remove_prefix(skip);
  }
  if (bytes.empty()) return;
  // Compact before growing so the buffer holds at most one partial message plus new bytes.
  if (offset_ > 0) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<Message> MessageReader::next() {
  if (discard_ > 0) return std::nullopt;
  if (buffer_.size() - offset_ < kHeaderSize) return std::nullopt;
  const Header header = decodeHeader(buffer_.data() + offset_);
  if (header.length > kMaxDataLength) {
    // Skip the data without buffering it; whatever of it is already here goes first.
    offset_ += kHeaderSize;
    const size_t have = std::min<size_t>(buffer_.size() - offset_, header.length);
    offset_ += have;
    discard_ = header.length - have;
    if (discard_ > 0) {
      buffer_.clear();
      offset_ = 0;
    }
    return Message{header, {}, true};
  }
  if (buffer_.size() - offset_ < kHeaderSize + header.length) return std::nullopt;
  Message message{header, buffer_.substr(offset_ + kHeaderSize, header.length), false};
  offset_ += kHeaderSize + header.length;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  return message;
}

Result<ServerRules::Verdict> ServerRules::check(const Message& message) {
  const Header& header = message.header;
  if (header.type != static_cast<uint8_t>(MessageType::Request)) {
    return Error::dataLoss("ttrpc message type " + std::to_string(header.type) +
                           " on the plugin service connection; only unary requests are valid");
  }
  if (message.oversized) {
    return Verdict{std::nullopt,
                   {ErrorCode::ResourceExhausted,
                    "message length " + std::to_string(header.length) + " exceeds maximum message size " +
                        std::to_string(kMaxDataLength),
                    {}}};
  }
  if (header.stream_id % 2 == 0 || header.stream_id <= last_stream_) {
    return Verdict{std::nullopt,
                   {ErrorCode::InvalidArgument,
                    "StreamID " + std::to_string(header.stream_id) + " must be odd and greater than the previous one",
                    {}}};
  }
  last_stream_ = header.stream_id;
  auto request = decodeRequest(message.data);
  if (!request.has_value()) {
    return Verdict{std::nullopt, {ErrorCode::InvalidArgument, request.error().message(), {}}};
  }
  return Verdict{std::move(*request), {}};
}

}  // namespace topod::nri::ttrpc
