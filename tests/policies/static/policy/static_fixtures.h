// Shared helpers for the tests of the composed "static" policy (policies/static/kubelet_static_policy.h)
// through the Policy interface: fixture machines, one-expression pods, and admit-and-commit with
// the engine's invariant checker after every step.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "policies/policy.h"
#include "policies/policy_registry.h"
#include "policies/state_check.h"
#include "topology/loaders.h"

namespace topod::policies::static_test {

inline constexpr uint64_t kGiB = uint64_t{1} << 30;
inline constexpr uint64_t kMiB = uint64_t{1} << 20;
inline constexpr uint64_t k2MiB = 2 * kMiB;

// "xml:<fixture>.xml" from tests/fixtures/topology, or any other loadTopology() source as is.
inline topology::Topology loadFixture(const std::string& source) {
  std::string full = source.rfind("synthetic:", 0) == 0
                         ? source
                         : "xml:" + std::string(TOPOD_FIXTURES_DIR) + "/topology/" + source + ".xml";
  auto topology = topology::loadTopology(full);
  EXPECT_TRUE(topology.has_value()) << full << ": " << topology.error().toString();
  return std::move(topology).value();
}

inline ContainerRequest guaranteed(std::string name, int cpus, uint64_t memory = kGiB) {
  return {.name = std::move(name),
          .cpu_request_millis = int64_t{1000} * cpus,
          .cpu_limit_millis = int64_t{1000} * cpus,
          .memory_request_bytes = memory,
          .memory_limit_bytes = memory};
}

inline ContainerRequest burstable(std::string name, int64_t millis, uint64_t memory = kGiB) {
  return {.name = std::move(name),
          .cpu_request_millis = millis,
          .cpu_limit_millis = 2 * millis,
          .memory_request_bytes = memory,
          .memory_limit_bytes = 2 * memory};
}

inline PodRequest podOf(std::string uid, std::vector<ContainerRequest> containers) {
  PodRequest pod{.uid = uid, .namespace_name = "default", .name = uid};
  pod.qos = computeQosClass(containers);
  pod.containers = std::move(containers);
  return pod;
}

// The static policy with the reserved CPUs being the SMT siblings of the first CPU (what a
// kubelet with --reserved-cpus=0 plus its sibling gets).
inline PolicyOptions staticOptions(const topology::Topology& topology) {
  PolicyOptions options;
  options.policy = "static";
  options.reserved_cpus = topology.siblingsOf(topology.onlineCpus().first());
  return options;
}

inline std::unique_ptr<Policy> makeStatic(const topology::Topology& topology, const PolicyOptions& options) {
  auto policy = makePolicy(topology, options);
  EXPECT_TRUE(policy.has_value()) << policy.error().toString();
  return policy.has_value() ? std::move(*policy) : nullptr;
}

// The engine's invariants plus the Policy interface's own promises for `state`: every container
// is placed, exclusive containers on their own CPUs, everyone else on sharedCpus(), and no
// exclusive CPU in the shared pool.
inline void expectConsistent(const topology::Topology& topology, const PolicyOptions& options, const Policy& policy,
                             const State& state) {
  StateCheckOptions check;
  check.policy = &policy;
  EXPECT_EQ(checkState(topology, options, state, check), std::vector<std::string>{});
  CpuSet shared = policy.sharedCpus(state);
  auto placements = policy.placements(state);
  EXPECT_EQ(placements.size(), state.size());
  for (const auto& [key, allocation] : state.containers()) {
    const Placement& placement = placements.at(key);
    if (allocation.exclusive_cpus.empty()) {
      EXPECT_EQ(placement.cpus, shared) << describeKey(key);
    } else {
      EXPECT_EQ(placement.cpus, allocation.exclusive_cpus) << describeKey(key);
      EXPECT_FALSE(allocation.exclusive_cpus.intersects(shared)) << describeKey(key);
    }
    EXPECT_EQ(placement.mems, allocation.memory_nodes) << describeKey(key);
  }
}

// Admits `container` of `pod`; on success commits the decision and checks consistency.
inline Result<Decision> admitAndCommit(const topology::Topology& topology, const PolicyOptions& options,
                                       const Policy& policy, State& state, const PodRequest& pod,
                                       const ContainerRequest& container) {
  auto decision = policy.admit(state, pod, container);
  if (decision.has_value()) {
    EXPECT_EQ(decision->key, (ContainerKey{pod.uid, container.name}));
    EXPECT_FALSE(decision->explanation.empty());
    state = applyDecision(state, *decision);
    expectConsistent(topology, options, policy, state);
  }
  return decision;
}

inline NodeSet nodesOf(const topology::Topology& topology, const CpuSet& cpus) {
  NodeSet nodes;
  for (int cpu : cpus) nodes.insert(topology.numaOf(cpu));
  return nodes;
}

// The smallest number of exclusive candidates on any NUMA node with CPUs (reserved ones removed).
inline int smallestNode(const topology::Topology& topology, const CpuSet& reserved) {
  int smallest = -1;
  for (const topology::NumaNode& node : topology.numaNodes()) {
    int n = (node.cpus - reserved).size();
    if (n > 0 && (smallest < 0 || n < smallest)) smallest = n;
  }
  return smallest;
}

inline int largestNode(const topology::Topology& topology, const CpuSet& reserved) {
  int largest = 0;
  for (const topology::NumaNode& node : topology.numaNodes())
    largest = std::max(largest, (node.cpus - reserved).size());
  return largest;
}

}  // namespace topod::policies::static_test
