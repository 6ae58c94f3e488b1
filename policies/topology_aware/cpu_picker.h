// Choosing individual CPUs inside the NUMA node(s) the topology-aware policy picked, and giving
// CPUs back on shrink. Pure functions over the topology and CPU sets.
#pragma once

#include "common/cpuset.h"
#include "topology/model.h"

namespace topod::policies::topology_aware {

// Picks `count` CPUs out of `free` (count <= free.size()). Preferences, in order:
//   1. one L3 group when the request fits one: the group with the fewest free CPUs that still
//      holds it (best fit keeps the emptier groups whole for bigger requests);
//   2. otherwise whole L3 groups, largest free first, and a best-fit group for the remainder;
//   3. inside a group, whole free cores (ascending), then a remainder smaller than a core goes to
//      a partly used core with the fewest free CPUs that holds it (so new cores are not broken),
//      then any free CPU, partly used cores first.
// CPUs without an L3 group are grouped by NUMA node.
CpuSet pickCpus(const topology::Topology& topology, const CpuSet& free, int count);

// The `count` CPUs of `held` to release on shrink, the most recently added first. Allocation
// order is not stored in the State, so "most recent" is read from where a grow puts CPUs: first
// the NUMA nodes, then the L3 groups, where the container holds the fewest CPUs; inside those,
// CPUs of cores the container holds only partly, then whole cores from the highest core down.
CpuSet cpusToRelease(const topology::Topology& topology, const CpuSet& held, int count);

}  // namespace topod::policies::topology_aware
