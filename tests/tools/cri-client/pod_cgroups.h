// The pod-level cgroups the kubelet's cgroupfs driver creates before RunPodSandbox and removes
// after RemovePodSandbox (cgroup v1). The runtime (runc) only creates the containers' cgroups
// below them; without this step the pod cgroups would carry kernel defaults, not kubelet values.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "tests/tools/cri-client/kubelet_shape.h"

namespace topod::e2e {

// Creates `cgroup_parent` (e.g. "/kubepods/burstable/pod<uid>") and its ancestors in the cpu,
// cpuacct, cpuset, memory and pids hierarchies under `cgroup_root` (normally /sys/fs/cgroup).
// New cpuset groups inherit their parent's cpus and mems (cgroup v1 starts them empty), as the
// kubelet's libcontainer does. Then writes the pod values to cpu.shares, cpu.cfs_period_us,
// cpu.cfs_quota_us and memory.limit_in_bytes (unset values are left at the kernel default).
Status createPodCgroups(const std::string& cgroup_root, std::string_view cgroup_parent,
                        const LinuxResourceValues& values);

// An in-place resize of the pod cgroup, split as the kubelet does it: values that grow are
// written before the containers are resized (a child's CFS quota or memory limit may not exceed
// its parent's), values that shrink after. Call with after_containers=false, then true.
Status resizePodCgroups(const std::string& cgroup_root, std::string_view cgroup_parent,
                        const LinuxResourceValues& values, bool after_containers);

// Removes the pod cgroup (not its QoS ancestors) from every hierarchy. Missing groups are fine,
// so removal is idempotent like the kubelet's.
Status removePodCgroups(const std::string& cgroup_root, std::string_view cgroup_parent);

}  // namespace topod::e2e
