// The few controller files topod reads and writes, under their v1 and v2 names:
//   cpuset      v1/v2: cpuset.cpus, cpuset.mems
//   CPU quota   v1: cpu.cfs_quota_us + cpu.cfs_period_us   v2: cpu.max ("<quota|max> <period>")
//   CPU weight  v1: cpu.shares                             v2: cpu.weight (converted as runc does)
//   memory      v1: memory.limit_in_bytes                  v2: memory.max
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/cgroup_fs.h"
#include "common/cpuset.h"
#include "common/result.h"

namespace topod::cgroups {

struct CpuQuota {
  int64_t quota_us = -1;        // -1 = unlimited
  uint64_t period_us = 100000;  // the kernel's and the kubelet's default period
  friend bool operator==(const CpuQuota&, const CpuQuota&) = default;
};

Result<CpuSet> readCpus(const CgroupFs& fs, std::string_view cgroup);
Result<NodeSet> readMems(const CgroupFs& fs, std::string_view cgroup);
Status writeCpus(CgroupFs& fs, std::string_view cgroup, const CpuSet& cpus);
Status writeMems(CgroupFs& fs, std::string_view cgroup, const NodeSet& mems);

Result<CpuQuota> readCpuQuota(const CgroupFs& fs, std::string_view cgroup);
Status writeCpuQuota(CgroupFs& fs, std::string_view cgroup, const CpuQuota& quota);

// Shares in cgroup-v1 units (2..262144, what CRI and NRI carry); on v2 written as cpu.weight.
Status writeCpuShares(CgroupFs& fs, std::string_view cgroup, uint64_t shares);
// runc's v1 shares -> v2 weight conversion: [2, 262144] -> [1, 10000].
uint64_t cpuSharesToWeight(uint64_t shares);

// -1 = unlimited.
Status writeMemoryLimit(CgroupFs& fs, std::string_view cgroup, int64_t bytes);

// Parses the content of a cpu.max file ("max 100000", "50000 100000").
// Quota "max" or positive, period positive: what the kernel shows and formatCpuMax() writes.
Result<CpuQuota> parseCpuMax(std::string_view text);
// The cpu.max line for a quota (a negative quota is "max").
std::string formatCpuMax(const CpuQuota& quota);

// cgroup.procs: one positive decimal pid per line (what page migration and signalling act on;
// pid 0 or a negative one would name process groups). Error on anything else, naming the cgroup.
Result<std::vector<pid_t>> parseCgroupProcs(std::string_view text);
Result<std::vector<pid_t>> readCgroupProcs(const CgroupFs& fs, std::string_view cgroup);

}  // namespace topod::cgroups
