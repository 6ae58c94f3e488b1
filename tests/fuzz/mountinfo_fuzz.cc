// Fuzzes the mountinfo parser and the cgroups-path resolvers (a container's cgroups path, a pod's
// cgroup parent): either a clean error or a result whose paths are absolute and free of ".."; a
// pod cgroup is never the root.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cgroups/cgroup_path.h"
#include "cgroups/mountinfo.h"
#include "common/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto mounts = topod::cgroups::parseMountInfo(text);
  if (mounts.has_value()) {
    for (const auto& [controller, path] : mounts->v1) TOPOD_CHECK(!path.empty() && path[0] == '/');
  } else {
    TOPOD_CHECK(!mounts.error().message().empty());
  }
  auto path = topod::cgroups::cgroupPathOf(text);
  if (path.has_value()) {
    TOPOD_CHECK(!path->empty() && (*path)[0] == '/');
    TOPOD_CHECK(path->find("/../") == std::string::npos);
  }
  auto pod = topod::cgroups::podCgroupPathOf(text);
  if (pod.has_value()) {
    TOPOD_CHECK(pod->size() > 1 && (*pod)[0] == '/');
    TOPOD_CHECK(pod->find("/../") == std::string::npos);
  }
  return 0;
}
