// Replays a trace through a policy and counts what the placement-quality table reports.
#pragma once

#include <vector>

#include "bench/placement_quality/traces.h"
#include "policies/policy.h"
#include "topology/model.h"

namespace topod::bench {

struct Counts {
  int guaranteed_offered = 0;
  int guaranteed_admitted = 0;
  int guaranteed_aligned = 0;       // CPUs on one NUMA node that also holds its GPU (and memory, when restricted)
  int guaranteed_aligned_cpus = 0;  // their CPUs, summed
  int burstable_offered = 0;
  int burstable_aligned = 0;  // runs in one NUMA node's shared pool (holding its GPU)
  int alignedContainers() const { return guaranteed_aligned + burstable_aligned; }
};

Counts replayPolicy(const topology::Topology& topology, const policies::Policy& policy,
                    const std::vector<TraceEvent>& trace);
// Upper bound on aligned Guaranteed pods for the trace: every add either goes whole onto one NUMA
// node with room (its GPU's node, if any) or is left out, chosen knowing the whole trace;
// capacity counted in CPUs (core granularity ignored, so it can only overestimate).
int optimumAligned(const topology::Topology& topology, const CpuSet& reserved, const std::vector<TraceEvent>& trace);

}  // namespace topod::bench
