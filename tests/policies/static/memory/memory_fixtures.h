// Machines and States for memory manager tests, spelled like the kubelet's test tables: per node
// the allocatable regular memory, the memory reserved for the system and the 1Gi huge pages.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policies/static/memory/static_memory_policy.h"
#include "topology/model.h"

namespace topod::policies::memory::testing {

inline constexpr uint64_t kMi = 1024ULL * 1024;
inline constexpr uint64_t kGi = 1024 * kMi;
inline const std::string kHugepages1Gi = "hugepages-1Gi";
inline const std::string kHugepages2Mi = "hugepages-2Mi";

struct NodeSpec {
  uint64_t allocatable = 0;   // regular memory the kubelet's machine state calls Allocatable
  uint64_t reserved = 0;      // reserved_memory "memory" for the node
  uint64_t hugepages_1g = 0;  // number of 1Gi pages
};

inline topology::Topology machineOf(const std::vector<NodeSpec>& nodes) {
  topology::TopologyBuilder builder;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    int id = static_cast<int>(i);
    builder.addCpu({.id = id, .core_id = id, .l3 = id, .numa = id});
    topology::NumaNodeSpec spec{.id = id};
    spec.memory_bytes = nodes[i].allocatable + nodes[i].reserved + nodes[i].hugepages_1g * kGi;
    if (nodes[i].hugepages_1g != 0) spec.hugepages[kGi] = nodes[i].hugepages_1g;
    builder.addNumaNode(spec);
  }
  auto topology = builder.build();
  EXPECT_TRUE(topology.has_value()) << topology.error().toString();
  return topology.value_or(topology::Topology{});
}

inline NumaResourceBytes reservedOf(const std::vector<NodeSpec>& nodes) {
  NumaResourceBytes reserved;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].reserved != 0) reserved[static_cast<int>(i)][kResourceMemory] = nodes[i].reserved;
  }
  return reserved;
}

// The Static memory policy on those nodes (a failure to build it fails the test).
inline StaticMemoryPolicy policyFor(const std::vector<NodeSpec>& nodes) {
  auto policy = StaticMemoryPolicy::create(machineOf(nodes), reservedOf(nodes));
  EXPECT_TRUE(policy.has_value()) << policy.error().toString();
  return std::move(policy).value();
}

// A container holding memory: node -> resource -> bytes, on `nodes` (cpuset.mems).
struct Holding {
  std::string pod;
  std::string container;
  NodeSet nodes;
  NumaResourceBytes charges;
};

inline State stateOf(const std::vector<Holding>& holdings) {
  State state;
  for (const Holding& holding : holdings) {
    ContainerAllocation allocation;
    allocation.qos = QosClass::Guaranteed;
    allocation.memory_nodes = holding.nodes;
    allocation.memory = holding.charges;
    state.put(ContainerKey{holding.pod, holding.container}, allocation);
  }
  return state;
}

// The kubelet tests' requirementsGuaranteed (1Gi memory, 1Gi of 1Gi huge pages) and
// requirementsBurstable (requests 1Gi/1Gi, limits 2Gi/2Gi).
inline ContainerRequest guaranteedContainer(const std::string& name, uint64_t memory = kGi, uint64_t hugepages = kGi) {
  ContainerRequest container{.name = name,
                             .cpu_request_millis = 1000,
                             .cpu_limit_millis = 1000,
                             .memory_request_bytes = memory,
                             .memory_limit_bytes = memory};
  if (hugepages != 0) container.hugepages[kGi] = hugepages;
  return container;
}

inline PodRequest podOf(const std::string& uid, std::vector<ContainerRequest> containers) {
  PodRequest pod{.uid = uid, .namespace_name = "default", .name = uid};
  pod.containers = std::move(containers);
  pod.qos = computeQosClass(pod.containers);
  return pod;
}

inline PodRequest guaranteedPod(const std::string& uid, const std::string& container) {
  return podOf(uid, {guaranteedContainer(container)});
}

inline PodRequest burstablePod(const std::string& uid, const std::string& container) {
  ContainerRequest c{.name = container,
                     .cpu_request_millis = 1000,
                     .cpu_limit_millis = 1000,
                     .memory_request_bytes = kGi,
                     .memory_limit_bytes = 2 * kGi};
  c.hugepages[kGi] = kGi;
  return podOf(uid, {c});
}

}  // namespace topod::policies::memory::testing
