// CgroupFsImpl: CgroupFs over the real mounted hierarchies (or a directory tree laid out like
// them, for tests and for `cgroup_root` overrides).
#pragma once

#include <memory>
#include <string>

#include "cgroups/cgroup_fs.h"
#include "cgroups/mountinfo.h"

namespace topod::cgroups {

class CgroupFsImpl final : public CgroupFs {
 public:
  explicit CgroupFsImpl(CgroupMounts mounts) : mounts_(std::move(mounts)) {}

  CgroupVersion version() const override { return mounts_.version(); }
  Result<std::string> readFile(std::string_view controller, std::string_view cgroup,
                               std::string_view file) const override;
  Status writeFile(std::string_view controller, std::string_view cgroup, std::string_view file,
                   std::string_view content) override;

  // The full path of a file; NotFound when the controller has no hierarchy.
  Result<std::string> filePath(std::string_view controller, std::string_view cgroup, std::string_view file) const;
  const CgroupMounts& mounts() const { return mounts_; }

 private:
  CgroupMounts mounts_;
};

// The default root "/sys/fs/cgroup": the mounts come from `mountinfo_path`. Any other root is
// a tree laid out like the kernel's: a cgroup.controllers file marks v2, otherwise each
// subdirectory ("cpuset", "cpu,cpuacct") is a v1 hierarchy of the controllers it names.
Result<std::unique_ptr<CgroupFsImpl>> openCgroupFs(const std::string& root,
                                                   const std::string& mountinfo_path = "/proc/self/mountinfo");

}  // namespace topod::cgroups
