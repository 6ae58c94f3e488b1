// Fuzzes the parsers of sizes and quantities: huge page sizes as the runtime sends them over NRI
// ("2MB", "1GB"), huge page resource names and the configuration's quantities ("hugepages-2Mi",
// "512Mi"), and the simulator's CPU and memory quantities ("1.5", "250m", "1Gi"). Each either
// fails with a message or returns exactly the number its text says: no wrap-around, and a huge
// page size names the resource it came from.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config_reader.h"
#include "agent/nri_mapping.h"
#include "common/check.h"
#include "common/resource_names.h"
#include "simulator/simulator_trace.h"

namespace {

// The leading decimal digits of `text` as a 128-bit number (saturating), and where they end.
unsigned __int128 leadingNumber(std::string_view text, std::size_t& end) {
  unsigned __int128 value = 0;
  constexpr unsigned __int128 kCap = static_cast<unsigned __int128>(1) << 100;
  for (end = 0; end < text.size() && text[end] >= '0' && text[end] <= '9'; ++end) {
    if (value < kCap) value = value * 10 + static_cast<unsigned>(text[end] - '0');
  }
  return value;
}

void checkPageSize(std::string_view text) {
  auto size = topod::agent::parsePageSize(text);
  if (!size.has_value()) {
    TOPOD_CHECK(!size.error().message().empty());
    return;
  }
  std::size_t end = 0;
  const unsigned __int128 number = leadingNumber(text, end);
  const std::string_view unit = text.substr(end);
  const unsigned __int128 factor = unit == "GB" ? 1ULL << 30 : unit == "MB" ? 1ULL << 20 : 1ULL << 10;
  TOPOD_CHECK(*size > 0);
  TOPOD_CHECK(static_cast<unsigned __int128>(*size) == number * factor);
  // The resource a page size is accounted under names the same size again.
  const std::string name = topod::hugepageResourceName(*size);
  TOPOD_CHECK(topod::agent::isHugepageResourceName(name));
  auto again = topod::agent::parseQuantity(std::string_view(name).substr(std::string_view("hugepages-").size()));
  TOPOD_CHECK(again.has_value() && *again == *size);
}

void checkQuantity(std::string_view text) {
  auto bytes = topod::agent::parseQuantity(text);
  if (!bytes.has_value()) {
    TOPOD_CHECK(!bytes.error().message().empty());
  } else {
    std::size_t end = 0;
    const unsigned __int128 number = leadingNumber(text, end);
    TOPOD_CHECK(static_cast<unsigned __int128>(*bytes) >= number);
    TOPOD_CHECK(number == 0 || *bytes % static_cast<uint64_t>(number) == 0);
  }
  if (topod::agent::isHugepageResourceName(text)) TOPOD_CHECK(text.starts_with("hugepages-"));
}

void checkTraceQuantities(std::string_view text) {
  auto millis = topod::policies::parseCpuQuantity(text);
  if (millis.has_value()) {
    TOPOD_CHECK(*millis >= 0);
  } else {
    TOPOD_CHECK(!millis.error().message().empty());
  }
  auto bytes = topod::policies::parseByteQuantity(text);
  if (!bytes.has_value()) TOPOD_CHECK(!bytes.error().message().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  checkPageSize(text);
  checkQuantity(text);
  checkTraceQuantities(text);
  return 0;
}
