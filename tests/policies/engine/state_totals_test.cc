// StateTotals are what the policies decide from, so they must always equal the sums over the
// containers, whatever order of put/replace/erase produced the State. The reference below is
// written independently of state.cc: plain loops over every container.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>

#include "policies/state.h"

namespace topod::policies {
namespace {

bool pinned(const ContainerAllocation& a) {
  return a.qos == QosClass::Guaranteed && !a.memory.empty();
}

// What each pod holds per node and resource, init-container reuse counted: per memory group the
// larger of its sidecars and apps together and of each init container plus what ran beside it.
NumaMemory referenceMemory(const State& state, bool pinned_only) {
  // pod -> group -> node -> resource -> (sidecars and apps, largest init peak)
  std::map<std::string, std::map<NodeSet, std::map<int, std::map<std::string, std::pair<uint64_t, uint64_t>>>>> parts;
  for (const auto& [key, a] : state.containers()) {
    if (a.memory.empty() || (pinned_only && !pinned(a))) continue;
    auto& group = parts[key.pod_uid][a.memory_nodes];
    if (a.request.kind == ContainerKind::Init) {
      NumaMemory peak = a.memory;
      for (const auto& [node, resources] : a.memory_beside) {
        for (const auto& [resource, bytes] : resources) peak[node][resource] += bytes;
      }
      for (const auto& [node, resources] : peak) {
        for (const auto& [resource, bytes] : resources) {
          uint64_t& init = group[node][resource].second;
          init = std::max(init, bytes);
        }
      }
    } else {
      for (const auto& [node, resources] : a.memory) {
        for (const auto& [resource, bytes] : resources) group[node][resource].first += bytes;
      }
    }
  }
  NumaMemory total;
  for (const auto& [pod, groups] : parts) {
    for (const auto& [group, nodes] : groups) {
      for (const auto& [node, resources] : nodes) {
        for (const auto& [resource, sums] : resources) {
          uint64_t held = std::max(sums.first, sums.second);
          if (held != 0) total[node][resource] += held;
        }
      }
    }
  }
  return total;
}

StateTotals recomputed(const State& state) {
  StateTotals totals;
  std::map<int, int> holders;
  for (const auto& [key, a] : state.containers()) {
    for (int cpu : a.exclusive_cpus) ++holders[cpu];
    if (a.exclusive_cpus.empty() && !a.shared_pool_nodes.empty()) {
      for (int node : a.shared_pool_nodes) {
        totals.shared_pools[node].containers += 1;
        totals.shared_pools[node].cpu_request_millis += a.request.cpu_request_millis / a.shared_pool_nodes.size();
      }
    }
    if (pinned(a)) {
      NodeSet group = a.memory_nodes;
      for (const auto& [node, resources] : a.memory) group.insert(node);
      for (int node : group) ++totals.pinned_groups[node][group];
    }
  }
  for (const auto& [cpu, count] : holders) {
    totals.exclusive_cpus.insert(cpu);
    if (count > 1) totals.extra_holders[cpu] = count - 1;
  }
  std::erase_if(totals.shared_pools, [](const auto& entry) { return entry.second == SharedPoolLoad{}; });
  for (const auto& [key, a] : state.containers()) {
    for (const auto& [node, resources] : a.memory) {
      for (const auto& [resource, bytes] : resources) {
        if (bytes != 0) totals.memory[node][resource] += bytes;
      }
    }
  }
  totals.pinned_memory = referenceMemory(state, true);
  return totals;
}

ContainerAllocation exclusive(CpuSet cpus, int node, uint64_t bytes) {
  ContainerAllocation a{.exclusive_cpus = cpus, .memory_nodes = NodeSet{node}, .qos = QosClass::Guaranteed};
  a.memory[node]["memory"] = bytes;
  return a;
}

ContainerAllocation pooled(NodeSet nodes, int64_t millis) {
  ContainerAllocation a{.shared_pool_nodes = nodes, .qos = QosClass::Burstable};
  a.request.cpu_request_millis = millis;
  return a;
}

ContainerAllocation ofKind(ContainerAllocation a, ContainerKind kind) {
  a.request.kind = kind;
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
  EXPECT_EQ(state.totals().pinned_groups.at(1).at(NodeSet{1}), 1);

  EXPECT_TRUE(state.erase({"p1", "a"}));
  EXPECT_FALSE(state.erase({"p1", "a"}));
  EXPECT_TRUE(state.erase({"p2", "b"}));
  EXPECT_EQ(state.totals(), StateTotals{});
}

TEST(StateTotalsTest, CpuHeldByInitAndAppStaysExclusiveUntilBothRelease) {
  State state;
  state.put({"p", "init"}, ofKind(exclusive(CpuSet{1, 2}, 0, 0), ContainerKind::Init));
  state.put({"p", "app"}, exclusive(CpuSet{1}, 0, 0));
  EXPECT_EQ(state.totals().extra_holders, (std::map<int, int>{{1, 1}}));
  EXPECT_EQ(state.exclusiveCpusWithoutPod("p"), CpuSet{});
  state.erase({"p", "init"});
  EXPECT_EQ(state.totals().exclusive_cpus, (CpuSet{1}));
  EXPECT_TRUE(state.totals().extra_holders.empty());
  state.erase({"p", "app"});
  EXPECT_TRUE(state.totals().exclusive_cpus.empty());
}

TEST(StateTotalsTest, AppsReuseTheirPodsInitMemoryOnTheSameGroupOnly) {
  State state;
  state.put({"p", "init"}, ofKind(exclusive(CpuSet{}, 0, 700), ContainerKind::Init));
  state.put({"p", "app1"}, exclusive(CpuSet{}, 0, 300));
  state.put({"p", "app2"}, exclusive(CpuSet{}, 0, 300));
  EXPECT_EQ(state.totals().pinned_memory.at(0).at("memory"), 700u);  // max(700, 300 + 300)
  state.put({"p", "app3"}, exclusive(CpuSet{}, 0, 300));
  EXPECT_EQ(state.totals().pinned_memory.at(0).at("memory"), 900u);  // the apps outgrow the init container
  state.put({"q", "app"}, exclusive(CpuSet{}, 0, 100));              // another pod reuses nothing
  EXPECT_EQ(state.totals().pinned_memory.at(0).at("memory"), 1000u);
  ContainerAllocation elsewhere = exclusive(CpuSet{}, 0, 50);
  elsewhere.memory_nodes = NodeSet{0, 1};  // another group of the same pod reuses nothing either
  state.put({"p", "wide"}, elsewhere);
  EXPECT_EQ(state.totals().pinned_memory.at(0).at("memory"), 1050u);
  state.erase({"p", "init"});  // the init container's memory is gone, the apps keep theirs
  EXPECT_EQ(state.totals().pinned_memory.at(0).at("memory"), 1050u);
}

TEST(StateTotalsTest, InitContainerRunsBesideTheSidecarsBeforeIt) {
  State state;
  state.put({"p", "sidecar"}, ofKind(exclusive(CpuSet{}, 0, 200), ContainerKind::Sidecar));
  ContainerAllocation init = ofKind(exclusive(CpuSet{}, 0, 300), ContainerKind::Init);
  init.memory_beside[0]["memory"] = 200;
  state.put({"p", "init"}, init);
  EXPECT_EQ(state.totals().pinned_memory.at(0).at("memory"), 500u);  // both run at once
  state.put({"p", "app"}, exclusive(CpuSet{}, 0, 250));
  EXPECT_EQ(state.totals().pinned_memory.at(0).at("memory"), 500u);  // max(200 + 250, 300 + 200)
  // The plain sum, as topology-aware charges (it never charges init containers itself).
  EXPECT_EQ(state.totals().memory.at(0).at("memory"), 750u);
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

// A random allocation of one of a few pods: exclusive or pooled, init/sidecar/app, Guaranteed
// or Burstable, on one of three memory groups, sometimes with memory beside it.
ContainerAllocation randomAllocation(std::mt19937& rng) {
  ContainerAllocation a;
  a.qos = rng() % 4 == 0 ? QosClass::Burstable : QosClass::Guaranteed;
  a.request.kind = std::array{ContainerKind::Init, ContainerKind::Sidecar, ContainerKind::App}[rng() % 3];
  a.request.cpu_request_millis = static_cast<int64_t>(rng() % 4000);
  if (rng() % 2 == 0) {
    for (int i = static_cast<int>(rng() % 3); i >= 0; --i) a.exclusive_cpus.insert(static_cast<int>(rng() % 24));
  } else if (rng() % 2 == 0) {
    a.shared_pool_nodes = rng() % 2 == 0 ? NodeSet{0} : NodeSet{0, 1};
  }
  static const std::array<NodeSet, 3> kGroups = {NodeSet{0}, NodeSet{1}, NodeSet{0, 1}};
  if (rng() % 3 != 0) {
    a.memory_nodes = kGroups[rng() % kGroups.size()];
    for (int node : a.memory_nodes) {
      a.memory[node]["memory"] = rng() % 1000;
      if (rng() % 3 == 0) a.memory[node]["hugepages-2Mi"] = (rng() % 4) * 2048 * 1024;
    }
    if (a.request.kind == ContainerKind::Init && rng() % 2 == 0)
      a.memory_beside[a.memory_nodes.first()]["memory"] = rng() % 500;
  }
  return a;
}

TEST(StateTotalsTest, RandomSequencesMatchRecomputation) {
  std::mt19937 rng(7);
  State state;
  for (int step = 0; step < 4000; ++step) {
    ContainerKey key{"pod" + std::to_string(rng() % 12), "c" + std::to_string(rng() % 4)};
    if (rng() % 4 == 0) {
      state.erase(key);
    } else {
      state.put(key, randomAllocation(rng));
    }
    ASSERT_EQ(state.totals(), recomputed(state)) << "step " << step;
    // A State built in one go from the same containers has the same totals.
    ASSERT_EQ(State(state.containers()).totals(), state.totals()) << "step " << step;
    if (step % 10 != 0) continue;
    // Leaving a pod or a container out, as pod-scope hints and resize do, without a copy.
    const std::string pod = "pod" + std::to_string(rng() % 12);
    State without_pod = state;
    auto [first, last] = state.podContainers(pod);
    for (auto it = first; it != last; ++it) without_pod.erase(it->first);
    ASSERT_EQ(state.totalsWithoutPod(pod), without_pod.totals()) << "step " << step;
    ASSERT_EQ(state.exclusiveCpusWithoutPod(pod), without_pod.totals().exclusive_cpus) << "step " << step;
    State without_key = state;
    without_key.erase(key);
    ASSERT_EQ(state.totalsWithout(key), without_key.totals()) << "step " << step;
  }
}

}  // namespace
}  // namespace topod::policies
