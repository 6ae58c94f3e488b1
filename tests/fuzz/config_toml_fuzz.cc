// Fuzzes the TOML configuration loader: any input either yields a Config or an error whose
// message names the input; it never throws or crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = topod::agent::parseConfig(text, "fuzz.toml");
  if (config.has_value()) {
    TOPOD_CHECK(!config->policy.policy.empty());
    TOPOD_CHECK(!topod::agent::describeConfig(*config).empty());
  } else {
    TOPOD_CHECK(config.error().message().find("fuzz.toml") != std::string::npos);
  }
  return 0;
}
