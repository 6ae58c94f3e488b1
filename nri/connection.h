// One NRI socket: writes whole ttrpc messages as mux frames and reads/reassembles incoming ones.
// Used by the plugin and by the runtime simulator (tests/tools/nri-runtime-sim).
//
// Thread-safety: send() may be called from several threads (writes are serialized by a mutex so
// that frames of two messages never interleave). readSome()/next() belong to one reader thread.
// shutdown() may be called from any thread to wake a blocked reader.
#pragma once

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
  // Returns false on an orderly end of stream between messages. Errors: read failure, a corrupt
  // frame header, or the stream ending in the middle of a frame or message (truncated).
  Result<bool> readSome();
  std::optional<mux::ConnMessage> next() { return demux_.next(); }

  // Shuts the socket down in both directions (unblocks a reader; the fd stays open).
  void shutdown();

 private:
  UniqueFd fd_;
  std::mutex write_mu_;  // serializes send()
  std::vector<char> read_buf_;
  mux::Demux demux_;
};

}  // namespace topod::nri
