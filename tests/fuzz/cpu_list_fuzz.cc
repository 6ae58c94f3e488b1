// Fuzzes the kernel list parser: any input either fails cleanly or yields a set whose formatted
// form parses back to the same set.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "common/cpuset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cpus = topod::CpuSet::parse(text);
  if (cpus.has_value()) {
    auto again = topod::CpuSet::parse(cpus->toString());
    TOPOD_CHECK(again.has_value());
    TOPOD_CHECK(*again == *cpus);
  } else {
    TOPOD_CHECK(!cpus.error().message().empty());
  }
  auto nodes = topod::NodeSet::parse(text);
  if (nodes.has_value()) TOPOD_CHECK(topod::NodeSet::parse(nodes->toString()).has_value());
  return 0;
}
