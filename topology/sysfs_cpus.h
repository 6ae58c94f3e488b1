// The CPU states hwloc does not report, read from sysfs under an explicit root so that tests can
// replay fake trees (tests/fixtures/topology/sysfs/<shape>/).
#pragma once

#include <string>

#include "common/cpuset.h"
#include "common/result.h"

namespace topod::topology {

struct SysfsCpuState {
  CpuSet isolated;  // <root>/sys/devices/system/cpu/isolated (isolcpus=), empty when absent
  // CPUs present but not online. The kernel's "offline" file also lists possible-but-absent
  // CPUs (a VM with 4 vCPUs often shows "4-255"); those are not part of the machine, so the
  // result is offline ∩ present when the "present" file exists.
  CpuSet offline;
};

// Fails when <root>/sys/devices/system/cpu is missing or a list in it does not parse; a missing
// "isolated" or "offline" file means the empty set (older kernels lack "isolated").
Result<SysfsCpuState> readSysfsCpuState(const std::string& root);

}  // namespace topod::topology
