// What the cluster's topology-aware scheduler should see of this node: the NodeResourceTopology
// zones (topology/zone_summary.h) with `available` counted the way topod's own admission counts
// what a new Guaranteed container could still get on each NUMA node:
//   - cpu: the node's CPUs minus reserved CPUs (as the active policy picks them for a count)
//     minus every CPU a container holds exclusively (StateTotals::exclusive_cpus); under
//     topology-aware also minus isolated CPUs (exclusive only for pods that ask by annotation),
//     and, when no reserved CPU serves its shared pool, at most all zones' free CPUs less the
//     one that pool keeps;
//   - memory and huge pages: allocatable is capacity minus the reservation
//     (PolicyOptions::reserved_memory), and for memory minus the node's huge pages (both
//     policies subtract them); available is allocatable minus what
//     is pinned there: the Static memory manager's pinned memory (StateTotals::pinned_memory,
//     init-container reuse counted as the kubelet does) for the kubelet policies, every charge
//     (StateTotals::memory) for topology-aware; with the memory manager off nothing is pinned;
//   - devices: minus the devices containers were given on that node.
// Pure: no I/O, no clock.
#pragma once

#include <vector>

#include "common/cpuset.h"
#include "policies/policy_options.h"
#include "policies/state.h"
#include "topology/model.h"
#include "topology/zone_summary.h"

namespace topod::policies {

// `reserved_cpus` is the set the policy resolved (options.reserved_cpus, or the CPUs it picked
// for options.reserved_cpu_count; see resolveReservedCpus()).
std::vector<topology::Zone> nodeResourceZones(const topology::Topology& topology, const State& state,
                                              const PolicyOptions& options, const CpuSet& reserved_cpus,
                                              const topology::ZoneSummaryOptions& names = {});

// The reserved CPUs as the active policy resolves them: the explicit list, or the count taken by
// topology (the kubelet-compatible CPU manager's pick; topology-aware's own under that policy).
// Errors as the policy's own construction reports them.
Result<CpuSet> resolveReservedCpus(const topology::Topology& topology, const PolicyOptions& options);

}  // namespace topod::policies
