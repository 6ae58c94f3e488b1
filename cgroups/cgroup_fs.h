// CgroupFs: the one seam through which topod reads and writes cgroupfs files (STYLE.md
// practice 3). topod changes containers through NRI replies; it touches cgroups directly only to
// verify placements, detect drift and do what NRI cannot. Implementations: CgroupFsImpl
// (cgroup_fs_impl.h, the real hierarchies) and FakeCgroupFs (tests/fakes/fake_cgroup_fs.h).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace topod::cgroups {

// Which file names the cpu, cpuset and memory controllers use. A hybrid host (v1 controllers plus
// an empty v2 tree for systemd) is V1 for everything topod touches.
enum class CgroupVersion { V1, V2 };

class CgroupFs {
 public:
  virtual ~CgroupFs() = default;

  virtual CgroupVersion version() const = 0;

  // `controller` selects the v1 hierarchy ("cpuset", "cpu", "memory") and is ignored on v2.
  // `cgroup` is the absolute path inside the hierarchy ("/kubepods/burstable/pod1/abc", see
  // cgroup_path.h). `file` is the bare file name ("cpuset.cpus").
  // NotFound when the cgroup or file does not exist; other failures carry errno. Thread-safe.
  virtual Result<std::string> readFile(std::string_view controller, std::string_view cgroup,
                                       std::string_view file) const = 0;
  virtual Status writeFile(std::string_view controller, std::string_view cgroup, std::string_view file,
                           std::string_view content) = 0;
};

}  // namespace topod::cgroups
