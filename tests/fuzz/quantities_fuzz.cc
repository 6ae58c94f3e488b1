// Fuzzes the parsers of sizes and quantities: huge page sizes as the runtime sends them over NRI
// ("2MB", "1GB"), huge page resource names ("hugepages-2Mi"), and the one Kubernetes quantity
// parser (common/quantity.h) that the configuration and the simulator read bytes and CPUs with
// ("512Mi", "1.5", "250m", "1e3"). Each either fails with a message or returns exactly the number
// its text says: no wrap-around, bytes and millicores agree, a byte count formats to a text that
// parses back to it, and a huge page size names the resource it came from.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/nri_mapping.h"
#include "common/check.h"
#include "common/quantity.h"
#include "common/resource_names.h"

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
  auto again = topod::hugepageSizeOf(name);
  TOPOD_CHECK(again.has_value() && *again == *size);
}

void checkQuantity(std::string_view text) {
  auto bytes = topod::parseByteQuantity(text);
  auto millis = topod::parseMilliQuantity(text);
  if (!bytes.has_value()) TOPOD_CHECK(!bytes.error().message().empty());
  if (!millis.has_value()) TOPOD_CHECK(!millis.error().message().empty());
  if (bytes.has_value()) {
    // Canonical text round trip.
    auto again = topod::parseByteQuantity(topod::formatByteQuantity(*bytes));
    TOPOD_CHECK(again.has_value() && *again == *bytes);
    // Plain digits mean themselves.
    std::size_t end = 0;
    const unsigned __int128 number = leadingNumber(text, end);
    if (end == text.size()) TOPOD_CHECK(static_cast<unsigned __int128>(*bytes) == number);
    // The same text in millicores is a thousand times the bytes, when that fits.
    if (*bytes <= static_cast<uint64_t>(INT64_MAX) / 1000) {
      TOPOD_CHECK(millis.has_value() && static_cast<uint64_t>(*millis) == *bytes * 1000);
    }
  }
  if (millis.has_value()) {
    TOPOD_CHECK(*millis >= 0);
    // A whole number of units is also a byte count.
    if (*millis % 1000 == 0) TOPOD_CHECK(bytes.has_value() && *bytes == static_cast<uint64_t>(*millis / 1000));
  }
  auto page = topod::hugepageSizeOf(text);
  if (page.has_value()) {
    TOPOD_CHECK(text.starts_with(topod::kHugepagesPrefix));
    TOPOD_CHECK(*page > 0 && (*page & (*page - 1)) == 0);
    TOPOD_CHECK(topod::hugepageSizeOf(topod::hugepageResourceName(*page)).value() == *page);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  checkPageSize(text);
  checkQuantity(text);
  return 0;
}
