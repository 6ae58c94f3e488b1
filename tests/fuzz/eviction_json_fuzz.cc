// Eviction objects (kube/eviction_object.h) as the API server, or anyone who can write them,
// sends them: arbitrary bytes give a view or an error, never a crash. Every time a view holds
// survives formatting and parsing unchanged, and the raw input read as one RFC 3339 time does too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kube/eviction_object.h"

namespace {

void checkRoundTrip(topod::kube::WallTime time) {
  auto again = topod::kube::parseWallTime(topod::kube::formatWallTime(time));
  if (!again || *again != time) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto time = topod::kube::parseWallTime(text)) {
    // Years outside 0000-9999 cannot be written back in four digits; the parser never makes them.
    checkRoundTrip(*time);
  }
  auto view = topod::kube::parseEvictionText(text);
  if (!view) return 0;
  if (view->pod_uid.empty() || view->name.empty()) std::abort();
  for (const auto& status : view->responders) {
    for (const auto& time :
         {status.start_time, status.heartbeat_time, status.expected_completion_time, status.completion_time}) {
      if (time) checkRoundTrip(*time);
    }
  }
  (void)topod::kube::validateResponderName(text);
  return 0;
}
