// Fuzzes the metrics listen address ("host:port", [metrics] address): any input either fails
// with a message or yields an address whose text form parses back to the same address.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "metrics/listen_address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto address = topod::metrics::parseListenAddress(text);
  if (address.has_value()) {
    auto again = topod::metrics::parseListenAddress(address->toString());
    TOPOD_CHECK(again.has_value());
    TOPOD_CHECK(*again == *address);
  } else {
    TOPOD_CHECK(!address.error().message().empty());
  }
  return 0;
}
