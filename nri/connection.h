// One NRI socket: writes whole ttrpc messages as mux frames and reads/reassembles incoming ones.
// Used by the plugin and by the runtime simulator (tests/tools/nri-runtime-sim).
//
// Thread-safety: send() may be called from several threads (writes are serialized by a mutex so
// that frames of two messages never interleave). readSome()/nextMessage() belong to one reader thread.
// shutdown() may be called from any thread to wake a blocked reader.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "nri/mux.h"
#include "nri/transport.h"

namespace topod::nri {

class Connection {
 public:
  explicit Connection(UniqueFd fd);

  int fd() const { return fd_.get(); }

  // Frames and writes one whole ttrpc message (header included) on logical connection `conn`.
  // Errors: the peer is gone or the write failed.
  Status send(uint32_t conn, std::string_view message);

  // One read() (blocks until bytes arrive unless the socket is non-blocking) fed to the demux.
  // Returns false on an orderly end of stream between messages, true when bytes arrived — also
  // when they end in a corrupt frame header: that error comes from nextMessage(), after the messages
  // that preceded it, so that those are still answered. Errors: read failure, the stream ending
  // in the middle of a frame or message (truncated), or a stream that nextMessage() already reported
  // as corrupt.
  Result<bool> readSome();
  // The next complete message (nullopt: read more). Once every message that arrived before a
  // corrupt frame header has been handed out, returns that corruption as an error (and keeps
  // returning it): the caller must then close the connection. (Not called next(): that one
  // returned a bare optional, and a `while (connection.next())` written for it would still
  // compile against this and spin.)
  Result<std::optional<mux::ConnMessage>> nextMessage();

  // Shuts the socket down in both directions (unblocks a reader; the fd stays open).
  void shutdown();

  // Bytes written and read on the socket so far, mux frame headers included (for metrics and
  // for checking that a benchmark's baseline moves the same bytes). Any thread.
  uint64_t bytesSent() const { return bytes_sent_.load(std::memory_order_relaxed); }
  uint64_t bytesReceived() const { return bytes_received_.load(std::memory_order_relaxed); }

 private:
  UniqueFd fd_;
  std::mutex write_mu_;  // serializes send()
  std::vector<char> read_buf_;
  mux::Demux demux_;
  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<uint64_t> bytes_received_{0};
};

}  // namespace topod::nri
