#include "policies/static/topology_manager/topology_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/policies/static/topology_manager/fake_hint_provider.h"
#include "tests/policies/static/topology_manager/hint_dsl.h"

namespace topod::policies::topology_manager {
namespace {

using policies::testing::FakeHintProvider;
using policies::testing::parseProvider;
using policies::testing::sanitizeName;
using ::testing::HasSubstr;

// `nodes` NUMA nodes with two CPUs each.
topology::Topology machine(int nodes) {
  topology::TopologyBuilder builder;
  for (int node = 0; node < nodes; ++node) {
    for (int i = 0; i < 2; ++i) {
      int cpu = node * 2 + i;
      builder.addCpu({.id = cpu, .core_id = cpu, .l3 = node, .numa = node});
    }
    builder.addNumaNode({.id = node, .memory_bytes = 1ULL << 30});
  }
  auto topology = builder.build();
  EXPECT_TRUE(topology.has_value()) << topology.error().toString();
  return topology.value_or(topology::Topology{});
}

PodRequest pod(QosClass qos) {
  PodRequest request{.uid = "pod-1", .namespace_name = "default", .name = "p", .qos = qos};
  request.containers.push_back({.name = "c1"});
  return request;
}

// TestAdmit (topology_manager_test.go): the same rows, run under both scopes as the kubelet does.
struct AdmitRow {
  std::string name;
  QosClass qos;
  TopologyManagerPolicy policy;
  std::vector<std::string> providers;  // one hint_dsl provider each
  bool expected;
};

class KubeletAdmitTest : public ::testing::TestWithParam<AdmitRow> {};

TEST_P(KubeletAdmitTest, AdmitsUnderBothScopes) {
  const AdmitRow& row = GetParam();
  for (TopologyManagerScope scope : {TopologyManagerScope::Container, TopologyManagerScope::Pod}) {
    SCOPED_TRACE(std::string(scopeName(scope)));
    std::vector<FakeHintProvider> fakes;
    fakes.reserve(row.providers.size());
    for (std::size_t i = 0; i < row.providers.size(); ++i) {
      fakes.emplace_back("fake" + std::to_string(i), parseProvider(row.providers[i]));
    }
    std::vector<const HintProvider*> providers;
    for (const FakeHintProvider& fake : fakes) providers.push_back(&fake);
    auto manager = TopologyManager::create(machine(2), {.policy = row.policy, .scope = scope}, providers);
    ASSERT_TRUE(manager.has_value()) << manager.error().toString();
    PodRequest request = pod(row.qos);
    auto admission = manager->admit(State{}, request, request.containers[0]);
    EXPECT_EQ(admission.has_value(), row.expected);
    if (!admission.has_value()) {
      EXPECT_THAT(admission.error().message(), HasSubstr("TopologyAffinityError: Resources cannot be allocated "
                                                         "with Topology locality"));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kubelet, KubeletAdmitTest,
                         ::testing::ValuesIn(std::vector<AdmitRow>{
                             {"QOSClass set as BestEffort. None Policy. No Hints.",
                              QosClass::BestEffort,
                              TopologyManagerPolicy::None,
                              {},
                              true},
                             {"QOSClass set as Guaranteed. None Policy. No Hints.",
                              QosClass::Guaranteed,
                              TopologyManagerPolicy::None,
                              {},
                              true},
                             {"QOSClass set as BestEffort. single-numa-node Policy. No Hints.",
                              QosClass::BestEffort,
                              TopologyManagerPolicy::SingleNumaNode,
                              {"{}"},
                              true},
                             {"QOSClass set as BestEffort. Restricted Policy. No Hints.",
                              QosClass::BestEffort,
                              TopologyManagerPolicy::Restricted,
                              {"{}"},
                              true},
                             {"QOSClass set as Guaranteed. BestEffort Policy. Preferred Affinity.",
                              QosClass::Guaranteed,
                              TopologyManagerPolicy::BestEffort,
                              {"resource=0* 0-1!"},
                              true},
                             {"QOSClass set as Guaranteed. BestEffort Policy. More than one Preferred Affinity.",
                              QosClass::Guaranteed,
                              TopologyManagerPolicy::BestEffort,
                              {"resource=0* 1* 0-1!"},
                              true},
                             {"QOSClass set as Burstable. BestEffort Policy. More than one Preferred Affinity.",
                              QosClass::Burstable,
                              TopologyManagerPolicy::BestEffort,
                              {"resource=0* 1* 0-1!"},
                              true},
                             {"QOSClass set as Guaranteed. BestEffort Policy. No Preferred Affinity.",
                              QosClass::Guaranteed,
                              TopologyManagerPolicy::BestEffort,
                              {"resource=0-1!"},
                              true},
                             {"QOSClass set as Guaranteed. Restricted Policy. Preferred Affinity.",
                              QosClass::Guaranteed,
                              TopologyManagerPolicy::Restricted,
                              {"resource=0* 0-1!"},
                              true},
                             {"QOSClass set as Burstable. Restricted Policy. Preferred Affinity.",
                              QosClass::Burstable,
                              TopologyManagerPolicy::Restricted,
                              {"resource=0* 0-1!"},
                              true},
                             {"QOSClass set as Guaranteed. Restricted Policy. More than one Preferred affinity.",
                              QosClass::Guaranteed,
                              TopologyManagerPolicy::Restricted,
                              {"resource=0* 1* 0-1!"},
                              true},
                             {"QOSClass set as Burstable. Restricted Policy. More than one Preferred affinity.",
                              QosClass::Burstable,
                              TopologyManagerPolicy::Restricted,
                              {"resource=0* 1* 0-1!"},
                              true},
                             {"QOSClass set as Guaranteed. Restricted Policy. No Preferred affinity.",
                              QosClass::Guaranteed,
                              TopologyManagerPolicy::Restricted,
                              {"resource=0-1!"},
                              false},
                             {"QOSClass set as Burstable. Restricted Policy. No Preferred affinity.",
                              QosClass::Burstable,
                              TopologyManagerPolicy::Restricted,
                              {"resource=0-1!"},
                              false},
                         }),
                         [](const ::testing::TestParamInfo<AdmitRow>& param_info) {
                           return sanitizeName(param_info.param.name);
                         });

TEST(TopologyManagerCreate, RefusesMoreNumaNodesThanAllowed) {
  // topology_manager_test.go "more than 8 NUMA nodes".
  auto manager = TopologyManager::create(machine(9), {.policy = TopologyManagerPolicy::BestEffort}, {});
  ASSERT_FALSE(manager.has_value());
  EXPECT_THAT(manager.error().message(), HasSubstr("unsupported on machines with more than 8 NUMA Nodes"));
}

TEST(TopologyManagerCreate, MaxAllowableNumaNodesRaisesTheLimit) {
  auto manager = TopologyManager::create(
      machine(9), {.policy = TopologyManagerPolicy::BestEffort, .max_allowable_numa_nodes = 9}, {});
  EXPECT_TRUE(manager.has_value());
}

TEST(TopologyManagerCreate, PolicyNoneIgnoresTheLimit) {
  auto manager = TopologyManager::create(machine(9), {.policy = TopologyManagerPolicy::None}, {});
  EXPECT_TRUE(manager.has_value());
}

TEST(TopologyManagerCreate, RejectsNullProvider) {
  auto manager = TopologyManager::create(machine(2), {}, {nullptr});
  EXPECT_FALSE(manager.has_value());
}

TEST(TopologyManagerAdmit, ContainerScopeAllocatesWithinTheMergedHint) {
  FakeHintProvider cpu("cpu", parseProvider("cpu=0* 1* 0-1!"));
  FakeHintProvider memory("memory", parseProvider("memory=1* 0-1!"));
  auto manager =
      TopologyManager::create(machine(2), {.policy = TopologyManagerPolicy::SingleNumaNode}, {&cpu, &memory});
  ASSERT_TRUE(manager.has_value());
  PodRequest request = pod(QosClass::Guaranteed);
  auto admission = manager->admit(State{}, request, request.containers[0]);
  ASSERT_TRUE(admission.has_value()) << admission.error().toString();
  EXPECT_EQ(admission->affinity, (TopologyHint{NodeSet{1}, true}));
  ASSERT_TRUE(cpu.last_affinity.has_value());
  EXPECT_EQ(*cpu.last_affinity, admission->affinity);
  EXPECT_EQ(admission->allocation.memory_nodes, NodeSet{1});
  EXPECT_EQ(admission->allocation.request, request.containers[0]);
  EXPECT_EQ(admission->allocation.qos, QosClass::Guaranteed);
  EXPECT_EQ(cpu.container_hint_calls, 1);
  EXPECT_EQ(cpu.pod_hint_calls, 0);
  EXPECT_EQ(admission->explanation,
            "topology manager single-numa-node/container: hints cpu.cpu=[0* 1* 0-1] memory.memory=[1* 0-1]; "
            "merged NUMA 1 (preferred)");
}

TEST(TopologyManagerAdmit, PodScopeUsesPodHints) {
  FakeHintProvider cpu("cpu", parseProvider("cpu=0*"));
  cpu.setPodHints(parseProvider("cpu=1*"));
  auto manager = TopologyManager::create(
      machine(2), {.policy = TopologyManagerPolicy::Restricted, .scope = TopologyManagerScope::Pod}, {&cpu});
  ASSERT_TRUE(manager.has_value());
  PodRequest request = pod(QosClass::Guaranteed);
  auto admission = manager->admit(State{}, request, request.containers[0]);
  ASSERT_TRUE(admission.has_value());
  EXPECT_EQ(admission->affinity.affinity, NodeSet{1});
  EXPECT_EQ(cpu.pod_hint_calls, 1);
  EXPECT_EQ(cpu.container_hint_calls, 0);
}

TEST(TopologyManagerAdmit, PolicyNoneCollectsNoHintsAndAllocatesUnconstrained) {
  FakeHintProvider cpu("cpu", parseProvider("cpu=0*"));
  auto manager = TopologyManager::create(machine(2), {.policy = TopologyManagerPolicy::None}, {&cpu});
  ASSERT_TRUE(manager.has_value());
  PodRequest request = pod(QosClass::Guaranteed);
  auto admission = manager->admit(State{}, request, request.containers[0]);
  ASSERT_TRUE(admission.has_value());
  EXPECT_EQ(cpu.container_hint_calls + cpu.pod_hint_calls, 0);
  EXPECT_EQ(cpu.allocate_calls, 1);
  EXPECT_EQ(admission->affinity, TopologyHint{});
  EXPECT_TRUE(admission->hints.empty());
}

TEST(TopologyManagerAdmit, RejectionExplainsTheHints) {
  FakeHintProvider cpu("cpu", parseProvider("cpu=0*"));
  FakeHintProvider memory("memory", parseProvider("memory=1*"));
  auto manager = TopologyManager::create(machine(2), {.policy = TopologyManagerPolicy::Restricted}, {&cpu, &memory});
  ASSERT_TRUE(manager.has_value());
  PodRequest request = pod(QosClass::Guaranteed);
  auto admission = manager->admit(State{}, request, request.containers[0]);
  ASSERT_FALSE(admission.has_value());
  EXPECT_EQ(admission.error().message(),
            "TopologyAffinityError: Resources cannot be allocated with Topology locality (topology manager "
            "restricted/container: hints cpu.cpu=[0*] memory.memory=[1*]; merged NUMA 0-1 (not preferred))");
  EXPECT_EQ(cpu.allocate_calls, 0);
}

TEST(TopologyManagerAdmit, ProviderAllocationErrorStopsAndNamesTheProvider) {
  FakeHintProvider cpu("cpu", parseProvider("cpu=0*"));
  cpu.failAllocation("not enough cpus available to satisfy request: requested=4, available=2");
  FakeHintProvider memory("memory", parseProvider("memory=0*"));
  auto manager = TopologyManager::create(machine(2), {.policy = TopologyManagerPolicy::BestEffort}, {&cpu, &memory});
  ASSERT_TRUE(manager.has_value());
  PodRequest request = pod(QosClass::Guaranteed);
  auto admission = manager->admit(State{}, request, request.containers[0]);
  ASSERT_FALSE(admission.has_value());
  EXPECT_THAT(admission.error().message(), HasSubstr("cpu ("));
  EXPECT_THAT(admission.error().message(), HasSubstr("requested=4, available=2"));
  EXPECT_EQ(memory.allocate_calls, 0);
}

TEST(TopologyManagerAdmit, ProviderWithoutPreferenceIsDescribedAsAny) {
  FakeHintProvider devices("devices");
  FakeHintProvider cpu("cpu", parseProvider("cpu=1* 0-1!"));
  auto manager = TopologyManager::create(machine(2), {.policy = TopologyManagerPolicy::BestEffort}, {&devices, &cpu});
  ASSERT_TRUE(manager.has_value());
  PodRequest request = pod(QosClass::Guaranteed);
  auto admission = manager->admit(State{}, request, request.containers[0]);
  ASSERT_TRUE(admission.has_value());
  EXPECT_THAT(admission->explanation, HasSubstr("devices=any cpu.cpu=[1* 0-1]"));
  EXPECT_EQ(admission->affinity, (TopologyHint{NodeSet{1}, true}));
}

}  // namespace

TEST(DescribeHints, MasksAreSpaceSeparatedBecauseAMaskMayHoldCommas) {
  std::vector<ProviderHints> hints{
      {"cpu", {{"cpu", {{NodeSet{0, 2}, true}, {NodeSet{1}, false}, {NodeSet{}, false}}}}}};
  EXPECT_EQ(describeHints(hints), "cpu.cpu=[0,2* 1 any]");
}

TEST(DescribeHints, LongListsShowTheFirstMasksAndCountTheRest) {
  std::vector<TopologyHint> list;
  for (int node = 0; node < 10; ++node) list.push_back({NodeSet{node}, node != 9});
  list.push_back({NodeSet{0, 1}, false});
  std::vector<ProviderHints> hints{{"cpu", {{"cpu", list}}},
                                   {"memory", {{"memory", {list.begin(), list.begin() + 8}}}}};
  EXPECT_EQ(describeHints(hints),
            "cpu.cpu=[0* 1* 2* 3* 4* 5* 6* 7* +3 more (1 preferred)] memory.memory=[0* 1* 2* 3* 4* 5* 6* 7*]");
}

}  // namespace topod::policies::topology_manager
