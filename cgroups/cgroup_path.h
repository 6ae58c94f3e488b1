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

}  // namespace topod::cgroups
