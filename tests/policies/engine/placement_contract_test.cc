// The placement contract of policy.h, for every registered policy: a container's placement
// depends only on its own allocation and on the union of exclusive CPUs. The agent relies on it
// to skip recomputing every placement after a change that leaves the union alone (a Burstable
// container created or removed moves nobody else), so a policy that broke it would leave
// containers on stale CPUs. Also: a decision's placement is where placements() puts it.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "policies/policy.h"
#include "policies/policy_registry.h"
#include "tests/policies/engine/engine_topologies.h"

namespace topod::policies {
namespace {

struct ContractRow {
  std::string name;
  std::string policy;
  MemoryManagerPolicy memory = MemoryManagerPolicy::None;
};

void PrintTo(const ContractRow& row, std::ostream* os) {
  *os << row.name;
}

PodRequest singleContainerPod(const std::string& uid, const ContainerRequest& container) {
  PodRequest pod{.uid = uid, .namespace_name = "default", .name = uid, .containers = {container}};
  pod.qos = computeQosClass(pod.containers);
  return pod;
}

// A random container: Guaranteed with 1-4 whole CPUs, Guaranteed fractional, Burstable, BestEffort.
ContainerRequest randomContainer(std::mt19937& rng) {
  ContainerRequest c{.name = "app"};
  switch (rng() % 4) {
    case 0: {
      int64_t cpus = 1 + static_cast<int64_t>(rng() % 4);
      c.cpu_request_millis = c.cpu_limit_millis = 1000 * cpus;
      c.memory_request_bytes = c.memory_limit_bytes = testing::kGiB;
      break;
    }
    case 1:
      c.cpu_request_millis = c.cpu_limit_millis = 500;
      c.memory_request_bytes = c.memory_limit_bytes = testing::kGiB;
      break;
    case 2: c.cpu_request_millis = 100 + static_cast<int64_t>(rng() % 900); break;
    default: break;
  }
  return c;
}

class PlacementContractTest : public ::testing::TestWithParam<ContractRow> {};

TEST_P(PlacementContractTest, OthersMoveOnlyWhenExclusiveCpusChange) {
  topology::Topology topology = testing::twoNuma16Cpus();
  PolicyOptions options;
  options.policy = GetParam().policy;
  options.reserved_cpu_count = GetParam().policy == "none" ? 0 : 1;
  options.memory_policy = GetParam().memory;
  if (GetParam().memory == MemoryManagerPolicy::Static) {
    options.reserved_memory = {{0, {{"memory", testing::kGiB}}}};
  }
  auto policy = makePolicy(topology, options);
  ASSERT_TRUE(policy.has_value()) << policy.error().toString();

  std::mt19937 rng(20261201);
  State state;
  int next_pod = 0;
  int changes_without_exclusive_change = 0;
  for (int step = 0; step < 400; ++step) {
    std::map<ContainerKey, Placement> before = (*policy)->placements(state);
    CpuSet exclusive_before = state.totals().exclusive_cpus;
    ContainerKey changed;
    if (state.empty() || rng() % 3 != 0) {
      ContainerRequest container = randomContainer(rng);
      PodRequest pod = singleContainerPod("p" + std::to_string(next_pod++), container);
      auto decision = (*policy)->admit(state, pod, container);
      if (!decision.has_value()) continue;  // a full machine refuses: fine, nothing changed
      changed = decision->key;
      state.put(decision->key, decision->allocation);
      EXPECT_EQ((*policy)->placements(state).at(changed), decision->placement)
          << "step " << step << ": the decision's placement is not where placements() puts it";
    } else {
      auto it = state.containers().begin();
      std::advance(it, static_cast<long>(rng() % state.size()));
      changed = it->first;
      state.erase(changed);
    }
    std::map<ContainerKey, Placement> after = (*policy)->placements(state);
    if (state.totals().exclusive_cpus != exclusive_before) continue;
    ++changes_without_exclusive_change;
    for (const auto& [key, placement] : after) {
      if (key == changed) continue;
      EXPECT_EQ(placement, before.at(key)) << "step " << step << ": " << key.pod_uid << " moved after a change to "
                                           << changed.pod_uid << " that left the exclusive CPUs alone";
    }
  }
  // The property was exercised, not vacuously true.
  EXPECT_GT(changes_without_exclusive_change, 50);
}

INSTANTIATE_TEST_SUITE_P(Policies, PlacementContractTest,
                         ::testing::Values(ContractRow{"None", "none"}, ContractRow{"Static", "static"},
                                           ContractRow{"StaticWithMemoryManager", "static",
                                                       MemoryManagerPolicy::Static},
                                           ContractRow{"TopologyAware", "topology-aware"}),
                         [](const ::testing::TestParamInfo<ContractRow>& row) { return row.param.name; });

TEST(PlacementContractCoverageTest, EveryRegisteredPolicyIsCovered) {
  std::vector<std::string> covered{"none", "static", "topology-aware"};
  for (const PolicyInfo& info : knownPolicies()) {
    EXPECT_NE(std::find(covered.begin(), covered.end(), std::string(info.name)), covered.end())
        << "policy " << info.name << " is registered but not held to the placement contract";
  }
}

}  // namespace
}  // namespace topod::policies
