// evictions.json (agent/eviction_state.h): arbitrary bytes give warnings or an error, never a
// crash, and what parses is written back and read again unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/eviction_state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto warnings = topod::agent::parseWarnings(text);
  if (!warnings) return 0;
  auto again = topod::agent::parseWarnings(topod::agent::serializeWarnings(*warnings));
  if (!again || !(*again == *warnings)) std::abort();
  return 0;
}
