// Fuzzes the topology JSON snapshot parser: any input either fails with a message or yields a
// topology whose snapshot parses back to the same topology and the same text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "topology/json_snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto topology = topod::topology::parseTopologyJson(text);
  if (!topology.has_value()) {
    TOPOD_CHECK(!topology.error().message().empty());
    return 0;
  }
  const std::string snapshot = topod::topology::toTopologyJson(*topology);
  auto again = topod::topology::parseTopologyJson(snapshot);
  TOPOD_CHECK(again.has_value());
  TOPOD_CHECK(*again == *topology);
  TOPOD_CHECK(topod::topology::toTopologyJson(*again) == snapshot);
  return 0;
}
