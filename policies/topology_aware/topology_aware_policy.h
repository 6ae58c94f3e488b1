// topod's own placement policy, "topology-aware" (docs/policies/topology-aware.md).
//
// Pools:
//   - reserved CPUs (PolicyOptions::reserved_cpus or a count): part of the shared pools, never
//     exclusive (with strict-cpu-reservation: in no pool at all);
//   - isolated CPUs (isolcpus=): in no shared pool; exclusive only for Guaranteed pods annotated
//     kIsolatedCpusAnnotation: "true", which then get isolated CPUs only;
//   - exclusive CPUs: Guaranteed containers (not init containers) with an integer CPU request;
//   - per-NUMA shared pools: node N's pool is its non-isolated CPUs that no container holds
//     exclusively. Burstable containers and Guaranteed ones with fractional CPU run in the pool of
//     the node holding their devices, else their memory; BestEffort ones in the node-wide pool.
//
// Invariants (tests/policies/topology_aware check them after every step of random sequences):
//   no CPU is exclusive to two containers; reserved CPUs are never exclusive; isolated CPUs are
//   never shared; the shared CPUs are exactly shared universe - exclusive; memory and huge pages
//   charged per NUMA node never exceed capacity - reserved; an exclusive container's cpuset.mems
//   is the set of nodes of its CPUs (plus its devices' nodes).
//
// Thread-safety: immutable after construction; every method is const and pure.
#pragma once

#include <memory>
#include <string_view>

#include "common/result.h"
#include "policies/policy.h"
#include "policies/topology_aware/node_usage.h"
#include "topology/model.h"

namespace topod::policies {

// Pod annotation: "true" asks for exclusive CPUs from the isolated (isolcpus=) CPUs only;
// "false" or absent: ordinary CPUs only. Any other value is refused.
inline constexpr std::string_view kIsolatedCpusAnnotation = "topology-aware.topod.io/isolated-cpus";

class TopologyAwarePolicy final : public Policy {
 public:
  static Result<std::unique_ptr<TopologyAwarePolicy>> create(const topology::Topology& topology,
                                                             const PolicyOptions& options);

  std::string_view name() const override { return "topology-aware"; }
  Result<Decision> admit(const State& state, const PodRequest& pod, const ContainerRequest& container) const override;
  Result<Decision> resize(const State& state, const PodRequest& pod, const ContainerRequest& resized) const override;
  std::map<ContainerKey, Placement> placements(const State& state) const override;
  CpuSet sharedCpus(const State& state) const override;
  CpuSet reservedCpus() const override { return pools_.reserved; }

  const topology_aware::Pools& pools() const { return pools_; }

 private:
  TopologyAwarePolicy(topology::Topology topology, topology_aware::Pools pools, TopologyManagerPolicy alignment)
      : topology_(std::move(topology)), pools_(std::move(pools)), alignment_(alignment) {}

  Result<Decision> admitExclusive(const State& state, const PodRequest& pod, const ContainerRequest& container,
                                  bool isolated) const;
  Decision admitShared(const State& state, const PodRequest& pod, const ContainerRequest& container) const;
  Result<Decision> resizeExclusive(const State& state, const PodRequest& pod, const ContainerRequest& resized,
                                   const ContainerAllocation& old) const;
  Result<Decision> resizeShared(const State& state, const PodRequest& pod, const ContainerRequest& resized,
                                const ContainerAllocation& old) const;
  // The CPUs a container runs on given the current shared CPUs (its pool, or the nearest
  // non-empty pool while its own is empty).
  Placement placementOf(const ContainerAllocation& allocation, const CpuSet& shared) const;
  // Per CPU node: CPUs an exclusive request may take (excluding the container `skip`).
  std::map<int, CpuSet> freeByNode(const topology_aware::Usage& usage, bool isolated) const;

  topology::Topology topology_;
  topology_aware::Pools pools_;
  // The topology manager policy read as an admission rule for exclusive containers: none and
  // best-effort span NUMA nodes when nothing narrower fits; restricted refuses wider than the
  // narrowest set that could ever hold the request; single-numa-node refuses more than one node.
  TopologyManagerPolicy alignment_;
};

// The factory the policy registry calls. Errors when the options do not fit the topology.
Result<std::unique_ptr<Policy>> makeTopologyAwarePolicy(const topology::Topology& topology,
                                                        const PolicyOptions& options);

}  // namespace topod::policies
