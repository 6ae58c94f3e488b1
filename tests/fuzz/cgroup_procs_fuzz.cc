// Fuzzes the cgroup.procs parser (page migration, eviction signals): any input either fails with a message or
// yields positive pids whose one-a-line text parses back to the same list.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cgroups/container_files.h"
#include "common/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto pids = topod::cgroups::parseCgroupProcs(text);
  if (!pids.has_value()) {
    TOPOD_CHECK(!pids.error().message().empty());
    return 0;
  }
  std::string again;
  for (pid_t pid : *pids) {
    TOPOD_CHECK(pid > 0);
    again += std::to_string(pid) + "\n";
  }
  auto reparsed = topod::cgroups::parseCgroupProcs(again);
  TOPOD_CHECK(reparsed.has_value());
  TOPOD_CHECK(*reparsed == *pids);
  return 0;
}
