// From a container's OCI cgroupsPath (as NRI reports it) to its path inside a cgroup hierarchy.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace topod::cgroups {

// Two forms exist (runc's rules):
//  - cgroupfs driver: a path, "/kubepods/burstable/pod<uid>/<id>" (relative paths are taken from
//    the root);
//  - systemd driver: "slice:prefix:name", e.g.
//    "kubepods-burstable-pod1.slice:cri-containerd:abc" ->
//    "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-abc.scope".
//    Every dash-separated prefix of a slice name is a parent slice; "-.slice" is the root; an
//    empty slice means "system.slice"; a name ending in ".slice" is used as is.
// Rejects empty input, ".." components and malformed systemd triples, naming the input.
Result<std::string> cgroupPathOf(std::string_view cgroups_path);

// From a pod's cgroup parent (NRI's PodSandbox.linux.cgroup_parent, the kubelet's pod cgroup) to
// its path inside a hierarchy. The cgroupfs driver gives a path ("/kubepods/burstable/pod<uid>",
// taken as cgroupPathOf takes it); the systemd driver gives a bare slice name
// ("kubepods-burstable-pod<uid_>.slice"), expanded through its parent slices
// ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice").
// Rejects what cgroupPathOf rejects, malformed slice names, and the root ("/", "-.slice").
Result<std::string> podCgroupPathOf(std::string_view cgroup_parent);

}  // namespace topod::cgroups
