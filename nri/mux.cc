#include "nri/mux.h"

#include <algorithm>

namespace topod::nri::mux {
namespace {

void putBe32(std::string& out, uint32_t value) {
  out.push_back(static_cast<char>(value >> 24));
  out.push_back(static_cast<char>(value >> 16));
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value));
}

uint32_t getBe32(const char* in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void appendFrame(std::string& out, uint32_t conn, std::string_view payload) {
  putBe32(out, conn);
  putBe32(out, static_cast<uint32_t>(payload.size()));
  out.append(payload);
}

}  // namespace

void appendMessageFrames(std::string& out, uint32_t conn, std::string_view message) {
  if (message.empty()) return;
  const size_t first = std::min(message.size(), kFirstFrameMax);
  out.reserve(out.size() + message.size() + 2 * kFrameHeaderSize);
  appendFrame(out, conn, message.substr(0, first));
  if (first < message.size()) appendFrame(out, conn, message.substr(first));
}

Status Demux::feed(std::string_view bytes) {
  if (broken_) return *broken_;
  while (!bytes.empty()) {
    if (frame_left_ == 0) {
      const size_t need = kFrameHeaderSize - header_.size();
      const size_t take = std::min(need, bytes.size());
      header_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (header_.size() < kFrameHeaderSize) return okStatus();
      const uint32_t conn = getBe32(header_.data());
      const uint32_t length = getBe32(header_.data() + 4);
      header_.clear();
      if (length > kMaxFrameLength) {
        // Nothing after this header can be framed again: its length is the only way to find
        // the next one.
        broken_ = Error::dataLoss("NRI mux frame for connection " + std::to_string(conn) + " claims " +
                                  std::to_string(length) + " bytes, more than the limit of " +
                                  std::to_string(kMaxFrameLength));
        return *broken_;
      }
      frame_conn_ = conn;
      frame_left_ = length;
      if (conn != kPluginServiceConn && conn != kRuntimeServiceConn) ++dropped_frames_;
      continue;
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(frame_left_, bytes.size()));
    const std::string_view chunk = bytes.substr(0, take);
    bytes.remove_prefix(take);
    frame_left_ -= take;
    if (frame_conn_ == kPluginServiceConn) {
      plugin_service_.feed(chunk);
    } else if (frame_conn_ == kRuntimeServiceConn) {
      runtime_service_.feed(chunk);
    }
  }
  return okStatus();
}

std::optional<ConnMessage> Demux::next() {
  if (auto message = plugin_service_.next()) return ConnMessage{kPluginServiceConn, std::move(*message)};
  if (auto message = runtime_service_.next()) return ConnMessage{kRuntimeServiceConn, std::move(*message)};
  return std::nullopt;
}

bool Demux::midMessage() const {
  return !header_.empty() || frame_left_ > 0 || plugin_service_.midMessage() || runtime_service_.midMessage();
}

}  // namespace topod::nri::mux
