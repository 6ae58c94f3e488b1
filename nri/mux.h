// The NRI socket multiplexer (docs/nri.md, "Mux framing"): frames of an 8-byte header (conn id, length, both
// big-endian) carrying the byte streams of two logical connections over one unix socket:
//   conn 1 (PluginServiceConn): the runtime calls the plugin (topod is the ttrpc server);
//   conn 2 (RuntimeServiceConn): the plugin calls the runtime (topod is the ttrpc client).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "nri/ttrpc.h"

namespace topod::nri::mux {

constexpr uint32_t kPluginServiceConn = 1;
constexpr uint32_t kRuntimeServiceConn = 2;
constexpr size_t kFrameHeaderSize = 8;
// The Go reader hands each frame to a 4096-byte bufio.Reader; a first frame larger than that
// while it reads a ttrpc header kills the connection (docs/nri.md, "Mux framing"). So a message's first frame carries
// at most this many bytes.
constexpr size_t kFirstFrameMax = 4096;
// Largest frame we accept. The Go sender never exceeds one ttrpc message (10 + 4 MiB) per
// frame; NRI < 0.7 writes up to 16 MiB. Anything larger is a corrupt stream.
constexpr uint32_t kMaxFrameLength = 16u << 20;

// Appends the frames for one whole ttrpc message (header included) to `out`, following the
// Go sender's rule: first frame min(size, 4096) bytes, the rest (if any) in one more frame.
// Never emits zero-length frames (an empty message emits nothing).
void appendMessageFrames(std::string& out, uint32_t conn, std::string_view message);

// A reassembled ttrpc message and the logical connection it arrived on.
struct ConnMessage {
  uint32_t conn = 0;
  ttrpc::Message message;
};

// Splits the socket's byte stream into frames and reassembles each logical connection's ttrpc
// messages, independently of frame boundaries. Frames for connection ids other than 1 and 2 are
// dropped, as the Go mux drops frames for connections it has not opened.
class Demux {
 public:
  // Errors (the stream is corrupt and must be closed): a frame length above kMaxFrameLength.
  // The bytes before the corrupt header are still reassembled: every message they complete
  // stays available through next(), so a caller can answer what arrived intact before it drops
  // the connection. The error is sticky; later calls return it again and consume nothing.
  Status feed(std::string_view bytes);
  // The next complete message of either connection (conn 1 first), or nullopt.
  std::optional<ConnMessage> next();
  // Set once feed() found the stream corrupt.
  const std::optional<Error>& broken() const { return broken_; }
  // True while a frame or a message is partially received (EOF now = truncated stream).
  bool midMessage() const;
  uint64_t droppedFrames() const { return dropped_frames_; }

 private:
  std::string header_;       // partial frame header
  uint32_t frame_conn_ = 0;  // current frame's connection
  uint64_t frame_left_ = 0;  // payload bytes of the current frame still to come
  ttrpc::MessageReader plugin_service_;
  ttrpc::MessageReader runtime_service_;
  uint64_t dropped_frames_ = 0;
  std::optional<Error> broken_;
};

}  // namespace topod::nri::mux
