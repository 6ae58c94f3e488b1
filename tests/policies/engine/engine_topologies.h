// Small hand-written machines for the engine's tests (state checks, JSON, simulator), named by
// shape like hwloc's fixtures. The kubelet's own test machines live in
// tests/policies/kubelet_topologies.h.
#pragma once

#include <cstdint>

#include "topology/model.h"

namespace topod::policies::testing {

inline constexpr uint64_t kGiB = 1ULL << 30;
inline constexpr uint64_t k2MiB = 2ULL << 20;

// 1 package, 2 NUMA nodes, 4 cores per node, 2 threads per core: CPUs 0-7 on node 0, 8-15 on
// node 1; siblings are (n, n+1) for even n. 16 GiB and 512 2-MiB huge pages (1 GiB) per node.
// One GPU on node 1.
inline topology::Topology twoNuma16Cpus() {
  topology::TopologyBuilder b;
  for (int cpu = 0; cpu < 16; ++cpu) {
    b.addCpu({.id = cpu, .package = 0, .die = 0, .core_id = cpu / 2, .l3 = cpu / 8, .numa = cpu / 8});
  }
  for (int node = 0; node < 2; ++node) {
    b.addNumaNode(
        {.id = node, .memory_bytes = 16 * kGiB, .hugepages = {{k2MiB, 512}}, .kind = topology::MemoryKind::Dram});
  }
  b.addDevice({.address = "0000:17:00.0", .klass = topology::DeviceClass::Gpu, .name = "nvidia0", .numa = 1});
  return b.build().value();
}

}  // namespace topod::policies::testing
