// A container's allocation across its attempts (issue 17 item 2): the kubelet allocates a
// Guaranteed container's CPUs at admission and keeps them until the pod goes, so a crashing
// container comes back on the same CPUs, and every event acts on the container id it names.
// The orders are the ones a real kubelet and containerd produce: exit -> new attempt -> removal
// of the old one, and the new attempt created before the old one stops.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "config/config.h"
#include "tests/agent/agent_test_support.h"
#include "tests/fakes/fake_policy.h"

namespace topod::agent {
namespace {

using testing::guaranteed;
using testing::makeContainer;
using testing::makePod;
using testing::TempDir;

class AgentAttemptsTest : public ::testing::Test {
 protected:
  void SetUp() override { agent_ = start(); }

  std::unique_ptr<Agent> start() {
    auto agent = Agent::create(topology_, {.policy = defaultConfig().policy, .state_dir = dir_.path()},
                               std::make_unique<testing::FakeExclusivePolicy>(topology_));
    EXPECT_TRUE(agent.has_value()) << agent.error().toString();
    return agent.has_value() ? std::move(*agent) : nullptr;
  }

  // A new attempt of `container`: same pod and name, a new id.
  static nri::Container attempt(nri::Container container, int n) {
    container.id += "-attempt" + std::to_string(n);
    return container;
  }

  CpuSet held(const nri::Pod& pod, const std::string& name) const {
    policies::State state = agent_->state();
    auto it = state.containers().find({pod.uid, name});
    return it == state.containers().end() ? CpuSet{} : it->second.exclusive_cpus;
  }

