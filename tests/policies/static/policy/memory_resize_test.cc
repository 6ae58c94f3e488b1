// The composed "static" policy with the Static memory manager, and in-place resize, through the
// Policy interface. Each row is a short script of steps on a fresh State (admit, resize,
// release), each step with its expected outcome; every committed step is followed by the
// engine's invariant check, and every refused step must leave the State exactly as it was.
//
// Machine: testing::twoNuma16Cpus(): CPUs 0-7 on node 0, 8-15 on node 1 (siblings n, n+1), 16 GiB
// and 512 2-MiB huge pages (1 GiB) per node, so 15 GiB of regular memory per node is allocatable
// (the kubelet subtracts the huge pages), minus reserved memory (256 MiB on node 0 unless a row
// says otherwise). Reserved CPUs 0-1.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/policies/engine/engine_topologies.h"
#include "tests/policies/static/policy/static_fixtures.h"

namespace topod::policies::static_test {
namespace {

enum class Op { Admit, Resize, Release };

struct Step {
  Op op = Op::Admit;
  std::string uid;
  int cpus = 0;  // 0: a Burstable container (500m)
  uint64_t memory = kGiB;
  uint64_t hugepages_2m = 0;
  std::string error;  // substring of the refusal; empty: succeeds
  // Checks on the decision (successful admit/resize) and the State after it was committed.
  std::function<void(const Decision&, const State&)> check;
};

struct ScriptRow {
  std::string name;
  bool memory_manager = true;
  TopologyManagerPolicy manager = TopologyManagerPolicy::BestEffort;
  uint64_t reserved_memory_node0 = 0;
  std::vector<Step> steps;
};

ContainerRequest containerOf(const Step& step) {
  ContainerRequest c = step.cpus > 0 ? guaranteed("c", step.cpus, step.memory) : burstable("c", 500, step.memory);
  if (step.hugepages_2m > 0) c.hugepages[k2MiB] = step.hugepages_2m;
  return c;
}

class MemoryResizeTest : public ::testing::TestWithParam<ScriptRow> {};

TEST_P(MemoryResizeTest, Script) {
  const ScriptRow& row = GetParam();
  topology::Topology topology = testing::twoNuma16Cpus();
  PolicyOptions options;
  options.policy = "static";
  options.reserved_cpus = CpuSet{0, 1};
  options.topology_manager.policy = row.manager;
  if (row.memory_manager) options.memory_policy = MemoryManagerPolicy::Static;
  // The kubelet's Static memory manager needs some reserved memory; 256 MiB unless the row says.
  constexpr uint64_t kDefaultReserved = 256 * kMiB;
  if (row.memory_manager) {
    options.reserved_memory[0]["memory"] = row.reserved_memory_node0 > 0 ? row.reserved_memory_node0 : kDefaultReserved;
  }
  auto policy = makeStatic(topology, options);
  ASSERT_NE(policy, nullptr);
  State state;
  for (std::size_t i = 0; i < row.steps.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(i) + " (" + row.steps[i].uid + ")");
    const Step& step = row.steps[i];
    ContainerRequest c = containerOf(step);
    PodRequest pod = podOf(step.uid, {c});
    if (step.op == Op::Release) {
      state = releaseContainer(state, {step.uid, "c"});
      expectConsistent(topology, options, *policy, state);
      continue;
    }
    const State before = state;
    auto decision = step.op == Op::Admit ? policy->admit(state, pod, c) : policy->resize(state, pod, c);
    if (!step.error.empty()) {
      ASSERT_FALSE(decision.has_value()) << decision->explanation;
      EXPECT_NE(decision.error().message().find(step.error), std::string::npos) << decision.error().toString();
      EXPECT_EQ(state, before);
      continue;
    }
    ASSERT_TRUE(decision.has_value()) << decision.error().toString();
    state = applyDecision(state, *decision);
    expectConsistent(topology, options, *policy, state);
    if (step.op == Op::Resize && step.cpus > 0) {
      const CpuSet& old_cpus = before.containers().at({step.uid, "c"}).exclusive_cpus;
      const CpuSet& new_cpus = decision->allocation.exclusive_cpus;
      EXPECT_EQ(new_cpus.size(), step.cpus);
      // Grow keeps every CPU; shrink keeps a subset.
      EXPECT_TRUE(old_cpus.size() <= new_cpus.size() ? old_cpus.isSubsetOf(new_cpus) : new_cpus.isSubsetOf(old_cpus))
          << old_cpus.toString() << " -> " << new_cpus.toString();
    }
    if (step.check) step.check(*decision, state);
  }
}

uint64_t charged(const Decision& d, const std::string& resource) {
  uint64_t total = 0;
  for (const auto& [node, amounts] : d.allocation.memory) {
    auto it = amounts.find(resource);
    if (it != amounts.end()) total += it->second;
  }
  return total;
}

// Memory on the node(s) of the CPUs, and cpuset.mems = those nodes.
void expectAligned(const Decision& d, const NodeSet& nodes) {
  EXPECT_EQ(d.allocation.memory_nodes, nodes) << d.explanation;
  EXPECT_EQ(d.placement.mems, nodes);
  EXPECT_EQ(nodesOf(testing::twoNuma16Cpus(), d.allocation.exclusive_cpus).size() <= nodes.size(), true)
      << d.allocation.exclusive_cpus.toString();
  for (const auto& [node, amounts] : d.allocation.memory) EXPECT_TRUE(nodes.contains(node)) << node;
}

std::vector<ScriptRow> scriptRows() {
  using enum Op;
  const std::string affinity_error = "TopologyAffinityError";
  const std::string no_nodes_error = "[memorymanager] failed to find NUMA nodes to extend the current topology hint";
  return {
      {"GuaranteedMemoryOnItsCpusNode",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "db", 2, 2 * kGiB, 0, "",
         [](const Decision& d, const State&) {
           ASSERT_EQ(d.allocation.memory_nodes.size(), 1);
           expectAligned(d, nodesOf(testing::twoNuma16Cpus(), d.allocation.exclusive_cpus));
           EXPECT_EQ(charged(d, "memory"), 2 * kGiB);
         }}}},
      {"HugepagesChargedNextToMemory",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "hp", 2, kGiB, 256 * kMiB, "",
         [](const Decision& d, const State&) {
           ASSERT_EQ(d.allocation.memory_nodes.size(), 1);
           EXPECT_EQ(charged(d, "hugepages-2Mi"), 256 * kMiB);
           EXPECT_EQ(d.allocation.memory.at(d.allocation.memory_nodes.first()).at("hugepages-2Mi"), 256 * kMiB);
         }}}},
      {"HugepagesBeyondOneNodeSpanTwo",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "hp", 2, kGiB, 1536 * kMiB, "",
         [](const Decision& d, const State&) {
           expectAligned(d, NodeSet{0, 1});
           EXPECT_EQ(charged(d, "hugepages-2Mi"), 1536 * kMiB);
         }}}},
      {"MemoryBeyondOneNodeMakesAMultiNumaGroup",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "big", 2, 20 * kGiB, 0, "",
         [](const Decision& d, const State&) {
           expectAligned(d, NodeSet{0, 1});
           EXPECT_EQ(charged(d, "memory"), 20 * kGiB);
         }}}},
      {"MultiNumaGroupRefusedUnderSingleNumaNode",
       true,
       TopologyManagerPolicy::SingleNumaNode,
       0,
       {{Admit, "big", 2, 20 * kGiB, 0, affinity_error, nullptr}}},
      {"NodesOfAGroupOnlyServeThatGroup",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "big", 2, 20 * kGiB, 0, "", nullptr},
        {Admit, "small", 2, kGiB, 0, "",
         [](const Decision& d, const State&) {
           expectAligned(d, NodeSet{0, 1});
         }}}},
      // No node set has the memory free: like the kubelet, the memory manager then gives no hint
      // (no preference), the topology manager admits on the CPU hint, and the memory manager's
      // allocation refuses with its own reason.
      {"FullNodesRefuseWithTheMemoryManagersReason",
       true,
       TopologyManagerPolicy::SingleNumaNode,
       0,
       {{Admit, "a", 2, 14 * kGiB, 0, "", nullptr},
        {Admit, "b", 2, 14 * kGiB, 0, "", nullptr},
        {Admit, "c", 2, 2 * kGiB, 0, no_nodes_error, nullptr}}},
      {"ReservedMemoryMovesTheContainerToTheOtherNode",
       true,
       TopologyManagerPolicy::BestEffort,
       14 * kGiB,
       {{Admit, "db", 2, 2 * kGiB, 0, "",
         [](const Decision& d, const State&) {
           expectAligned(d, NodeSet{1});
           EXPECT_TRUE(d.allocation.exclusive_cpus.isSubsetOf(CpuSet::range(8, 15)));
         }}}},
      {"BurstableIsNotPinned",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "web", 0, 2 * kGiB, 0, "",
         [](const Decision& d, const State&) {
           EXPECT_TRUE(d.allocation.memory_nodes.empty());
           EXPECT_TRUE(d.allocation.memory.empty());
           EXPECT_TRUE(d.placement.mems.empty());
         }}}},
      {"MoreMemoryThanTheMachineIsRefused",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "huge", 2, 40 * kGiB, 0, "memory", nullptr}}},
      {"ReleasedMemoryCanBeUsedAgain",
       true,
       TopologyManagerPolicy::SingleNumaNode,
       0,
       {{Admit, "a", 2, 14 * kGiB, 0, "", nullptr},
        {Admit, "b", 2, 14 * kGiB, 0, "", nullptr},
        {Admit, "c", 2, 14 * kGiB, 0, no_nodes_error, nullptr},
        {Release, "a"},
        {Admit, "c", 2, 14 * kGiB, 0, "", nullptr}}},
      // Resize.
      {"GrowKeepsItsCpusAndStaysOnItsNode",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "db", 2, kGiB, 0, "", nullptr},
        {Resize, "db", 4, kGiB, 0, "",
         [](const Decision& d, const State&) {
           EXPECT_EQ(nodesOf(testing::twoNuma16Cpus(), d.allocation.exclusive_cpus).size(), 1);
         }}}},
      {"ShrinkKeepsASubset",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "db", 6, kGiB, 0, "", nullptr}, {Resize, "db", 2, kGiB, 0, "", nullptr}}},
      {"GrowPastItsNodeSpills",
       false,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "db", 6, kGiB, 0, "", nullptr},
        {Resize, "db", 10, kGiB, 0, "",
         [](const Decision& d, const State&) {
           EXPECT_EQ(nodesOf(testing::twoNuma16Cpus(), d.allocation.exclusive_cpus).size(), 2);
         }}}},
      {"GrowBeyondTheMachineIsRefusedAndKept",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "db", 4, kGiB, 0, "", nullptr},
        {Admit, "other", 8, kGiB, 0, "", nullptr},
        {Resize, "db", 8, kGiB, 0, "resize refused, allocation kept", nullptr}}},
      {"ResizeOfAnUnknownContainerIsNotFound",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Resize, "ghost", 2, kGiB, 0, "is not admitted", nullptr}}},
      {"MemoryGrowWithinItsNode",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "db", 2, 2 * kGiB, 0, "", nullptr},
        {Resize, "db", 2, 12 * kGiB, 0, "",
         [](const Decision& d, const State&) {
           ASSERT_EQ(d.allocation.memory_nodes.size(), 1);
           EXPECT_EQ(charged(d, "memory"), 12 * kGiB);
         }}}},
      {"MemoryGrowPastItsNodeExtendsToAnUnusedNode",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "db", 2, 2 * kGiB, 0, "", nullptr},
        {Resize, "db", 2, 20 * kGiB, 0, "",
         [](const Decision& d, const State&) {
           EXPECT_EQ(d.allocation.memory_nodes, (NodeSet{0, 1}));
           EXPECT_EQ(charged(d, "memory"), 20 * kGiB);
         }}}},
      {"MemoryGrowPastTheMachineIsRefusedAndKept",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "db", 2, 2 * kGiB, 0, "", nullptr},
        {Resize, "db", 2, 40 * kGiB, 0, "resize refused, allocation kept", nullptr}}},
      {"BurstableResizeStaysShared",
       true,
       TopologyManagerPolicy::BestEffort,
       0,
       {{Admit, "web", 0, kGiB, 0, "", nullptr},
        {Resize, "web", 0, 2 * kGiB, 0, "",
         [](const Decision& d, const State&) {
           EXPECT_TRUE(d.allocation.exclusive_cpus.empty());
           EXPECT_NE(d.explanation.find("shared pool"), std::string::npos) << d.explanation;
         }}}},
  };
}

INSTANTIATE_TEST_SUITE_P(Rows, MemoryResizeTest, ::testing::ValuesIn(scriptRows()),
                         [](const ::testing::TestParamInfo<ScriptRow>& row_info) { return row_info.param.name; });

}  // namespace
}  // namespace topod::policies::static_test
