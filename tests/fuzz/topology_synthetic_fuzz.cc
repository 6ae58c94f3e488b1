// Fuzzes the synthetic topology loader (`synthetic:DESC`, hwloc's synthetic parser plus our
// conversion), which `topod simulate` and `topod topology` take from the command line: any input
// either fails with a message or yields a topology whose JSON snapshot loads back equal.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "topology/json_snapshot.h"
#include "topology/loaders.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto topology = topod::topology::loadHwlocSynthetic(text);
  if (!topology.has_value()) {
    TOPOD_CHECK(!topology.error().message().empty());
    return 0;
  }
  auto again = topod::topology::parseTopologyJson(topod::topology::toTopologyJson(*topology));
  TOPOD_CHECK(again.has_value());
  TOPOD_CHECK(*again == *topology);
  return 0;
}
