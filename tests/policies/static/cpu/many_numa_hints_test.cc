// CPU hints beyond topology_manager::kExhaustiveMaskNodes NUMA nodes, against the kubelet's own
// rules (every NUMA mask, generateCPUTopologyHints) written out here as the reference, on
// machines of 9 to 12 nodes where the reference can still be enumerated. The bounded hints list
// runs of consecutive nodes only; what must not change:
//  - whether the request can be placed at all (an empty list refuses the container);
//  - the merged answer whenever the kubelet's is one preferred node (the common case);
//  - otherwise, a preferred answer is as narrow as the kubelet's, and no answer is narrower.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "policies/static/cpu/static_cpu_policy.h"
#include "policies/static/topology_manager/hint_merge.h"
#include "policies/static/topology_manager/numa_mask.h"

namespace topod::policies::cpu::test {
namespace {

namespace tm = topology_manager;

// `nodes` NUMA nodes (= sockets of `nodes_per_socket`), 2 cores x 2 threads each.
KubeletCpuTopology machine(int nodes, int nodes_per_socket) {
  std::vector<KubeletCpuInfo> rows;
  int cpu = 0;
  for (int node = 0; node < nodes; ++node) {
    for (int core = 0; core < 2; ++core) {
      for (int thread = 0; thread < 2; ++thread) {
        rows.push_back({.cpu = cpu++, .core = node * 2 + core, .socket = node / nodes_per_socket, .numa = node});
      }
    }
  }
  return KubeletCpuTopology::fromRows(rows).value();
}

// The kubelet's generateCPUTopologyHints, mask by mask (no reusable CPUs); with align-by-socket
// a mask on as few sockets as the narrowest mask needs is preferred too.
std::vector<TopologyHint> kubeletHints(const KubeletCpuTopology& topo, const CpuSet& available, int request,
                                       bool align_by_socket) {
  const std::vector<int> ids = topo.numaNodes().toVector();
  int min_affinity_size = static_cast<int>(ids.size());
  std::vector<TopologyHint> hints;
  tm::forEachMask(ids, [&](tm::NumaMask mask) {
    NodeSet nodes = tm::toNodeSet(mask);
    CpuSet cpus = topo.cpusInNumaNodes(nodes);
    if (cpus.size() >= request && nodes.size() < min_affinity_size) min_affinity_size = nodes.size();
    if ((cpus & available).size() >= request) hints.push_back({nodes, false});
  });
  const int numa_per_socket = topo.numNumaNodes() / topo.numSockets();
  const int min_sockets = (min_affinity_size + numa_per_socket - 1) / numa_per_socket;
  for (TopologyHint& hint : hints) {
    NodeSet sockets;
    for (int cpu : topo.cpusInNumaNodes(hint.affinity)) sockets.insert(topo.socketOf(cpu));
    hint.preferred = hint.affinity.size() == min_affinity_size || (align_by_socket && sockets.size() == min_sockets);
  }
  return hints;
}

tm::MergeOutcome merged(const tm::NumaInfo& numa, TopologyManagerPolicy policy, std::vector<TopologyHint> hints) {
  ResourceHints provider;
  provider[std::string(kCpuResource)] = std::move(hints);
  return tm::mergeHints(policy, numa, false, std::vector<ResourceHints>{provider});
}

TEST(ManyNumaCpuHints, AgreeWithTheKubeletWhereItMatters) {
  std::mt19937 random(20261206);  // fixed seed: the test is deterministic
  int single_node_answers = 0;
  int wider_answers = 0;
  for (int round = 0; round < 400; ++round) {
    const int nodes = 9 + round % 4;
    ASSERT_GT(static_cast<std::size_t>(nodes), tm::kExhaustiveMaskNodes);
    const KubeletCpuTopology topo = machine(nodes, 1 + round % 3);
    PolicyOptions options;
    options.cpu.align_by_socket = round % 5 == 4;
    auto policy = StaticCpuPolicy::create(topo, options);
    ASSERT_TRUE(policy.has_value()) << policy.error().toString();
    // Some CPUs taken: busier machines as the rounds go.
    std::bernoulli_distribution taken(0.2 + 0.6 * (round % 10) / 10.0);
    CpuSet available;
    for (int cpu : topo.cpus()) {
      if (!taken(random)) available.insert(cpu);
    }
    std::uniform_int_distribution<int> request_dist(1, 10);
    const int request = request_dist(random);
    const tm::NumaInfo numa(topo.numaNodes().toVector(), {});

    const std::vector<TopologyHint> reference = kubeletHints(topo, available, request, options.cpu.align_by_socket);
    const std::vector<TopologyHint> bounded = policy->generateCpuTopologyHints(available, CpuSet{}, request);
    SCOPED_TRACE("round " + std::to_string(round) + ": " + std::to_string(nodes) + " nodes, available " +
                 available.toString() + ", request " + std::to_string(request) +
                 (options.cpu.align_by_socket ? ", align-by-socket" : ""));
    if (!options.cpu.align_by_socket) {
      EXPECT_LE(bounded.size(), static_cast<std::size_t>(nodes) + 1);
    }
    ASSERT_EQ(bounded.empty(), reference.empty());
    if (reference.empty()) continue;
    // Every listed hint is one of the kubelet's, preferred exactly when the kubelet's is.
    for (const TopologyHint& hint : bounded) {
      auto same = std::find_if(reference.begin(), reference.end(),
                               [&](const TopologyHint& other) { return other.affinity == hint.affinity; });
      ASSERT_NE(same, reference.end()) << hint.affinity.toString();
      EXPECT_EQ(same->preferred, hint.preferred) << hint.affinity.toString();
    }
    if (options.cpu.align_by_socket) continue;  // the merge properties below are the kubelet's defaults

    for (TopologyManagerPolicy manager : {TopologyManagerPolicy::BestEffort, TopologyManagerPolicy::Restricted}) {
      const tm::MergeOutcome kubelet = merged(numa, manager, reference);
      const tm::MergeOutcome ours = merged(numa, manager, bounded);
      if (kubelet.hint.preferred && kubelet.hint.affinity.size() == 1) {
        EXPECT_EQ(ours, kubelet);
        ++single_node_answers;
        continue;
      }
      ++wider_answers;
      EXPECT_GE(ours.hint.affinity.size(), kubelet.hint.affinity.size());
      if (ours.hint.preferred) {
        EXPECT_TRUE(kubelet.hint.preferred);
        EXPECT_EQ(ours.hint.affinity.size(), kubelet.hint.affinity.size());
      }
    }
    // single-numa-node looks at preferred single-node hints only: exactly the kubelet's.
    EXPECT_EQ(merged(numa, TopologyManagerPolicy::SingleNumaNode, bounded),
              merged(numa, TopologyManagerPolicy::SingleNumaNode, reference));
  }
  EXPECT_GT(single_node_answers, 100);
  EXPECT_GT(wider_answers, 100);
}

}  // namespace
}  // namespace topod::policies::cpu::test
