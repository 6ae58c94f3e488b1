// Init-container reuse through the composed "static" policy (topology manager + static CPU
// manager + Static memory manager): app containers take over the CPUs and the memory of their
// pod's init containers, the engine's invariant checker accepts the result after every step,
// and pod-scope hints computed from the totals equal the hints computed on a copy of the State
// without the pod.
//
// Machine: testing::twoNuma16Cpus(): CPUs 0-7 on node 0, 8-15 on node 1, 16 GiB and 1 GiB of
// 2-MiB huge pages per node (15 GiB regular memory allocatable); reserved CPUs 0-1, 256 MiB
// reserved memory on node 0.
#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>
#include <vector>

#include "policies/static/cpu/static_cpu_policy.h"
#include "policies/static/memory/static_memory_policy.h"
#include "tests/policies/engine/engine_topologies.h"
#include "tests/policies/static/policy/static_fixtures.h"

namespace topod::policies::static_test {
namespace {

PolicyOptions memoryOptions(TopologyManagerScope scope = TopologyManagerScope::Container) {
  PolicyOptions options;
  options.policy = "static";
  options.reserved_cpus = CpuSet{0, 1};
  options.memory_policy = MemoryManagerPolicy::Static;
  options.reserved_memory[0][kResourceMemory] = 256 * kMiB;
  options.topology_manager.policy = TopologyManagerPolicy::SingleNumaNode;
  options.topology_manager.scope = scope;
  return options;
}

ContainerRequest ofKind(ContainerRequest c, ContainerKind kind) {
  c.kind = kind;
  return c;
}

uint64_t chargedOn(const State& state, int node) {
  auto it = state.totals().pinned_memory.find(node);
  if (it == state.totals().pinned_memory.end()) return 0;
  auto bytes = it->second.find(kResourceMemory);
  return bytes == it->second.end() ? 0 : bytes->second;
}

TEST(StaticInitReuse, AppsTakeOverTheInitContainersCpusAndMemory) {
  for (TopologyManagerScope scope : {TopologyManagerScope::Container, TopologyManagerScope::Pod}) {
    SCOPED_TRACE(scope == TopologyManagerScope::Pod ? "pod scope" : "container scope");
    const topology::Topology topology = testing::twoNuma16Cpus();
    const PolicyOptions options = memoryOptions(scope);
    auto policy = makeStatic(topology, options);
    ASSERT_NE(policy, nullptr);
    // 12 GiB of init container, then two apps of 6 GiB: 12 GiB on one node, not 24.
    PodRequest pod = podOf("p", {ofKind(guaranteed("init", 4, 12 * kGiB), ContainerKind::Init),
                                 guaranteed("app1", 2, 6 * kGiB), guaranteed("app2", 2, 6 * kGiB)});
    State state;
    for (const ContainerRequest& container : pod.containers) {
      auto decision = admitAndCommit(topology, options, *policy, state, pod, container);
      ASSERT_TRUE(decision.has_value()) << container.name << ": " << decision.error().toString();
    }
    // Copies: admitting below replaces the State these would point into.
    const ContainerAllocation init = *state.find({"p", "init"});
    const ContainerAllocation app1 = *state.find({"p", "app1"});
    const ContainerAllocation app2 = *state.find({"p", "app2"});
    EXPECT_EQ(app1.memory_nodes, init.memory_nodes);
    EXPECT_EQ(app2.memory_nodes, init.memory_nodes);
    // The CPUs: the apps may take the init container's (the kubelet's cpusToReuse) on top of the
    // free ones; 6 CPUs on the node, 4 held by the init container, 4 asked for by the apps.
    EXPECT_EQ(nodesOf(topology, app1.exclusive_cpus | app2.exclusive_cpus), init.memory_nodes);
    const int node = init.memory_nodes.first();
    EXPECT_EQ(chargedOn(state, node), 12 * kGiB);
    // Another pod cannot have what the first one holds: 15 GiB allocatable, 12 GiB used on that
    // node, so a 4 GiB single-NUMA container goes to the other node.
    PodRequest other = podOf("q", {guaranteed("app", 2, 4 * kGiB)});
    auto placed = admitAndCommit(topology, options, *policy, state, other, other.containers[0]);
    ASSERT_TRUE(placed.has_value()) << placed.error().toString();
    EXPECT_NE(placed->allocation.memory_nodes, init.memory_nodes);
  }
}

TEST(StaticInitReuse, WithoutReuseTheAppWouldNotFit) {
  // 12 GiB init container and a 12 GiB app on a 15 GiB node: only reuse lets the app in
  // (single-numa-node), exactly as the kubelet admits it.
  const topology::Topology topology = testing::twoNuma16Cpus();
  const PolicyOptions options = memoryOptions();
  auto policy = makeStatic(topology, options);
  ASSERT_NE(policy, nullptr);
  State state;
  PodRequest filler = podOf("filler", {guaranteed("app", 2, 12 * kGiB)});
  ASSERT_TRUE(admitAndCommit(topology, options, *policy, state, filler, filler.containers[0]).has_value());
  PodRequest pod =
      podOf("p", {ofKind(guaranteed("init", 2, 12 * kGiB), ContainerKind::Init), guaranteed("app", 2, 12 * kGiB)});
  ASSERT_TRUE(admitAndCommit(topology, options, *policy, state, pod, pod.containers[0]).has_value());
  auto app = admitAndCommit(topology, options, *policy, state, pod, pod.containers[1]);
  ASSERT_TRUE(app.has_value()) << app.error().toString();
  EXPECT_EQ(app->allocation.memory_nodes, state.find({"p", "init"})->memory_nodes);
  // A second pod of the same shape finds no node with 12 GiB free.
  PodRequest late = podOf("late", {guaranteed("app", 2, 12 * kGiB)});
  EXPECT_FALSE(policy->admit(state, late, late.containers[0]).has_value());
}

// podHintsWithoutPod() must say what podHints() says on a State from which the pod was removed.
TEST(StaticInitReuse, PodHintsWithoutPodEqualHintsOnAStrippedCopy) {
  const topology::Topology topology = testing::twoNuma16Cpus();
  const PolicyOptions options = memoryOptions();
  auto cpu = cpu::StaticCpuPolicy::create(topology, options);
  ASSERT_TRUE(cpu.has_value());
  auto memory = memory::StaticMemoryPolicy::create(topology, options.reserved_memory);
  ASSERT_TRUE(memory.has_value());
  auto policy = makeStatic(topology, options);
  ASSERT_NE(policy, nullptr);
  std::mt19937 rng(3);
  State state;
  int checked = 0;
  for (int step = 0; step < 300; ++step) {
    const std::string uid = "pod" + std::to_string(rng() % 8);
    const ContainerKind kind = std::array{ContainerKind::Init, ContainerKind::Sidecar, ContainerKind::App}[rng() % 3];
    const std::string name = "c" + std::to_string(rng() % 3);
    ContainerRequest request = ofKind(guaranteed(name, 1 + static_cast<int>(rng() % 3), (1 + rng() % 4) * kGiB), kind);
    PodRequest pod = podOf(uid, {request, ofKind(guaranteed("other", 1, kGiB), ContainerKind::App)});
    if (rng() % 4 == 0) {
      state.erase({uid, name});
    } else if (auto decision = policy->admit(state, pod, request); decision.has_value()) {
      state = applyDecision(state, *decision);
    }
    State stripped = state;
    auto [first, last] = state.podContainers(uid);
    for (auto it = first; it != last; ++it) stripped.erase(it->first);
    ASSERT_EQ(cpu->podHintsWithoutPod(state, pod), cpu->podHints(stripped, pod)) << "step " << step;
    ASSERT_EQ(memory->podHintsWithoutPod(state, pod), memory->podHints(stripped, pod)) << "step " << step;
    checked += first != last ? 1 : 0;
  }
  EXPECT_GT(checked, 100);  // most steps had the pod in the State, so leaving it out mattered
}

}  // namespace
}  // namespace topod::policies::static_test
