// The pod-level cgroups the kubelet creates before RunPodSandbox and removes after
// RemovePodSandbox. The runtime (runc) only creates the containers' cgroups below them; without
// this step the pod cgroups would carry kernel defaults, not kubelet values. Three layouts:
//   cgroup v1 + cgroupfs driver: directories in the cpu, cpuacct, cpuset, memory and pids
//     hierarchies, values in cpu.shares, cpu.cfs_period_us, cpu.cfs_quota_us, memory.limit_in_bytes;
//   cgroup v2 + cgroupfs driver: one directory, the controllers enabled in cgroup.subtree_control
//     along the path (as runc's fs2 manager does), values in cpu.weight, cpu.max, memory.max;
//   cgroup v2 + systemd driver: transient slice units over D-Bus (systemd_units.h) with the
//     kubelet's properties, then the same v2 files written, as libcontainer's systemd manager does.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "tests/tools/cri-client/kubelet_shape.h"

namespace topod::e2e {

enum class CgroupVersion { V1, V2 };

// V2 when `cgroup_root` (normally /sys/fs/cgroup) is a cgroup2 mount (statfs magic), V1 when it
// is anything else (the tmpfs of the v1 and hybrid layouts).
Result<CgroupVersion> detectCgroupVersion(const std::string& cgroup_root);

class PodCgroups {
 public:
  virtual ~PodCgroups() = default;
  // Creates the pod cgroup `cgroup_parent` (the value given to the runtime) and its QoS
  // ancestors, and sets the pod values (unset values keep the kernel's defaults).
  virtual Status create(std::string_view cgroup_parent, const LinuxResourceValues& values) = 0;
  // An in-place resize, split as the kubelet does it: values that grow are written before the
  // containers are resized (on v1 a child's CFS quota or memory limit may not exceed its
  // parent's), values that shrink after. Call with after_containers=false, then true.
  virtual Status resize(std::string_view cgroup_parent, const LinuxResourceValues& values, bool after_containers) = 0;
  // Removes the pod cgroup (not its QoS ancestors). Missing ones are fine (idempotent).
  virtual Status remove(std::string_view cgroup_parent) = 0;
};

// The implementation for this machine's cgroup version and the kubelet's driver. The systemd
// driver needs cgroup v2 (this client does not make v1 systemd slices) and the system bus.
Result<std::unique_ptr<PodCgroups>> makePodCgroups(CgroupDriver driver, const std::string& cgroup_root);

}  // namespace topod::e2e
