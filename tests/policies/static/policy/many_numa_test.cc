// The static policy on machines with many NUMA nodes (sub-NUMA clustering, CXL memory: 16 to 64
// nodes, with max_allowable_numa_nodes raised). Enumerating every NUMA mask, as the kubelet does,
// is 2^nodes hints per resource and a cross product of them in the merge: a 32-node machine never
// finished its first Guaranteed pod. Beyond kExhaustiveMaskNodes nodes the providers list a
// bounded family (runs of consecutive node ids), so:
//  - every provider's hint list stays linear in the node count (the work counter these tests
//    assert on; no timing here, the speed lives in bench/policy_latency);
//  - Guaranteed pods are admitted and released with the answers one expects: a pod that fits one
//    node gets one node, CPUs and memory on the same node, devices' nodes respected, a pod
//    needing two nodes gets two adjacent ones (refused by single-numa-node).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "policies/static/cpu/static_cpu_policy.h"
#include "policies/static/devices/device_hint_provider.h"
#include "policies/static/memory/static_memory_policy.h"
#include "policies/static/topology_manager/numa_mask.h"
#include "simulator/simulator.h"
#include "tests/policies/static/policy/static_fixtures.h"

namespace topod::policies::static_test {
namespace {

struct Machine {
  int nodes;
  const char* description;
};

// 4 PUs (2 cores x 2 threads) per NUMA node, as in the report that found the blow-up.
const Machine kMachines[] = {
    {16, "synthetic:pack:4 numa:4 core:2 pu:2"},
    {32, "synthetic:pack:8 numa:4 core:2 pu:2"},
    {64, "synthetic:pack:8 numa:8 core:2 pu:2"},
};

// Small enough for any NUMA node of a synthetic machine.
constexpr uint64_t kPodMemory = 256 * kMiB;

PolicyOptions manyNumaOptions(const topology::Topology& topology, TopologyManagerPolicy manager, bool memory) {
  PolicyOptions options = staticOptions(topology);
  options.topology_manager.policy = manager;
  options.topology_manager.max_allowable_numa_nodes = static_cast<int>(topology.numaNodes().size());
  if (memory) {
    options.memory_policy = MemoryManagerPolicy::Static;
    options.reserved_memory[topology.numaNodes().front().id]["memory"] = kPodMemory;
  }
  return options;
}

std::size_t longestList(const ResourceHints& hints) {
  std::size_t longest = 0;
  for (const auto& [resource, list] : hints) longest = std::max(longest, list.size());
  return longest;
}

// Every test first checks that the CPU hints of the smallest machine (16 nodes) are bounded, so
// that where they are not (every mask listed: 2^16 - 1 hints there, 2^32 - 1 on the next
// machine) the tests fail in milliseconds instead of running out of memory.
class ManyNumaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    topology::Topology topology = loadFixture(kMachines[0].description);
    PolicyOptions options = manyNumaOptions(topology, TopologyManagerPolicy::BestEffort, false);
    auto cpu = cpu::StaticCpuPolicy::create(topology, options);
    ASSERT_TRUE(cpu.has_value()) << cpu.error().toString();
    ContainerRequest container = guaranteed("c", 2, kPodMemory);
    ResourceHints hints = cpu->containerHints(State{}, podOf("p", {container}), container);
    ASSERT_LE(longestList(hints), 2 * static_cast<std::size_t>(kMachines[0].nodes))
        << "CPU hints on 16 NUMA nodes are not bounded: the larger machines would not finish";
  }
};

// On a machine past kExhaustiveMaskNodes every provider's list is O(nodes) long.
TEST_F(ManyNumaTest, HintListsStayLinearInTheNodeCount) {
  for (const Machine& machine : kMachines) {
    SCOPED_TRACE(machine.description);
    topology::Topology topology = loadFixture(machine.description);
    ASSERT_EQ(static_cast<int>(topology.numaNodes().size()), machine.nodes);
    ASSERT_GT(topology.numaNodes().size(), topology_manager::kExhaustiveMaskNodes);
    const std::size_t bound = 2 * static_cast<std::size_t>(machine.nodes);
    PolicyOptions options = manyNumaOptions(topology, TopologyManagerPolicy::BestEffort, true);

    auto cpu = cpu::StaticCpuPolicy::create(topology, options);
    ASSERT_TRUE(cpu.has_value()) << cpu.error().toString();
    auto memory = memory::StaticMemoryPolicy::create(topology, options.reserved_memory);
    ASSERT_TRUE(memory.has_value()) << memory.error().toString();
    devices::DeviceHintProvider devices(topology);
    State state;
    for (int cpus : {1, 2, 4, 6, 12, 40}) {
      SCOPED_TRACE(cpus);
      ContainerRequest container = guaranteed("c", cpus, kPodMemory);
      container.devices = {DeviceRequest{.resource = "example.com/nic", .id = "a", .numa = machine.nodes - 1}};
      PodRequest pod = podOf("p", {container});
      ResourceHints cpu_hints = cpu->containerHints(state, pod, container);
      ASSERT_EQ(cpu_hints.size(), 1U);
      EXPECT_FALSE(cpu_hints.begin()->second.empty());
      EXPECT_LE(longestList(cpu_hints), bound);
      EXPECT_LE(longestList(cpu->podHintsWithoutPod(state, pod)), bound);
      ResourceHints memory_hints = memory->containerHints(state, pod, container);
      EXPECT_FALSE(memory_hints.empty());
      EXPECT_LE(longestList(memory_hints), bound);
      EXPECT_LE(longestList(memory->podHintsWithoutPod(state, pod)), bound);
      EXPECT_LE(longestList(devices.containerHints(state, pod, container)), bound);
    }
  }
}

