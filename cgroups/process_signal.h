// Delivering a signal to every process of a cgroup (a container): the processes listed in its
// cgroup.procs, read through the CgroupFs seam; the kill(2) itself is a second seam so tests can
// record instead of signalling. Used for the eviction warning (docs/eviction.md).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string_view>

#include "cgroups/cgroup_fs.h"
#include "common/result.h"

namespace topod::cgroups {

// kill(2): 0 or -1 with errno set.
using KillFn = std::function<int(pid_t pid, int signo)>;
KillFn realKill();

// Sends `signo` to each pid in `cgroup`'s cgroup.procs (the v1 "cpuset" hierarchy on v1 hosts).
// A process that exited meanwhile (ESRCH) is skipped. Returns how many were signalled.
// Errors: NotFound when the cgroup is gone; InvalidArgument when cgroup.procs holds something
// that is not a pid; the errno of a kill that failed otherwise (EPERM, ...).
Result<int> signalCgroup(const CgroupFs& fs, std::string_view cgroup, int signo, const KillFn& kill);

// "SIGUSR1", "USR1", "sigterm" or a number 1..64; nullopt for anything else. SIGKILL and SIGSTOP
// are refused: a warning that cannot be caught is no warning.
std::optional<int> parseSignalName(std::string_view name);

}  // namespace topod::cgroups
