// The invariant checker of the allocation State (issue 4 item 7): what must hold between the
// Topology, the PolicyOptions and a State, whoever produced it (a policy, a restored checkpoint,
// a hand-written simulator state). Pure; reports every violation, not just the first, so one
// run of `topod simulate` or one agent start tells the whole story.
//
// Invariants (each violation message names the container and the CPUs/nodes involved):
//   1. Keys are non-empty (pod UID and container name).
//   2. Exclusive CPUs are online, and never reserved (explicit reserved list) unless the caller
//      allows it; with a reserved count, the CPUs left to the shared pool number at least that
//      count (the policy chooses which CPUs the count means).
//   3. No exclusive CPU is held by two containers. Exception, as in the kubelet: an init
//      container's CPUs are reused by the later containers of the same pod, so a CPU may be
//      shared between an init container and another container of its own pod.
//   4. A container with exclusive CPUs is not also in a shared pool; shared_pool_nodes and
//      memory_nodes name existing NUMA nodes.
//   5. Memory: per NUMA node and per resource ("memory", "hugepages-<size>"), the charges never
//      exceed capacity minus reserved memory. A pod's regular init containers run before its
//      other containers, which reuse their memory, so a pod holds what podMemoryShare() (state.h)
//      says: per memory group (equal memory_nodes), the larger of its sidecars and apps together
//      and of each init container plus what ran beside it (memory_beside). Nothing else shares:
//      not two pods, not two groups of one pod, not sidecars or apps among themselves.
//      memory_beside is recorded only for regular init containers, on their memory_nodes.
//   6. memory_nodes is consistent with the memory charges: a container charged memory on nodes
//      has those nodes in its memory_nodes (empty memory_nodes, "all nodes", is inconsistent
//      with per-node charges).
//   7. With a Policy given: its shared pool (sharedCpus) is disjoint from every exclusive CPU,
//      is online, and shared pool + exclusive CPUs cover every online CPU except reserved CPUs
//      under strict-cpu-reservation and isolated CPUs (policies may keep those out); under
//      strict-cpu-reservation no reserved CPU is in the shared pool.
#pragma once

#include <string>
#include <vector>

#include "common/cpuset.h"
#include "common/result.h"
#include "policies/policy.h"
#include "policies/policy_options.h"
#include "policies/state.h"
#include "topology/model.h"

namespace topod::policies {

struct StateCheckOptions {
  // When set, the shared-pool invariants (7) are checked against this policy's sharedCpus().
  const Policy* policy = nullptr;
  // The reserved CPUs of invariants 2 and 7 when not empty; otherwise policy->reservedCpus()
  // (the CPUs a policy picked for a reserved count) when a policy is given, else
  // options.reserved_cpus.
  CpuSet resolved_reserved_cpus;
  // Lets exclusive CPUs lie on reserved CPUs (invariant 2); off for every kubelet policy.
  bool allow_exclusive_on_reserved = false;
};

// Every violated invariant, one message each; empty when the State is consistent.
std::vector<std::string> checkState(const topology::Topology& topology, const PolicyOptions& options,
                                    const State& state, const StateCheckOptions& check = {});

// Restore of an existing state (a checkpoint or a simulator's initial state): the State is
// adopted only when it is consistent with the current topology and options. The error is
// FailedPrecondition and lists every violation, prefixed with `source` (e.g. the file path).
Status validateRestoredState(const topology::Topology& topology, const PolicyOptions& options, const State& state,
                             const std::string& source, const StateCheckOptions& check = {});

// The rule "a reserved CPU is never exclusive" for one allocation: the one check that admission,
// resize, adoption (the agent, after every decision) and restore (checkState) all use.
// `reserved` is Policy::reservedCpus(). FailedPrecondition naming the CPUs.
Status checkReservedNotExclusive(const ContainerKey& key, const ContainerAllocation& allocation,
                                 const CpuSet& reserved);

// Capacity of `resource` ("memory" or "hugepages-<size>") on a NUMA node, in bytes; an error
// when the node has no such resource (unknown name or page size not configured there).
Result<uint64_t> memoryCapacity(const topology::NumaNode& node, const std::string& resource);

// "pod-uid/container" for messages and logs, control characters escaped (common/text.h).
std::string describeKey(const ContainerKey& key);

}  // namespace topod::policies
