// The kubelet's placement for the placement-quality benchmark, until the engine registers the
// "static" policy: static CPU manager (exclusive CPUs for Guaranteed integer requests, taken with
// the kubelet-compatible allocator of policies/cpu) behind the topology manager at container
// scope, policy best-effort or single-numa-node, with CPU and device hint providers (memory
// manager None, the kubelet's default). Only what the benchmark measures is modelled: which CPUs
// an exclusive container gets, and whether it is admitted.
#pragma once

#include "common/cpuset.h"
#include "common/result.h"
#include "policies/cpu/kubelet_cpu_topology.h"
#include "policies/request.h"
#include "topology/model.h"

namespace topod::bench {

class KubeletBaseline {
 public:
  KubeletBaseline(const topology::Topology& topology, CpuSet reserved, bool single_numa_node);
  // Exclusive CPUs for `cpus` CPUs whose devices sit on `device_nodes`, given the CPUs already
  // held exclusively. Error: refused (too few CPUs, or no aligned hint under single-numa-node).
  Result<CpuSet> allocate(const CpuSet& exclusive, int cpus, const NodeSet& device_nodes) const;

 private:
  const topology::Topology& topology_;
  policies::cpu::KubeletCpuTopology kubelet_topology_;
  CpuSet reserved_;
  bool single_numa_node_;
};

}  // namespace topod::bench
