// Fuzzes the NRI socket reader: arbitrary bytes go through the mux demultiplexer in chunks whose
// sizes come from the input, every reassembled message is decoded as a ttrpc envelope, and the
// reader must either reject the stream cleanly (still handing back the messages completed
// before the corruption) or hand back messages whose sizes are within the limits. Nothing may
// crash or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "nri/mux.h"
#include "nri/ttrpc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the chunk size, so frame boundaries fall everywhere.
  const size_t chunk = static_cast<size_t>(data[0]) + 1;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  topod::nri::mux::Demux demux;
  for (size_t offset = 0; offset < stream.size(); offset += chunk) {
    auto fed = demux.feed(stream.substr(offset, chunk));
    if (!fed.has_value()) {
      TOPOD_CHECK(!fed.error().message().empty());
      TOPOD_CHECK(demux.broken().has_value());
      // The error is sticky; messages completed before it are still checked below.
      TOPOD_CHECK(!demux.feed(stream.substr(offset)).has_value());
    }
    while (auto message = demux.next()) {
      TOPOD_CHECK(message->conn == 1 || message->conn == 2);
      TOPOD_CHECK(message->message.data.size() <= topod::nri::ttrpc::kMaxDataLength);
      if (message->message.oversized) {
        TOPOD_CHECK(message->message.data.empty());
        continue;
      }
      TOPOD_CHECK(message->message.data.size() == message->message.header.length);
      (void)topod::nri::ttrpc::decodeRequest(message->message.data);
      (void)topod::nri::ttrpc::decodeResponse(message->message.data);
    }
    if (demux.broken()) return 0;
  }
  return 0;
}
