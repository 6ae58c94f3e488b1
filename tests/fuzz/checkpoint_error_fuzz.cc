// A CRI runtime's failed answer (cri/checkpoint_error.h), hostile input: the first byte is the
// gRPC code, the rest the runtime's message. Every answer gets one of the documented reasons,
// a printable message of bounded length, and never the code OK.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cri/checkpoint_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace topod::cri;
  if (size == 0) return 0;
  const int code = static_cast<int8_t>(data[0]);
  std::string_view message(reinterpret_cast<const char*>(data + 1), size - 1);
  const topod::Error error = classifyCheckpointError(code, message);
  if (error.code() == topod::ErrorCode::Ok) std::abort();
  if (std::find(kCheckpointReasons.begin(), kCheckpointReasons.end(), error.reason()) == kCheckpointReasons.end()) {
    std::abort();
  }
  // The fixed wording is under 200 bytes; the runtime's part is cut to kMaxRuntimeMessage.
  constexpr std::size_t kWording = 200;
  if (error.message().size() > kMaxRuntimeMessage + kWording) std::abort();
  for (char c : error.message()) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) std::abort();
  }
  return 0;
}
