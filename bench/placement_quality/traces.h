// Seeded random pod traces for the placement-quality benchmark: Guaranteed pods of mixed sizes
// (some with a GPU), Burstable pods, and removals (churn). A trace depends only on the machine's
// size and the seed, never on a policy, so every policy replays the same events.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "topology/model.h"

namespace topod::bench {

struct TracePod {
  std::string uid;
  bool guaranteed = true;
  int cpus = 0;                  // Guaranteed: whole CPUs
  int64_t burstable_millis = 0;  // Burstable: CPU request
  uint64_t memory = 0;
  int gpu_node = -1;  // NUMA node of its GPU, -1 for none
};

struct TraceEvent {
  bool add = true;  // false: remove pod `pod.uid` (skipped when it was never admitted)
  TracePod pod;
};

struct TraceShape {
  int events = 300;
  double remove_probability = 0.3;
  double burstable_share = 0.3;  // of added pods
  double gpu_share = 0.25;       // of Guaranteed pods, on machines with GPUs
  std::vector<int> sizes;        // Guaranteed CPU counts, drawn uniformly
  // Like the kube-scheduler, offer a pod only while the CPU requests of the live pods (all
  // assumed running) plus its own fit the node's allocatable CPUs; a pod that does not fit is
  // not offered and a random live pod leaves instead. 0: no filter (an overloaded node).
  int allocatable_cpus = 0;
};

std::vector<TraceEvent> makeTrace(const topology::Topology& topology, const TraceShape& shape, unsigned seed);

}  // namespace topod::bench
