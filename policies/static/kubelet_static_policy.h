// The "static" policy: the kubelet's resource managers composed behind the Policy interface, so
// a node migrating from the kubelet gets the same placements. The topology manager (options'
// policy and scope) admits each container across the hint providers: the static CPU manager
// policy ("cpu") always, the Static memory manager policy ("memory") when memory_policy is
// Static, and the devices the container was given ("devices": their NUMA nodes, as the kubelet's
// device manager hints them). Each provider documents its pools and invariants in its header
// (policies/static/cpu/static_cpu_policy.h, policies/static/memory/static_memory_policy.h,
// policies/static/devices/device_hint_provider.h).
//
//   admit:      Guaranteed containers with whole CPUs get exclusive CPUs; everything else runs
//               in the shared pool (online - exclusive, minus reserved under strict reservation).
//               With the Static memory manager, Guaranteed containers get memory charged per
//               NUMA node and cpuset.mems; otherwise mems are unrestricted. The explanation is
//               the topology manager's (hints considered, affinity chosen).
//   resize:     the providers' resize rules (exclusive CPUs kept and grown close by, shrunk
//               keeping the best NUMA nodes; memory kept on its nodes while it fits). A refusal
//               is an Error and the old allocation stays as it is.
//   placements: exclusive CPUs, or the current shared pool; mems = the memory nodes.
//
// Thread-safety: immutable after create(); every method is const and pure.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string_view>

#include "common/result.h"
#include "policies/policy.h"
#include "policies/static/cpu/static_cpu_policy.h"
#include "policies/static/devices/device_hint_provider.h"
#include "policies/static/memory/static_memory_policy.h"
#include "policies/static/topology_manager/topology_manager.h"
#include "topology/model.h"

namespace topod::policies {

class KubeletStaticPolicy final : public Policy {
 public:
  static Result<std::unique_ptr<KubeletStaticPolicy>> create(const topology::Topology& topology,
                                                             const PolicyOptions& options);
  // The providers are referenced by the topology manager: the object never moves.
  KubeletStaticPolicy(const KubeletStaticPolicy&) = delete;
  KubeletStaticPolicy& operator=(const KubeletStaticPolicy&) = delete;

  std::string_view name() const override { return "static"; }
  Result<Decision> admit(const State& state, const PodRequest& pod, const ContainerRequest& container) const override;
  Result<Decision> resize(const State& state, const PodRequest& pod, const ContainerRequest& resized) const override;
  std::map<ContainerKey, Placement> placements(const State& state) const override;
  CpuSet sharedCpus(const State& state) const override;

  // The reserved CPUs the CPU policy resolved (the list, or the CPUs a count picked).
  CpuSet reservedCpus() const override { return cpu_.reservedCpus(); }

 private:
  KubeletStaticPolicy(topology::Topology topology, cpu::StaticCpuPolicy cpu,
                      std::optional<memory::StaticMemoryPolicy> memory, devices::DeviceHintProvider devices)
      : topology_(std::move(topology)),
        cpu_(std::move(cpu)),
        memory_(std::move(memory)),
        devices_(std::move(devices)) {}
  static Placement placementOf(const ContainerAllocation& allocation, const CpuSet& shared);

  topology::Topology topology_;  // for the explanations' CPU shapes
  cpu::StaticCpuPolicy cpu_;
  std::optional<memory::StaticMemoryPolicy> memory_;
  devices::DeviceHintProvider devices_;
  std::optional<topology_manager::TopologyManager> manager_;
};

// The registry's factory for "static".
Result<std::unique_ptr<Policy>> makeKubeletStaticPolicy(const topology::Topology& topology,
                                                        const PolicyOptions& options);

}  // namespace topod::policies
