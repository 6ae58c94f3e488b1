// End to end with the real policies (static, kubelet-compatible; topology-aware) instead of the
// fake one: SimRuntime over the real NRI protocol <-> nri::Plugin <-> Agent <-> the policy the
// registry builds. After every step every container the runtime runs must sit exactly where the
// policy places it (its exclusive CPUs, or its shared pool), which covers the updates in replies
// and the unsolicited ones; on top, the properties users rely on: whole cores and no reserved CPU
// for Guaranteed containers, resize that keeps CPUs, refusals with the policy's reason, a restart
// that keeps every allocation.
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "agent/agent.h"
#include "config/config.h"
#include "nri/plugin.h"
#include "policies/policy_registry.h"
#include "tests/agent/agent_harness.h"
#include "tests/agent/agent_test_support.h"
#include "tests/agent/sim_runtime.h"
#include "tests/fakes/fake_nri_connector.h"

namespace topod::agent {
namespace {

using testing::guaranteed;
using testing::makeContainer;
using testing::makePod;

struct PolicyRow {
  std::string name;
  std::string policy;
};
void PrintTo(const PolicyRow& row, std::ostream* os) {
  *os << row.name;
}

class AgentPoliciesE2eTest : public ::testing::TestWithParam<PolicyRow> {
 protected:
  void SetUp() override {
    options_.policy = GetParam().policy;
    auto policy = policies::makePolicy(topology_, options_);
    ASSERT_TRUE(policy.has_value()) << policy.error().toString();
    policy_ = std::move(*policy);
    start();
  }

  void start() {
    Status started = h_.start(Agent::create(topology_, {.policy = options_, .state_dir = dir_.path()}));
    ASSERT_TRUE(started.has_value()) << started.error().toString();
  }

  nri::Container add(const nri::Pod& pod, const nri::Container& c) {
    auto adjustment = h_.add(pod, c);
    EXPECT_TRUE(adjustment.has_value()) << adjustment.error().toString();
    return c;
  }

  // Every running container's cpuset is the one the policy gives it in the agent's State.
  std::string mismatches() const {
    policies::State state = h_.agent->state();
    auto placements = policy_->placements(state);
    std::string out;
    for (const auto& [id, c] : h_.runtime->containers) {
      if (c.state == nri::ContainerState::Stopped) continue;
      auto it = placements.find({h_.runtime->pods.at(c.pod_id).uid, c.name});
      CpuSet want = it == placements.end() ? policy_->sharedCpus(state) : it->second.cpus;
      if (h_.runtime->cpusOf(id) != want) {
        out += id + " runs on " + h_.runtime->cpusOf(id).toString() + ", the policy says " + want.toString() + "; ";
      }
    }
    return out;
  }
  void expectWherePolicySays() {
    h_.runtime->pumpUntil([&] { return mismatches().empty(); }, std::chrono::seconds(5));
    EXPECT_EQ(mismatches(), "");
  }
  CpuSet exclusiveOf(const std::string& pod_uid) const {
    return h_.agent->state().containers().at({pod_uid, "app"}).exclusive_cpus;
  }
  // CPUs of whole cores only: every CPU's SMT siblings are in the set too.
  bool wholeCores(const CpuSet& cpus) const {
    for (int cpu : cpus) {
      if (!topology_.siblingsOf(cpu).isSubsetOf(cpus)) return false;
    }
    return true;
  }