// The narrowest hints are still there: on an empty machine a 2-CPU container is preferred on every
// single node, a 6-CPU one on every pair of adjacent nodes.
TEST_F(ManyNumaTest, PreferredHintsAreTheNarrowestSets) {
  for (const Machine& machine : kMachines) {
    SCOPED_TRACE(machine.description);
    topology::Topology topology = loadFixture(machine.description);
    PolicyOptions options = manyNumaOptions(topology, TopologyManagerPolicy::BestEffort, false);
    auto cpu = cpu::StaticCpuPolicy::create(topology, options);
    ASSERT_TRUE(cpu.has_value());
    State state;
    ContainerRequest two = guaranteed("c", 2);
    std::vector<TopologyHint> hints = cpu->containerHints(state, podOf("p", {two}), two).begin()->second;
    int preferred_singles = 0;
    for (const TopologyHint& hint : hints) preferred_singles += hint.preferred && hint.affinity.size() == 1 ? 1 : 0;
    EXPECT_EQ(preferred_singles, machine.nodes);  // node 0 too: 2 CPUs left beside the reserved core
    EXPECT_EQ(hints.back().affinity.size(), machine.nodes);
    EXPECT_FALSE(hints.back().preferred);

    ContainerRequest six = guaranteed("c", 6);
    hints = cpu->containerHints(state, podOf("p", {six}), six).begin()->second;
    for (const TopologyHint& hint : hints) {
      if (!hint.preferred) continue;
      EXPECT_EQ(hint.affinity.size(), 2) << hint.affinity.toString();
      EXPECT_EQ(hint.affinity.last() - hint.affinity.first(), 1) << hint.affinity.toString();
    }
  }
}

struct ManagerRow {
  TopologyManagerPolicy manager;
  bool memory;
};

