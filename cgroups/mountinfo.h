// Where the cgroup hierarchies are mounted, read from /proc/self/mountinfo (proc(5)).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "cgroups/cgroup_fs.h"
#include "common/result.h"

namespace topod::cgroups {

struct CgroupMounts {
  // Mount point of the cgroup2 (unified) hierarchy; empty when there is none.
  std::string unified;
  // v1 controller ("cpuset", "cpu", "memory", ...) -> mount point of its hierarchy.
  std::map<std::string, std::string> v1;

  // V1 when the cpuset or cpu controller has a v1 hierarchy (legacy or hybrid host), else V2.
  CgroupVersion version() const;
  friend bool operator==(const CgroupMounts&, const CgroupMounts&) = default;
};

// Parses mountinfo text. Lines that are not cgroup mounts are skipped; a malformed line is an
// error naming its line number. The first mount of a hierarchy wins (later ones are bind mounts).
// Error when there is no cgroup mount at all.
Result<CgroupMounts> parseMountInfo(std::string_view text);

}  // namespace topod::cgroups