  TempDir dir_;
  topology::Topology topology_ = testing::twoNodeTopology();
  std::unique_ptr<Agent> agent_;
};

TEST_F(AgentAttemptsTest, AStoppedContainerKeepsItsCpusAgainstOtherPods) {
  ASSERT_TRUE(agent_->onSynchronize({}, {}).has_value());
  auto pod = makePod("crashy", QosClass::Guaranteed);
  auto first = guaranteed(pod, "app", 2000);
  ASSERT_TRUE(agent_->onCreateContainer(pod, first).has_value());
  const CpuSet cpus = held(pod, "app");
  ASSERT_EQ(cpus.size(), 2);

  // It exits; a Guaranteed pod created in the gap takes every CPU still free (15 online, CPU 0
  // never exclusive, 2 held by the stopped container: 12 left).
  ASSERT_TRUE(agent_->onStopContainer(pod, first).has_value());
  auto greedy = makePod("greedy", QosClass::Guaranteed);
  ASSERT_TRUE(agent_->onCreateContainer(greedy, guaranteed(greedy, "app", 12000)).has_value());
  EXPECT_FALSE(held(greedy, "app").intersects(cpus)) << "the stopped container's CPUs were handed on";

  // The next attempt comes back on the same CPUs; removing the old one changes nothing.
  auto second = attempt(first, 2);
  auto reply = agent_->onCreateContainer(pod, second);
  ASSERT_TRUE(reply.has_value()) << reply.error().toString();
  EXPECT_EQ(*reply->adjustment.resources.cpuset_cpus, cpus);
  ASSERT_TRUE(agent_->onRemoveContainer(pod, first).has_value());
  EXPECT_EQ(held(pod, "app"), cpus);
  EXPECT_TRUE(agent_->takePendingUpdates().updates.empty());
}

TEST_F(AgentAttemptsTest, AReplacementCreatedBeforeTheOldAttemptStopsKeepsTheCpus) {
  ASSERT_TRUE(agent_->onSynchronize({}, {}).has_value());
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto old_attempt = guaranteed(pod, "app", 2000);
  ASSERT_TRUE(agent_->onCreateContainer(pod, old_attempt).has_value());
  const CpuSet cpus = held(pod, "app");

  auto replacement = attempt(old_attempt, 2);
  auto reply = agent_->onCreateContainer(pod, replacement);
  ASSERT_TRUE(reply.has_value()) << reply.error().toString();
  EXPECT_EQ(*reply->adjustment.resources.cpuset_cpus, cpus);
  // The old attempt's Stop and Remove name the old id: the replacement's CPUs stay its own.
  auto stopped = agent_->onStopContainer(pod, old_attempt);
  ASSERT_TRUE(stopped.has_value());
  EXPECT_TRUE(stopped->empty());
  ASSERT_TRUE(agent_->onRemoveContainer(pod, old_attempt).has_value());
  EXPECT_EQ(held(pod, "app"), cpus);
  auto other = makePod("g2", QosClass::Guaranteed);
  ASSERT_TRUE(agent_->onCreateContainer(other, guaranteed(other, "app", 2000)).has_value());
  EXPECT_FALSE(held(other, "app").intersects(cpus));
}

TEST_F(AgentAttemptsTest, RemovingTheLastAttemptOrThePodReleases) {
  ASSERT_TRUE(agent_->onSynchronize({}, {}).has_value());
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto container = guaranteed(pod, "app", 2000);
  ASSERT_TRUE(agent_->onCreateContainer(pod, container).has_value());
  ASSERT_TRUE(agent_->onStopContainer(pod, container).has_value());
  ASSERT_TRUE(agent_->onRemoveContainer(pod, container).has_value());
  EXPECT_TRUE(agent_->state().containers().empty());

  auto pod2 = makePod("g2", QosClass::Guaranteed);
  auto container2 = guaranteed(pod2, "app", 2000);
  ASSERT_TRUE(agent_->onCreateContainer(pod2, container2).has_value());
  ASSERT_TRUE(agent_->onStopContainer(pod2, container2).has_value());
  ASSERT_TRUE(agent_->onRemovePodSandbox(pod2).has_value());
  EXPECT_TRUE(agent_->state().containers().empty());
  EXPECT_EQ(agent_->containerCount(), 0U);
}

TEST_F(AgentAttemptsTest, ANewContainerOfThePodReusesWhatItsStoppedInitContainerHeld) {
  ASSERT_TRUE(agent_->onSynchronize({}, {}).has_value());
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto init = guaranteed(pod, "init", 12000);
  ASSERT_TRUE(agent_->onCreateContainer(pod, init).has_value());
  ASSERT_TRUE(agent_->onStopContainer(pod, init).has_value());
  // Without reuse the app's 12 CPUs would not fit beside the init container's 12.
  auto reply = agent_->onCreateContainer(pod, guaranteed(pod, "app", 12000));
  ASSERT_TRUE(reply.has_value()) << reply.error().toString();
  policies::State state = agent_->state();
  EXPECT_EQ(state.containers().count({pod.uid, "init"}), 0U);
  EXPECT_EQ(held(pod, "app").size(), 12);
}

TEST_F(AgentAttemptsTest, ARunningSiblingIsNotReused) {
  ASSERT_TRUE(agent_->onSynchronize({}, {}).has_value());
  auto pod = makePod("g1", QosClass::Guaranteed);
  ASSERT_TRUE(agent_->onCreateContainer(pod, guaranteed(pod, "sidecar", 2000)).has_value());
  const CpuSet sidecar = held(pod, "sidecar");
  ASSERT_TRUE(agent_->onCreateContainer(pod, guaranteed(pod, "app", 2000)).has_value());
  EXPECT_EQ(held(pod, "sidecar"), sidecar);
  EXPECT_FALSE(held(pod, "app").intersects(sidecar));
}

TEST_F(AgentAttemptsTest, SynchronizeKeepsTheAllocationOfAStoppedContainerAndDropsARemovedOne) {
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto stopped = guaranteed(pod, "stopped", 2000);
  auto removed = guaranteed(pod, "removed", 2000);
  ASSERT_TRUE(agent_->onSynchronize({}, {}).has_value());
  ASSERT_TRUE(agent_->onCreateContainer(pod, stopped).has_value());
  ASSERT_TRUE(agent_->onCreateContainer(pod, removed).has_value());
  const CpuSet cpus = held(pod, "stopped");
  agent_.reset();

  agent_ = start();
  ASSERT_NE(agent_, nullptr);
  stopped.state = nri::ContainerState::Stopped;
  auto synced = agent_->onSynchronize({pod}, {stopped});
  ASSERT_TRUE(synced.has_value()) << synced.error().toString();
  EXPECT_TRUE(synced->empty()) << "no update is sent to a stopped container";
  EXPECT_EQ(held(pod, "stopped"), cpus);
  EXPECT_EQ(agent_->state().containers().count({pod.uid, "removed"}), 0U);

  // Its next attempt comes back on the same CPUs.
  auto reply = agent_->onCreateContainer(pod, attempt(guaranteed(pod, "stopped", 2000), 2));
  ASSERT_TRUE(reply.has_value()) << reply.error().toString();
  EXPECT_EQ(*reply->adjustment.resources.cpuset_cpus, cpus);
}

TEST_F(AgentAttemptsTest, AnUpdateOfAnOldAttemptDoesNotTouchTheCurrentOne) {
  ASSERT_TRUE(agent_->onSynchronize({}, {}).has_value());
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto old_attempt = guaranteed(pod, "app", 2000);
  ASSERT_TRUE(agent_->onCreateContainer(pod, old_attempt).has_value());
  auto current = attempt(old_attempt, 2);
  ASSERT_TRUE(agent_->onCreateContainer(pod, current).has_value());
  const CpuSet cpus = held(pod, "app");
  // The old attempt is forgotten: an update naming it is a first sight, and it must not take the
  // key over from the running attempt or change its CPUs.
  auto updated = agent_->onUpdateContainer(pod, old_attempt, guaranteed(pod, "app", 4000).resources);
  ASSERT_TRUE(updated.has_value()) << updated.error().toString();
  EXPECT_TRUE(updated->empty());
  EXPECT_EQ(held(pod, "app"), cpus);
}

TEST_F(AgentAttemptsTest, SharedContainersKeepTheirAllocationAcrossAttemptsToo) {
  ASSERT_TRUE(agent_->onSynchronize({}, {}).has_value());
  auto pod = makePod("b1", QosClass::Burstable);
  auto container = makeContainer(pod, "app", 500, 0);
  ASSERT_TRUE(agent_->onCreateContainer(pod, container).has_value());
  ASSERT_TRUE(agent_->onStopContainer(pod, container).has_value());
  auto reply = agent_->onCreateContainer(pod, attempt(container, 2));
  ASSERT_TRUE(reply.has_value()) << reply.error().toString();
  EXPECT_EQ(*reply->adjustment.resources.cpuset_cpus, topology_.onlineCpus());
  EXPECT_EQ(agent_->state().size(), 1U);
}

}  // namespace
}  // namespace topod::agent