  testing::TempDir dir_;
  topology::Topology topology_ = testing::twoNodeTopology();
  policies::PolicyOptions options_ = defaultConfig().policy;  // 1 reserved CPU: CPU 0
  std::unique_ptr<policies::Policy> policy_;
  testing::AgentHarness h_;
};

TEST_P(AgentPoliciesE2eTest, ExclusiveCpusAreCarvedOutOfTheSharedPoolsAndReturned) {
  auto burstable = makePod("b1", QosClass::Burstable);
  auto shared = add(burstable, makeContainer(burstable, "app", 500, 1000));
  auto besteffort = makePod("e1", QosClass::BestEffort);
  add(besteffort, makeContainer(besteffort, "app", 0, 0));
  expectWherePolicySays();

  auto pod = makePod("g1", QosClass::Guaranteed);
  auto pinned = add(pod, guaranteed(pod, "app", 4000));
  CpuSet exclusive = exclusiveOf("g1");
  EXPECT_EQ(exclusive.size(), 4);
  EXPECT_TRUE(wholeCores(exclusive)) << exclusive.toString();
  EXPECT_FALSE(exclusive.contains(0)) << "CPU 0 is reserved";
  EXPECT_EQ(h_.runtime->cpusOf(pinned.id), exclusive);
  EXPECT_EQ(h_.runtime->containers.at(pinned.id).resources.cpu_quota, -1) << "no CFS quota on exclusive CPUs";
  EXPECT_FALSE(h_.runtime->cpusOf(shared.id).intersects(exclusive));
  expectWherePolicySays();

  // Removing the pod (no reply can carry updates) returns the CPUs by unsolicited updates.
  ASSERT_TRUE(h_.runtime->removePod(pod.id).has_value());
  expectWherePolicySays();
  EXPECT_EQ(h_.agent->state().containers().count({"g1", "app"}), 0U);
  EXPECT_TRUE(exclusive.isSubsetOf(policy_->sharedCpus(h_.agent->state())));
}

TEST_P(AgentPoliciesE2eTest, ResizeGrowsKeepingItsCpusAndShrinks) {
  auto burstable = makePod("b1", QosClass::Burstable);
  add(burstable, makeContainer(burstable, "app", 500, 0));
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto pinned = add(pod, guaranteed(pod, "app", 2000));
  CpuSet before = exclusiveOf("g1");

  ASSERT_TRUE(h_.runtime->updateContainer(pinned.id, guaranteed(pod, "app", 4000).resources).has_value());
  CpuSet grown = exclusiveOf("g1");
  EXPECT_EQ(grown.size(), 4);
  EXPECT_TRUE(before.isSubsetOf(grown)) << before.toString() << " -> " << grown.toString();
  expectWherePolicySays();

  ASSERT_TRUE(h_.runtime->updateContainer(pinned.id, guaranteed(pod, "app", 2000).resources).has_value());
  CpuSet shrunk = exclusiveOf("g1");
  EXPECT_EQ(shrunk.size(), 2);
  EXPECT_TRUE(shrunk.isSubsetOf(grown));
  expectWherePolicySays();

  // A resize the machine cannot hold is refused with the reason; the old allocation stays.
  Status refused = h_.runtime->updateContainer(pinned.id, guaranteed(pod, "app", 32000).resources);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("topod refused resize of g1/app"), std::string::npos)
      << refused.error().message();
  EXPECT_EQ(exclusiveOf("g1"), shrunk);
}

TEST_P(AgentPoliciesE2eTest, RefusedContainerFailsCreationWithThePolicysReason) {
  auto pod = makePod("g1", QosClass::Guaranteed);
  ASSERT_TRUE(h_.runtime->runPod(pod).has_value());
  auto refused = h_.runtime->createContainer(guaranteed(pod, "huge", 64000));
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("topod refused container g1/huge: "), std::string::npos)
      << refused.error().message();
  EXPECT_GT(refused.error().message().size(), std::string("topod refused container g1/huge: ").size() + 10)
      << "the reason follows";
  EXPECT_EQ(h_.runtime->containers.count("g1-huge"), 0U);
  EXPECT_TRUE(h_.agent->state().empty());
}

TEST_P(AgentPoliciesE2eTest, RestartKeepsEveryAllocationAndMovesNothing) {
  auto burstable = makePod("b1", QosClass::Burstable);
  add(burstable, makeContainer(burstable, "app", 500, 0));
  for (int i = 0; i < 3; ++i) {
    auto pod = makePod("g" + std::to_string(i), QosClass::Guaranteed);
    add(pod, guaranteed(pod, "app", 1000 * (i + 1)));
  }
  expectWherePolicySays();
  policies::State before = h_.agent->state();
  std::map<std::string, CpuSet> cpus_before;
  for (const auto& [id, c] : h_.runtime->containers) cpus_before[id] = h_.runtime->cpusOf(id);

  h_.stop();
  start();
  EXPECT_EQ(h_.agent->state(), before);
  for (const auto& [id, c] : h_.runtime->containers) EXPECT_EQ(h_.runtime->cpusOf(id), cpus_before[id]) << id;
}

INSTANTIATE_TEST_SUITE_P(Policies, AgentPoliciesE2eTest,
                         ::testing::Values(PolicyRow{"Static", "static"}, PolicyRow{"TopologyAware", "topology-aware"}),
                         [](const ::testing::TestParamInfo<PolicyRow>& row) { return row.param.name; });

}  // namespace
}  // namespace topod::agent
