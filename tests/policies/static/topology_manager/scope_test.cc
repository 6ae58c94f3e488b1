// Rows transcribed from the kubelet's topologymanager/scope_container_test.go and
// scope_pod_test.go (TestContainerCalculateAffinity, TestContainerAccumulateProvidersHints and
// their pod counterparts): what each provider said reaches the merge unchanged, in provider
// order. A resource the kubelet maps to nil ("no preference") is absent here, which ResourceHints
// defines to mean the same.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policies/static/topology_manager/topology_manager.h"
#include "tests/policies/static/topology_manager/fake_hint_provider.h"
#include "tests/policies/static/topology_manager/hint_dsl.h"

namespace topod::policies::topology_manager {
namespace {

using policies::testing::FakeHintProvider;
using policies::testing::parseProvider;
using policies::testing::sanitizeName;

topology::Topology fiveNodes() {
  topology::TopologyBuilder builder;
  for (int node = 0; node < 5; ++node) {
    builder.addCpu({.id = node, .core_id = node, .l3 = node, .numa = node});
    builder.addNumaNode({.id = node, .memory_bytes = 1ULL << 30});
  }
  return builder.build().value();
}

struct ScopeRow {
  std::string name;
  std::vector<std::string> providers;  // hint_dsl provider syntax, one per provider
};

class ScopeHintsTest : public ::testing::TestWithParam<ScopeRow> {};

TEST_P(ScopeHintsTest, ProvidersHintsReachTheMergeUnchanged) {
  const ScopeRow& row = GetParam();
  for (TopologyManagerScope scope : {TopologyManagerScope::Container, TopologyManagerScope::Pod}) {
    SCOPED_TRACE(std::string(scopeName(scope)));
    std::vector<FakeHintProvider> fakes;
    fakes.reserve(row.providers.size());
    for (std::size_t i = 0; i < row.providers.size(); ++i) {
      fakes.emplace_back("p" + std::to_string(i), parseProvider(row.providers[i]));
    }
    std::vector<const HintProvider*> providers;
    for (const FakeHintProvider& fake : fakes) providers.push_back(&fake);
    auto manager =
        TopologyManager::create(fiveNodes(), {.policy = TopologyManagerPolicy::BestEffort, .scope = scope}, providers);
    ASSERT_TRUE(manager.has_value());
    PodRequest pod{.uid = "pod", .qos = QosClass::Guaranteed, .containers = {{.name = "c"}}};
    std::vector<ProviderHints> hints = manager->collectHints(State{}, pod, pod.containers[0]);
    ASSERT_EQ(hints.size(), row.providers.size());
    for (std::size_t i = 0; i < hints.size(); ++i) {
      EXPECT_EQ(hints[i].provider, "p" + std::to_string(i));
      EXPECT_EQ(hints[i].hints, parseProvider(row.providers[i]));
      const FakeHintProvider& fake = fakes[i];
      EXPECT_EQ(fake.pod_hint_calls, scope == TopologyManagerScope::Pod ? 1 : 0);
      EXPECT_EQ(fake.container_hint_calls, scope == TopologyManagerScope::Container ? 1 : 0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kubelet, ScopeHintsTest,
                         ::testing::ValuesIn(std::vector<ScopeRow>{
                             {"No hint providers", {}},
                             {"HintProvider returns empty non-nil map[string][]TopologyHint", {"{}"}},
                             {"HintProvider returns -nil map[string][]TopologyHint from provider", {"resource=nil"}},
                             {"Assorted HintProviders",
                              {"resource-1/A=0* 0-1!; resource-1/B=1* 1-2!",
                               "resource-2/A=2* 3-4!; resource-2/B=2* 3-4!", "resource-3=nil"}},
                             {"2 HintProviders with 1 resource returns hints", {"resource1=any!", "resource2=any!"}},
                             {"2 HintProviders 1 with 1 resource 1 with nil hints", {"resource1=any!", "{}"}},
                             {"2 HintProviders 1 with 1 resource 1 empty hints", {"resource1=any!", "{}"}},
                             {"HintProvider with 2 resources returns hints", {"resource1=any!; resource2=any!"}},
                         }),
                         [](const ::testing::TestParamInfo<ScopeRow>& param_info) {
                           return sanitizeName(param_info.param.name);
                         });

TEST(PodScope, AsksProvidersForHintsWithoutThePodsOwnAllocations) {
  // Pod scope goes through podHintsWithoutPod() with the whole State (the providers leave the
  // pod out themselves, without a copy); container scope never does.
  for (TopologyManagerScope scope : {TopologyManagerScope::Pod, TopologyManagerScope::Container}) {
    FakeHintProvider provider("counting");
    auto manager = TopologyManager::create(fiveNodes(), {.policy = TopologyManagerPolicy::BestEffort, .scope = scope},
                                           {&provider});
    ASSERT_TRUE(manager.has_value());
    State state;
    state.put(ContainerKey{"pod", "first"}, {});
    state.put(ContainerKey{"other", "x"}, {});
    PodRequest pod{.uid = "pod", .qos = QosClass::Guaranteed, .containers = {{.name = "first"}, {.name = "second"}}};
    manager->collectHints(state, pod, pod.containers[1]);
    EXPECT_EQ(provider.last_pod_scope_state_size, scope == TopologyManagerScope::Pod ? 2 : -1);
  }
}

}  // namespace
}  // namespace topod::policies::topology_manager
