// The kubelet-compatible CPU allocator: the static CPU manager's take-by-topology, reproduced so
// that topod picks exactly the CPUs the kubelet (v1.32/v1.33 semantics) picks for the same
// machine, the same free CPUs and the same request.
//
// takeByTopologyNumaPacked (the default):
//   1. whole NUMA nodes and whole sockets, the higher level of the two first, while the request
//      needs at least a whole one;
//   2. with prefer-align-cpus-by-uncorecache: whole uncore caches, then the fewest cores of one
//      uncore cache that fit the rest (uncore caches in NUMA order);
//   3. whole cores (skipped with distribute-cpus-across-cores, the "spread" strategy);
//   4. single CPUs in the accumulator's order (see cpu_accumulator.h).
// takeByTopologyNumaDistributed (distribute-cpus-across-numa): the smallest set of NUMA nodes over
// which the request spreads evenly in groups of cpu_group_size CPUs (the SMT width with
// full-pcpus-only, else 1), any remainder placed to keep the free CPUs per NUMA node as balanced
// as possible (lowest standard deviation, rounded to 3 decimals like the kubelet); each NUMA
// node's share is then taken packed. Falls back to packed when no combination balances.
//
// Errors carry the kubelet's text so users see the same reasons:
//   "not enough cpus available to satisfy request: requested=N, available=M"
//   "failed to allocate cpus"
// Pure functions; thread-safe.
#pragma once

#include "common/cpuset.h"
#include "common/result.h"
#include "policies/static/cpu/cpu_accumulator.h"
#include "policies/static/cpu/kubelet_cpu_topology.h"

namespace topod::policies::cpu {

Result<CpuSet> takeByTopologyNumaPacked(const KubeletCpuTopology& topo, const CpuSet& available, int num_cpus,
                                        CpuSortingStrategy strategy, bool prefer_align_by_uncore_cache);

Result<CpuSet> takeByTopologyNumaDistributed(const KubeletCpuTopology& topo, const CpuSet& available, int num_cpus,
                                             int cpu_group_size, CpuSortingStrategy strategy);

// In-place resize of an exclusive allocation, packed (the kubelet's
// takeByTopologyNUMAPackedForResize): growing keeps every CPU of `current` and adds CPUs from
// `available`, preferring the NUMA nodes, sockets, uncore caches and cores the container already
// uses; shrinking (num_cpus < current.size(), `available` = current) keeps `keep` and re-takes
// the rest. `keep` must be a subset of `current` ("requested CPUs to be retained ... are not a
// subset of reusable CPUs ..." otherwise).
Result<CpuSet> takeByTopologyNumaPackedForResize(const KubeletCpuTopology& topo, const CpuSet& available, int num_cpus,
                                                 CpuSortingStrategy strategy, bool prefer_align_by_uncore_cache,
                                                 const CpuSet& current, const CpuSet& keep);

// The kubelet's "balance score": population standard deviation with mean and result rounded to
// three decimals.
double kubeletStandardDeviation(const std::vector<int>& values);

}  // namespace topod::policies::cpu
