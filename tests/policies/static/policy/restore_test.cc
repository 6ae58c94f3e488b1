// Restore of an existing State by the composed "static" policy: a State built by earlier admits
// is written as the versioned JSON checkpoint, read back, validated, and handed to a fresh policy
// (as after a restart); the fresh policy must then decide exactly as the original would have, on
// every fixture, topology manager policy and memory manager setting. Also: hand-written initial
// states (containers pinned to given CPUs) are placed around, and inconsistent ones are refused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "state/state_json.h"
#include "tests/policies/static/policy/static_fixtures.h"

namespace topod::policies::static_test {
namespace {

struct RestoreRow {
  std::string name;
  std::string fixture;
  TopologyManagerPolicy manager;
  bool memory_manager;
};

class RestoreTest : public ::testing::TestWithParam<RestoreRow> {};

PolicyOptions optionsFor(const topology::Topology& topology, const RestoreRow& row) {
  PolicyOptions options = staticOptions(topology);
  options.topology_manager.policy = row.manager;
  if (row.memory_manager) {
    options.memory_policy = MemoryManagerPolicy::Static;
    options.reserved_memory[topology.numaNodes().front().id]["memory"] = kGiB;
  }
  return options;
}

// Pods before the restart: mixed sizes, a Burstable one, a pod with an init container and an app
// container, and one whose memory needs more than half a node.
std::vector<PodRequest> before(const topology::Topology& topology) {
  int node = smallestNode(topology, topology.siblingsOf(topology.onlineCpus().first()));
  PodRequest init_pod = podOf("init-pod", {guaranteed("setup", 4), guaranteed("app", 2)});
  init_pod.containers[0].kind = ContainerKind::Init;
  return {podOf("a", {guaranteed("c", 2)}), podOf("b", {guaranteed("c", node / 2)}),
          podOf("web", {burstable("c", 500)}), init_pod, podOf("c", {guaranteed("c", 3, 4 * kGiB)})};
}

std::vector<PodRequest> after(const topology::Topology& topology) {
  int node = smallestNode(topology, topology.siblingsOf(topology.onlineCpus().first()));
  return {podOf("d", {guaranteed("c", 1)}), podOf("e", {guaranteed("c", node - 2)}), podOf("f", {burstable("c", 250)}),
          podOf("g", {guaranteed("c", 2, 2 * kGiB)})};
}

TEST_P(RestoreTest, AFreshPolicyDecidesAsTheOriginal) {
  const RestoreRow& row = GetParam();
  topology::Topology topology = loadFixture(row.fixture);
  PolicyOptions options = optionsFor(topology, row);
  auto original = makeStatic(topology, options);
  ASSERT_NE(original, nullptr);
  State state;
  for (const PodRequest& pod : before(topology)) {
    for (const ContainerRequest& c : pod.containers) {
      auto d = admitAndCommit(topology, options, *original, state, pod, c);
      ASSERT_TRUE(d.has_value()) << pod.uid << "/" << c.name << ": " << d.error().toString();
    }
  }

  auto restored = parseState(serializeState(state), "checkpoint.json");
  ASSERT_TRUE(restored.has_value()) << restored.error().toString();
  EXPECT_EQ(*restored, state);
  auto fresh = makeStatic(topology, options);
  ASSERT_NE(fresh, nullptr);
  StateCheckOptions check;
  check.policy = fresh.get();
  Status valid = validateRestoredState(topology, options, *restored, "checkpoint.json", check);
  EXPECT_TRUE(valid.has_value()) << valid.error().toString();
  EXPECT_EQ(fresh->placements(*restored), original->placements(state));
  EXPECT_EQ(fresh->sharedCpus(*restored), original->sharedCpus(state));

  // A container the runtime announces again keeps what it has.
  PodRequest a = before(topology)[0];
  auto again = fresh->admit(*restored, a, a.containers[0]);
  ASSERT_TRUE(again.has_value()) << again.error().toString();
  EXPECT_EQ(again->allocation.exclusive_cpus, state.containers().at({"a", "c"}).exclusive_cpus);

  // More admissions: same answers (allocation, placement, refusal) from both.
  State original_state = state;
  State fresh_state = *restored;
  for (const PodRequest& pod : after(topology)) {
    const ContainerRequest& c = pod.containers[0];
    auto want = original->admit(original_state, pod, c);
    auto got = fresh->admit(fresh_state, pod, c);
    ASSERT_EQ(got.has_value(), want.has_value()) << pod.uid;
    if (!want.has_value()) {
      EXPECT_EQ(got.error().message(), want.error().message());
      continue;
    }
    EXPECT_EQ(got->allocation, want->allocation) << pod.uid;
    EXPECT_EQ(got->placement, want->placement) << pod.uid;
    original_state = applyDecision(original_state, *want);
    fresh_state = applyDecision(fresh_state, *got);
    expectConsistent(topology, options, *fresh, fresh_state);
  }
}

std::vector<RestoreRow> restoreRows() {
  std::vector<RestoreRow> rows;
  for (auto [label, fixture] :
       {std::pair{"Gpu2s2x16c", "gpu-2s-2x16c-smt2-4gpu-2nic"}, std::pair{"IntelSnc2", "intel-2s-snc2-2x32c-smt2"},
        std::pair{"Synthetic4Numa", "synthetic:pack:2 numa:2 core:4 pu:2"}}) {
    for (auto [manager_label, manager] : {std::pair{"BestEffort", TopologyManagerPolicy::BestEffort},
                                          std::pair{"SingleNumaNode", TopologyManagerPolicy::SingleNumaNode},
                                          std::pair{"None", TopologyManagerPolicy::None}}) {
      for (bool memory : {false, true}) {
        // hwloc synthetic machines carry no realistic memory sizes: memory manager rows use the
        // captured machines only.
        if (memory && std::string(fixture).rfind("synthetic:", 0) == 0) continue;
        rows.push_back(
            {std::string(label) + "_" + manager_label + (memory ? "_MemoryManager" : ""), fixture, manager, memory});
      }
    }
  }
  return rows;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RestoreTest, ::testing::ValuesIn(restoreRows()),
                         [](const ::testing::TestParamInfo<RestoreRow>& row_info) { return row_info.param.name; });

// Hand-written initial states (the simulator's --state, or containers found running at start).
struct InitialStateRow {
  std::string name;
  std::vector<std::pair<std::string, std::string>> pinned;  // pod uid -> exclusive CPU list
  std::string violation;  // substring of validateRestoredState's refusal; empty: valid
};

class InitialStateTest : public ::testing::TestWithParam<InitialStateRow> {};

TEST_P(InitialStateTest, AdoptedAndPlacedAroundOrRefused) {
  const InitialStateRow& row = GetParam();
  topology::Topology topology = loadFixture("synthetic:pack:2 numa:2 core:4 pu:2");
  PolicyOptions options = staticOptions(topology);
  auto policy = makeStatic(topology, options);
  ASSERT_NE(policy, nullptr);
  State state;
  CpuSet pinned_cpus;
  for (const auto& [uid, list] : row.pinned) {
    ContainerAllocation allocation;
    allocation.exclusive_cpus = CpuSet::parse(list).value();
    allocation.request = guaranteed("c", allocation.exclusive_cpus.size());
    allocation.qos = QosClass::Guaranteed;
    state.put({uid, "c"}, allocation);
    pinned_cpus |= allocation.exclusive_cpus;
  }
  StateCheckOptions check;
  check.policy = policy.get();
  Status valid = validateRestoredState(topology, options, state, "initial.json", check);
  if (!row.violation.empty()) {
    ASSERT_FALSE(valid.has_value());
    EXPECT_EQ(valid.error().code(), ErrorCode::FailedPrecondition);
    EXPECT_NE(valid.error().message().find(row.violation), std::string::npos) << valid.error().toString();
    EXPECT_NE(valid.error().message().find("initial.json"), std::string::npos);
    return;
  }
  ASSERT_TRUE(valid.has_value()) << valid.error().toString();
  for (const auto& [uid, list] : row.pinned) {
    EXPECT_EQ(policy->placements(state).at({uid, "c"}).cpus.toString(), CpuSet::parse(list).value().toString());
  }
  for (int i = 0; i < 3; ++i) {
    PodRequest pod = podOf("new-" + std::to_string(i), {guaranteed("c", 2)});
    auto d = admitAndCommit(topology, options, *policy, state, pod, pod.containers[0]);
    ASSERT_TRUE(d.has_value()) << d.error().toString();
    EXPECT_FALSE(d->allocation.exclusive_cpus.intersects(pinned_cpus)) << d->allocation.exclusive_cpus.toString();
  }
  EXPECT_FALSE(policy->sharedCpus(state).intersects(pinned_cpus));
}

// synthetic pack:2 numa:2 core:4 pu:2: 32 CPUs, 8 per NUMA node; reserved = CPU 0 and its sibling.
INSTANTIATE_TEST_SUITE_P(
    Rows, InitialStateTest,
    ::testing::Values(InitialStateRow{"PinnedContainersArePlacedAround", {{"old-1", "2-3"}, {"old-2", "8-11"}}, ""},
                      InitialStateRow{"OverlappingExclusiveCpusRefused", {{"old-1", "2-5"}, {"old-2", "4-7"}}, "4-5"},
                      InitialStateRow{"ExclusiveOnReservedRefused", {{"old-1", "0"}}, "reserved"},
                      InitialStateRow{"CpuNotOnTheMachineRefused", {{"old-1", "40-41"}}, "40-41"}),
    [](const ::testing::TestParamInfo<InitialStateRow>& row_info) { return row_info.param.name; });

}  // namespace
}  // namespace topod::policies::static_test