// Fill every node with 2-CPU pods, release half of them, fill again; then a pod that needs two
// nodes (on the two lowest, node 0 holding the reserved core). Consistency (the engine's
// invariant checker) after every step.
TEST_F(ManyNumaTest, GuaranteedPodsAreAdmittedAndReleased) {
  for (const Machine& machine : kMachines) {
    for (const ManagerRow& row :
         {ManagerRow{TopologyManagerPolicy::BestEffort, false}, ManagerRow{TopologyManagerPolicy::BestEffort, true},
          ManagerRow{TopologyManagerPolicy::Restricted, true},
          ManagerRow{TopologyManagerPolicy::SingleNumaNode, true}}) {
      SCOPED_TRACE(std::string(machine.description) + " manager " + std::to_string(static_cast<int>(row.manager)) +
                   (row.memory ? " memory" : ""));
      topology::Topology topology = loadFixture(machine.description);
      PolicyOptions options = manyNumaOptions(topology, row.manager, row.memory);
      auto policy = makeStatic(topology, options);
      ASSERT_NE(policy, nullptr);
      State state;
      // Node 0 keeps 2 CPUs beside the reserved core: one 2-CPU pod per node.
      std::vector<std::string> admitted;
      for (int i = 0; i < machine.nodes; ++i) {
        PodRequest pod = podOf("p" + std::to_string(i), {guaranteed("c", 2, kPodMemory)});
        auto decision = admitAndCommit(topology, options, *policy, state, pod, pod.containers[0]);
        ASSERT_TRUE(decision.has_value()) << i << ": " << decision.error().toString();
        NodeSet nodes = nodesOf(topology, decision->allocation.exclusive_cpus);
        EXPECT_EQ(nodes.size(), 1) << i;
        if (row.memory) {
          EXPECT_EQ(decision->allocation.memory_nodes, nodes) << i;
        }
        admitted.push_back(pod.uid);
      }
      // Each node holds one pod: the next 2-CPU pod has two free CPUs on every node but node 0.
      for (std::size_t i = 0; i < admitted.size(); i += 2) {
        state = releaseContainer(state, ContainerKey{admitted[i], "c"});
        expectConsistent(topology, options, *policy, state);
      }
      for (std::size_t i = 0; i < admitted.size(); i += 2) {
        PodRequest pod = podOf("again" + std::to_string(i), {guaranteed("c", 2, kPodMemory)});
        auto decision = admitAndCommit(topology, options, *policy, state, pod, pod.containers[0]);
        ASSERT_TRUE(decision.has_value()) << i << ": " << decision.error().toString();
        EXPECT_EQ(nodesOf(topology, decision->allocation.exclusive_cpus).size(), 1);
      }
      // Release all; a pod of 6 CPUs needs two nodes.
      std::vector<ContainerKey> keys;
      for (const auto& [key, allocation] : state.containers()) keys.push_back(key);
      for (const ContainerKey& key : keys) state = releaseContainer(state, key);
      EXPECT_EQ(state.size(), 0U);
      PodRequest wide = podOf("wide", {guaranteed("c", 6, kPodMemory)});
      auto decision = admitAndCommit(topology, options, *policy, state, wide, wide.containers[0]);
      // As in the kubelet: the CPUs' narrowest sets are pairs, the memory's single nodes, so no
      // merged hint is preferred, which only best-effort admits.
      if (row.manager != TopologyManagerPolicy::BestEffort) {
        ASSERT_FALSE(decision.has_value());
        EXPECT_NE(decision.error().toString().find("TopologyAffinityError"), std::string::npos);
      } else {
        ASSERT_TRUE(decision.has_value()) << decision.error().toString();
        NodeSet nodes = nodesOf(topology, decision->allocation.exclusive_cpus);
        EXPECT_EQ(nodes, (NodeSet{0, 1}));
      }
    }
  }
}

// A device on the last node pulls the CPUs (and memory) there.
TEST_F(ManyNumaTest, DevicesPullTheContainerToTheirNode) {
  for (const Machine& machine : kMachines) {
    SCOPED_TRACE(machine.description);
    topology::Topology topology = loadFixture(machine.description);
    PolicyOptions options = manyNumaOptions(topology, TopologyManagerPolicy::Restricted, true);
    auto policy = makeStatic(topology, options);
    ASSERT_NE(policy, nullptr);
    State state;
    const int last = topology.numaNodes().back().id;
    ContainerRequest container = guaranteed("c", 2, kPodMemory);
    container.devices = {DeviceRequest{.resource = "example.com/gpu", .id = "gpu0", .numa = last}};
    PodRequest pod = podOf("gpu", {container});
    auto decision = admitAndCommit(topology, options, *policy, state, pod, container);
    ASSERT_TRUE(decision.has_value()) << decision.error().toString();
    EXPECT_EQ(nodesOf(topology, decision->allocation.exclusive_cpus), NodeSet{last});
    EXPECT_EQ(decision->allocation.memory_nodes, NodeSet{last});
  }
}

// The report's reproduction, `topod simulate --policy static` on the 32-node machine: Guaranteed
// pods added and removed, each on one NUMA node.
TEST_F(ManyNumaTest, SimulatesTheReportedMachine) {
  topology::Topology topology = loadFixture(kMachines[1].description);
  PolicyOptions options = manyNumaOptions(topology, TopologyManagerPolicy::SingleNumaNode, true);
  auto policy = makeStatic(topology, options);
  ASSERT_NE(policy, nullptr);
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += R"({"op":"add","pod":{"uid":"p)" + std::to_string(i) +
            R"("},"containers":[{"name":"c","limits":{"cpu":"2","memory":"256Mi"}}]})" + "\n";
    if (i % 3 == 2) text += R"({"op":"remove","pod":"p)" + std::to_string(i - 1) + R"("})" + "\n";
  }
  auto trace = parseTrace(text, "many-numa");
  ASSERT_TRUE(trace.has_value()) << trace.error().toString();
  auto result = simulate(topology, options, *policy, State{}, *trace, [](const std::string&) {});
  ASSERT_TRUE(result.has_value()) << result.error().toString();
  EXPECT_EQ(result->summary.admitted, 40);
  EXPECT_EQ(result->summary.rejected, 0);
  EXPECT_EQ(result->summary.numa_aligned, 40);
  EXPECT_EQ(result->summary.removed, 13);
  EXPECT_EQ(result->summary.containers, 27);
}

}  // namespace
}  // namespace topod::policies::static_test
