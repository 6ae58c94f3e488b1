// Pages follow cpuset.mems. Writing a cgroup's cpuset.mems only steers new allocations: cgroup v2
// has no cpuset.memory_migrate, and on v1 it is off unless someone turned it on, so when topod
// moves a pinned container to other NUMA nodes its pages stay where they were. migratePages()
// moves them with migrate_pages(2), one process of the cgroup at a time, until a deadline.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/cgroup_fs.h"
#include "common/clock.h"
#include "common/cpuset.h"
#include "common/result.h"

namespace topod::cgroups {

// The system call behind migratePages(); tests use a fake.
class PageMover {
 public:
  virtual ~PageMover() = default;
  // Moves the pages of process `pid` that lie on `from` to `to` (migrate_pages(2)). Returns the
  // number of pages the kernel could not move. NotFound: the process is gone.
  virtual Result<uint64_t> movePages(pid_t pid, const NodeSet& from, const NodeSet& to) = 0;
};

// migrate_pages(2). Needs CAP_SYS_NICE for processes of other users (topod runs as root).
class KernelPageMover final : public PageMover {
 public:
  Result<uint64_t> movePages(pid_t pid, const NodeSet& from, const NodeSet& to) override;
};

struct MigrationOutcome {
  int processes = 0;                // listed in cgroup.procs
  int moved = 0;                    // migrate_pages() returned for them
  int vanished = 0;                 // exited before their turn
  uint64_t pages_not_moved = 0;     // summed over the processes the kernel reported on
  bool deadline_hit = false;        // processes left untried because the deadline passed
  std::vector<std::string> errors;  // per-process failures (the first few), for the log

  // One line for the log: "moved the pages of 3/3 processes to node 1 (12 pages not moved)".
  std::string summary(const NodeSet& to) const;
};

// Moves the pages of every process in `cgroup` (cgroup.procs of the cpuset hierarchy) that lie
// outside `to` onto `to`. Processes are tried in turn while clock.now() is before `deadline`; one
// migrate_pages() call is not interruptible, so the bound is per process. Errors: `to` empty, or
// cgroup.procs unreadable (NotFound when the cgroup is gone). Per-process failures are in the
// outcome, not an error: the other processes are still moved.
Result<MigrationOutcome> migratePages(const CgroupFs& fs, PageMover& mover, const Clock& clock, std::string_view cgroup,
                                      const NodeSet& to, Clock::TimePoint deadline);

}  // namespace topod::cgroups
