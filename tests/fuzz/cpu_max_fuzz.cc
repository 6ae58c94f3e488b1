// Fuzzes the cgroup v2 cpu.max parser: any input either fails with a message or yields a quota
// that is unlimited or positive with a positive period, and that formatCpuMax() writes back as
// text that parses to the same quota (what topod reads, it can write, and the reverse).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cgroups/container_files.h"
#include "common/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto quota = topod::cgroups::parseCpuMax(text);
  if (!quota.has_value()) {
    TOPOD_CHECK(!quota.error().message().empty());
    return 0;
  }
  TOPOD_CHECK(quota->quota_us == -1 || quota->quota_us > 0);
  TOPOD_CHECK(quota->period_us > 0);
  auto again = topod::cgroups::parseCpuMax(topod::cgroups::formatCpuMax(*quota));
  TOPOD_CHECK(again.has_value());
  TOPOD_CHECK(*again == *quota);
  return 0;
}
