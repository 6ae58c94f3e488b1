// The kubelet's semantics of the runtime's fields (agent/nri_mapping.h): the QoS class a pod has,
// which the runtime does not send, and its use by the Agent at Synchronize and on events.
#include "agent/nri_mapping.h"

#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <string>

#include "agent/agent.h"
#include "config/config.h"
#include "tests/agent/agent_test_support.h"
#include "tests/fakes/fake_policy.h"

namespace topod::agent {
namespace {

struct QosRow {
  const char* name;
  const char* cgroup_parent;
  std::optional<int64_t> oom_score_adj;
  std::optional<uint64_t> shares;
  std::optional<int64_t> memory_limit;
  QosClass expected;
};

class QosClassOfTest : public ::testing::TestWithParam<QosRow> {};

TEST_P(QosClassOfTest, MatchesKubeletLayout) {
  const QosRow& row = GetParam();
  nri::Pod pod;
  pod.cgroup_parent = row.cgroup_parent;
  nri::Container container;
  container.oom_score_adj = row.oom_score_adj;
  container.resources.cpu_shares = row.shares;
  container.resources.memory_limit = row.memory_limit;
  EXPECT_EQ(qosClassOf(pod, &container), row.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, QosClassOfTest,
    ::testing::Values(
        QosRow{"systemd_besteffort", "kubepods-besteffort-podab_cd.slice", {}, {}, {}, QosClass::BestEffort},
        QosRow{"systemd_burstable", "kubepods-burstable-podab_cd.slice", {}, {}, {}, QosClass::Burstable},
        QosRow{"systemd_guaranteed", "kubepods-podab_cd.slice", {}, {}, {}, QosClass::Guaranteed},
        QosRow{"cgroupfs_besteffort", "/kubepods/besteffort/podab-cd", {}, {}, {}, QosClass::BestEffort},
        QosRow{"cgroupfs_burstable", "/kubepods/burstable/podab-cd", {}, {}, {}, QosClass::Burstable},
        QosRow{"cgroupfs_guaranteed", "/kubepods/podab-cd", {}, {}, {}, QosClass::Guaranteed},
        QosRow{"any_case", "/kubepods/BestEffort/podab-cd", {}, {}, {}, QosClass::BestEffort},
        QosRow{"parent_wins_over_hints", "/kubepods/burstable/pod1", -997, {}, {}, QosClass::Burstable},
        QosRow{"no_parent_oom_guaranteed", "", -997, {}, {}, QosClass::Guaranteed},
        QosRow{"no_parent_oom_besteffort", "", 1000, {}, {}, QosClass::BestEffort},
        QosRow{"no_parent_min_shares", "", {}, 2, {}, QosClass::BestEffort},
        QosRow{"no_parent_min_shares_with_limit", "", {}, 2, 1 << 20, QosClass::Burstable},
        QosRow{"no_parent_no_hints", "", {}, {}, {}, QosClass::Burstable}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(QosClassOfTest, WithoutParentOrContainerIsBurstable) {
  EXPECT_EQ(qosClassOf(nri::Pod{}, nullptr), QosClass::Burstable);
  nri::Pod pod;
  pod.cgroup_parent = "/kubepods/pod1";
  EXPECT_EQ(qosClassOf(pod, nullptr), QosClass::Guaranteed);
}

// A runtime that sends no cgroup parent: the Agent gives a pod the class its first container
// implies at Synchronize, and the event's container decides on events.
class QosWithoutCgroupParentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AgentOptions options{.policy = defaultConfig().policy, .state_dir = dir_.path()};
    auto agent = Agent::create(topology_, options, std::make_unique<testing::FakeExclusivePolicy>(topology_));
    ASSERT_TRUE(agent.has_value()) << agent.error().toString();
    agent_ = std::move(*agent);
  }
  static nri::Pod parentless(const std::string& uid) {
    nri::Pod pod = testing::makePod(uid, QosClass::Guaranteed);
    pod.cgroup_parent.clear();
    return pod;
  }
  static nri::Container withOomScore(nri::Container container, int64_t score) {
    container.oom_score_adj = score;
    return container;
  }

  testing::TempDir dir_;
  topology::Topology topology_ = testing::twoNodeTopology();
  std::unique_ptr<Agent> agent_;
};

TEST_F(QosWithoutCgroupParentTest, SynchronizeTakesThePodsClassFromItsFirstContainer) {
  nri::Pod pod = parentless("g1");
  nri::Container first = withOomScore(testing::guaranteed(pod, "first", 2000), -997);
  first.state = nri::ContainerState::Running;
  nri::Container second = testing::guaranteed(pod, "second", 2000);  // no hints of its own
  second.state = nri::ContainerState::Running;
  ASSERT_TRUE(agent_->onSynchronize({pod}, {first, second}).has_value());
  EXPECT_EQ(agent_->state().containers().at({pod.uid, "first"}).qos, QosClass::Guaranteed);
  EXPECT_EQ(agent_->state().containers().at({pod.uid, "second"}).qos, QosClass::Guaranteed)
      << "the pod's class, not the one its own hints would give";
}

TEST_F(QosWithoutCgroupParentTest, EventsTakeTheClassFromTheEventsContainer) {
  ASSERT_TRUE(agent_->onSynchronize({}, {}).has_value());
  nri::Pod pod = parentless("g2");
  auto reply = agent_->onCreateContainer(pod, withOomScore(testing::guaranteed(pod, "app", 2000), -997));
  ASSERT_TRUE(reply.has_value()) << reply.error().toString();
  EXPECT_EQ(agent_->state().containers().at({pod.uid, "app"}).qos, QosClass::Guaranteed);
  nri::Pod other = parentless("b2");
  reply = agent_->onCreateContainer(other, testing::makeContainer(other, "app", 500, 0));
  ASSERT_TRUE(reply.has_value()) << reply.error().toString();
  EXPECT_EQ(agent_->state().containers().at({other.uid, "app"}).qos, QosClass::Burstable);
}

nri::LinuxResources quota(int64_t quota_us, uint64_t period_us) {
  nri::LinuxResources resources;
  resources.cpu_quota = quota_us;
  resources.cpu_period = period_us;
  return resources;
}

TEST(KubeletPodCpuQuotaTest, SumsTheContainersLimitsForThePodsPeriod) {
  // 2 CPUs + 500m: 2.5 CPUs, 250000 us per 100 ms (ResourceConfigForPod of a Guaranteed pod).
  EXPECT_EQ(kubeletPodCpuQuota({quota(200000, 100000), quota(50000, 100000)}, 100000), 250000);
  // Containers' quotas at another period count by their limit, not their raw quota.
  EXPECT_EQ(kubeletPodCpuQuota({quota(100000, 50000), quota(50000, 100000)}, 100000), 250000);
  EXPECT_EQ(kubeletPodCpuQuota({quota(200000, 100000)}, 50000), 100000);
  // MilliCPUToQuota's 1 ms floor.
  EXPECT_EQ(kubeletPodCpuQuota({quota(1000, 100000)}, 10000), 1000);
}

TEST(KubeletPodCpuQuotaTest, NoQuotaWhenAContainerHasNoLimit) {
  EXPECT_EQ(kubeletPodCpuQuota({quota(200000, 100000), quota(-1, 100000)}, 100000), std::nullopt);
  EXPECT_EQ(kubeletPodCpuQuota({nri::LinuxResources{}}, 100000), std::nullopt);
  EXPECT_EQ(kubeletPodCpuQuota({}, 100000), std::nullopt);
  EXPECT_EQ(kubeletPodCpuQuota({quota(200000, 100000)}, 0), std::nullopt);
  EXPECT_EQ(kubeletPodCpuQuota({quota(200000, 0)}, 100000), std::nullopt);
}

TEST(KubeletPodCpuQuotaTest, HugeLimitsSaturateInsteadOfOverflowing) {
  auto huge = kubeletPodCpuQuota({quota(std::numeric_limits<int64_t>::max(), 1)}, 1000000);
  ASSERT_TRUE(huge.has_value());
  EXPECT_GT(*huge, 0);
}

}  // namespace
}  // namespace topod::agent
