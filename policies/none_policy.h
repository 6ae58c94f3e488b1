// The "none" policy: no pinning at all, like the kubelet's CPU manager policy "none". Every
// container, whatever its QoS class, runs on every online CPU with no cpuset.mems restriction,
// and nothing is charged to any NUMA node. It is the executable spec of the Policy contract
// (STYLE.md practice 5): the smallest correct implementation of every method.
//
// Pools: one shared pool = all online CPUs. Invariants: no exclusive CPUs, no memory charges.
// Reserved CPUs are not removed from the pool (the kubelet's "none" ignores them too).
#pragma once

#include <map>
#include <string_view>

#include "policies/policy.h"
#include "topology/model.h"

namespace topod::policies {

class NonePolicy final : public Policy {
 public:
  explicit NonePolicy(const topology::Topology& topology);

  std::string_view name() const override { return "none"; }
  Result<Decision> admit(const State& state, const PodRequest& pod, const ContainerRequest& container) const override;
  // Succeeds for every admitted container (nothing is pinned, so nothing can run out); an error
  // only when the container is unknown.
  Result<Decision> resize(const State& state, const PodRequest& pod, const ContainerRequest& resized) const override;
  std::map<ContainerKey, Placement> placements(const State& state) const override;
  CpuSet sharedCpus(const State& state) const override;
  // Nothing is exclusive under "none", so nothing needs to be kept from it.
  CpuSet reservedCpus() const override { return {}; }

 private:
  Decision decide(const PodRequest& pod, const ContainerRequest& container, std::string explanation) const;

  CpuSet online_;
};

}  // namespace topod::policies
