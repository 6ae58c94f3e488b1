// StateTotals are what the policies decide from, so they must always equal the sums over the
// containers, whatever order of put/replace/erase produced the State.
#include <gtest/gtest.h>

#include <random>

#include "policies/state.h"

namespace topod::policies {
namespace {

StateTotals recomputed(const State& state) {
  StateTotals totals;
  for (const auto& [key, allocation] : state.containers()) totals.account(allocation, +1);
  return totals;
}

ContainerAllocation exclusive(CpuSet cpus, int node, uint64_t bytes) {
  ContainerAllocation a{.exclusive_cpus = cpus, .qos = QosClass::Guaranteed};
  a.memory[node]["memory"] = bytes;
  return a;
}

ContainerAllocation pooled(NodeSet nodes, int64_t millis) {
  ContainerAllocation a{.shared_pool_nodes = nodes, .qos = QosClass::Burstable};
  a.request.cpu_request_millis = millis;
  return a;
}

TEST(StateTotalsTest, PutReplaceEraseKeepSums) {
  State state;
  state.put({"p1", "a"}, exclusive(CpuSet{2, 3}, 0, 100));
  state.put({"p2", "b"}, pooled(NodeSet{0, 1}, 500));
  EXPECT_EQ(state.totals().exclusive_cpus, (CpuSet{2, 3}));
  EXPECT_EQ(state.totals().memory.at(0).at("memory"), 100u);
  EXPECT_EQ(state.totals().shared_pools.at(1), (SharedPoolLoad{.containers = 1, .cpu_request_millis = 250}));

  state.put({"p1", "a"}, exclusive(CpuSet{4}, 1, 40));  // replaced: the old share is gone
  EXPECT_EQ(state.totals().exclusive_cpus, (CpuSet{4}));
  EXPECT_FALSE(state.totals().memory.contains(0));
  EXPECT_EQ(state.totals().memory.at(1).at("memory"), 40u);

  EXPECT_TRUE(state.erase({"p1", "a"}));
  EXPECT_FALSE(state.erase({"p1", "a"}));
  EXPECT_TRUE(state.erase({"p2", "b"}));
  EXPECT_EQ(state.totals(), StateTotals{});
}

TEST(StateTotalsTest, CpuHeldByInitAndAppStaysExclusiveUntilBothRelease) {
  State state;
  state.put({"p", "init"}, exclusive(CpuSet{1, 2}, 0, 0));
  state.put({"p", "app"}, exclusive(CpuSet{1}, 0, 0));
  state.erase({"p", "init"});
  EXPECT_EQ(state.totals().exclusive_cpus, (CpuSet{1}));
  state.erase({"p", "app"});
  EXPECT_TRUE(state.totals().exclusive_cpus.empty());
}

TEST(StateTotalsTest, PodContainersAndTotalsWithoutPod) {
  State state;
  state.put({"a", "x"}, exclusive(CpuSet{1}, 0, 10));
  state.put({"b", "x"}, exclusive(CpuSet{2}, 0, 20));
  state.put({"b", "y"}, pooled(NodeSet{1}, 300));
  state.put({"bb", "x"}, exclusive(CpuSet{3}, 1, 30));  // a uid that starts like "b"
  auto [first, last] = state.podContainers("b");
  EXPECT_EQ(std::distance(first, last), 2);

  State without = state;
  without.erase({"b", "x"});
  without.erase({"b", "y"});
  EXPECT_EQ(state.totalsWithoutPod("b"), without.totals());
  EXPECT_EQ(state.totalsWithoutPod("nobody"), state.totals());
}

TEST(StateTotalsTest, RandomSequencesMatchRecomputation) {
  std::mt19937 rng(7);
  State state;
  for (int step = 0; step < 3000; ++step) {
    ContainerKey key{"pod" + std::to_string(rng() % 20), "c" + std::to_string(rng() % 3)};
    switch (rng() % 3) {
      case 0: state.erase(key); break;
      case 1: state.put(key, exclusive(CpuSet{static_cast<int>(rng() % 64)}, rng() % 4, rng() % 1000)); break;
      default: state.put(key, pooled(NodeSet{static_cast<int>(rng() % 4)}, rng() % 4000)); break;
    }
    ASSERT_EQ(state.totals(), recomputed(state)) << "step " << step;
  }
}

}  // namespace
}  // namespace topod::policies
