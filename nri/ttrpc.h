// ttrpc framing and envelopes (docs/nri.md, "ttrpc messages"): the 10-byte message header, ttrpc.Request /
// ttrpc.Response with google.rpc.Status, and incremental reassembly of one logical connection's
// byte stream into messages. NRI uses unary calls only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/result.h"

namespace topod::nri::ttrpc {

constexpr size_t kHeaderSize = 10;
// Largest data length a ttrpc peer accepts (4 MiB, ttrpc's messageLengthMax).
constexpr uint32_t kMaxDataLength = 4u << 20;

enum class MessageType : uint8_t { Request = 1, Response = 2, Data = 3 };

struct Header {
  uint32_t length = 0;  // data bytes after the header
  uint32_t stream_id = 0;
  uint8_t type = 0;  // MessageType, kept raw so that invalid values can be reported
  uint8_t flags = 0;

  friend bool operator==(const Header&, const Header&) = default;
};

void encodeHeader(const Header& header, char* out);  // writes kHeaderSize bytes
Header decodeHeader(const char* in);                 // reads kHeaderSize bytes

struct Request {
  std::string service;  // "nri.pkg.api.v1alpha1.Plugin"
  std::string method;   // "Configure"
  std::string payload;  // serialized NRI request message
  int64_t timeout_nano = 0;
};

struct Response {
  ErrorCode code = ErrorCode::Ok;
  std::string message;  // status message, only with an error code
  std::string payload;  // serialized NRI response message (empty on error)
};

// Whole messages (header + data). Errors: the data would exceed kMaxDataLength
// (ResourceExhausted, like Go ttrpc >= 1.2.6), which no peer would accept.
Result<std::string> encodeRequest(uint32_t stream_id, const Request& request);
// Success without payload encodes as zero data bytes, as the Go server sends it.
Result<std::string> encodeResponse(uint32_t stream_id, const Response& response);

Result<Request> decodeRequest(std::string_view data);
// Accepts zero-length data (success, empty payload). An absent status means OK.
Result<Response> decodeResponse(std::string_view data);

// One reassembled message. `oversized` messages had a length above kMaxDataLength: their data
// was discarded (not buffered) and `data` is empty; a server answers them RESOURCE_EXHAUSTED.
struct Message {
  Header header;
  std::string data;
  bool oversized = false;
};

// Reassembles messages from the bytes of one logical connection, whatever the frame boundaries.
// Memory is bounded: at most one message of kMaxDataLength is buffered.
class MessageReader {
 public:
  void feed(std::string_view bytes);
  // The next complete message, or nullopt when more bytes are needed.
  std::optional<Message> next();
  // True while part of a message has been received (a stream that ends now was truncated).
  bool midMessage() const { return buffer_.size() > offset_ || discard_ > 0; }

 private:
  std::string buffer_;
  size_t offset_ = 0;
  uint64_t discard_ = 0;  // bytes of an oversized message still to skip
};

// The server's rules for requests on one logical connection, as Go ttrpc's server applies
// them: only Request messages (anything else means the peer does not speak the protocol), odd
// and strictly increasing stream ids, data within kMaxDataLength, a decodable envelope.
class ServerRules {
 public:
  // What to do with one incoming message: dispatch `request`, or send `refusal` (an error
  // answer on the message's stream; the connection stays up).
  struct Verdict {
    std::optional<Request> request;
    Response refusal;
  };
  // Errors (the stream must be closed): a message that is not a Request.
  Result<Verdict> check(const Message& message);

 private:
  uint32_t last_stream_ = 0;
};

}  // namespace topod::nri::ttrpc
