// Machine shapes for the topology-aware tests and the placement-quality benchmark
// (bench/placement_quality), built in one expression with TopologyBuilder. Header-only so that the
// benchmark can use it without the test libraries.
//
// Numbering: CPU ids are Intel-style, the SMT sibling of core k is k + total cores (so siblings
// are far apart, which catches code that assumes adjacent siblings). Distances: 10 local, 11
// between NUMA nodes of one package (sub-NUMA clustering, AMD NPS), 21 one package hop away,
// +10 per further hop on a ring of packages.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "topology/model.h"

namespace topod::policies::testing {

struct ShapeSpec {
  std::string name;
  int packages = 1;
  int nodes_per_package = 1;
  int l3_per_node = 1;
  int cores_per_l3 = 4;
  int threads = 2;
  uint64_t memory_per_node = uint64_t{64} << 30;
  uint64_t hugepages_2m_per_node = 0;  // pages of 2 MiB on every node
  int gpus_per_node = 0;
  CpuSet isolated;
};

inline constexpr uint64_t kHugepage2M = uint64_t{2} << 20;
inline constexpr uint64_t kGiB = uint64_t{1} << 30;

inline topology::Topology buildShape(const ShapeSpec& spec) {
  topology::TopologyBuilder b;
  int nodes = spec.packages * spec.nodes_per_package;
  int cores_per_node = spec.l3_per_node * spec.cores_per_l3;
  int total_cores = nodes * cores_per_node;
  for (int core = 0; core < total_cores; ++core) {
    int node = core / cores_per_node;
    int package = node / spec.nodes_per_package;
    int l3 = core / spec.cores_per_l3;
    int core_in_package = core - package * spec.nodes_per_package * cores_per_node;
    for (int t = 0; t < spec.threads; ++t) {
      b.addCpu({.id = core + t * total_cores,
                .package = package,
                .die = 0,
                .core_id = core_in_package,
                .l3 = l3,
                .numa = node});
    }
  }
  std::vector<std::vector<int>> distances(static_cast<std::size_t>(nodes),
                                          std::vector<int>(static_cast<std::size_t>(nodes)));
  for (int a = 0; a < nodes; ++a) {
    topology::NumaNodeSpec node{.id = a, .memory_bytes = spec.memory_per_node};
    if (spec.hugepages_2m_per_node > 0) node.hugepages[kHugepage2M] = spec.hugepages_2m_per_node;
    node.kind = topology::MemoryKind::Dram;
    b.addNumaNode(node);
    for (int c = 0; c < nodes; ++c) {
      int pa = a / spec.nodes_per_package;
      int pc = c / spec.nodes_per_package;
      int hops = std::min(std::abs(pa - pc), spec.packages - std::abs(pa - pc));
      int d = a == c ? 10 : (hops == 0 ? 11 : 21 + 10 * (hops - 1));
      distances[static_cast<std::size_t>(a)][static_cast<std::size_t>(c)] = d;
    }
    for (int g = 0; g < spec.gpus_per_node; ++g) {
      char address[32];
      std::snprintf(address, sizeof(address), "0000:%02x:00.0", 0x10 + a * 8 + g);
      b.addDevice({.address = address,
                   .klass = topology::DeviceClass::Gpu,
                   .vendor_id = 0x10de,
                   .device_id = 0x2330,
                   .name = "nvidia" + std::to_string(a * spec.gpus_per_node + g),
                   .numa = a});
    }
  }
  b.setDistances(distances);
  if (!spec.isolated.empty()) b.setIsolatedCpus(spec.isolated);
  auto topology = b.build();
  if (!topology.has_value()) {
    std::fprintf(stderr, "shape %s: %s\n", spec.name.c_str(), topology.error().toString().c_str());
    std::abort();
  }
  return *topology;
}

// Shapes the tests name (one test binary holds them all, so they are defined once, here).
inline const ShapeSpec kTwoSocket{.name = "TwoSocketSmt", .packages = 2, .cores_per_l3 = 8};
inline const ShapeSpec kAmd{.name = "Amd", .packages = 1, .nodes_per_package = 2, .l3_per_node = 4, .cores_per_l3 = 4};
inline const ShapeSpec kGpu{.name = "Gpu", .packages = 2, .cores_per_l3 = 12, .gpus_per_node = 4};
inline const ShapeSpec kSnc{.name = "Snc", .packages = 2, .nodes_per_package = 2, .cores_per_l3 = 6};
inline const ShapeSpec kFourSocket{.name = "FourSocket", .packages = 4, .cores_per_l3 = 4};
inline const ShapeSpec kOneNode{.name = "OneNode", .cores_per_l3 = 8, .threads = 1};

// The shapes every rule is checked on.
inline std::vector<ShapeSpec> standardShapes() {
  return {
      {.name = "OneNodeNoSmt", .cores_per_l3 = 8, .threads = 1},
      {.name = "TwoSocketSmt", .packages = 2, .cores_per_l3 = 8},
      {.name = "AmdFourL3PerNode", .packages = 1, .nodes_per_package = 2, .l3_per_node = 4, .cores_per_l3 = 4},
      {.name = "SubNumaClustering", .packages = 2, .nodes_per_package = 2, .cores_per_l3 = 6},
      {.name = "GpuServer", .packages = 2, .cores_per_l3 = 12, .gpus_per_node = 4},
      {.name = "FourSocket", .packages = 4, .cores_per_l3 = 4},
      {.name = "EightNodes", .packages = 2, .nodes_per_package = 4, .cores_per_l3 = 2, .threads = 2},
  };
}

}  // namespace topod::policies::testing
