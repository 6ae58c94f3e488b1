// What a set of CPUs is made of, in words, for explanations: how many whole cores and loose
// threads, on which NUMA nodes, packages and L3 groups. `topod explain` shows it next to the
// policy's reason for choosing those CPUs. Pure; the CPUs must be in the topology.
#pragma once

#include <string>

#include "common/cpuset.h"
#include "topology/model.h"

namespace topod::policies {

// "4 CPUs 4-7: 2 whole cores (4-5, 6-7); NUMA node 1; package 0; L3 group 1", and for a
// partly held core "... 1 whole core (4-5) and 1 thread of core 6-7 ...". CPUs unknown to the
// topology are listed as such, never dropped.
std::string describeCpuShape(const topology::Topology& topology, const CpuSet& cpus);

}  // namespace topod::policies
