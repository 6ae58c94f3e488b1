// End to end through the real NRI protocol: SimRuntime (the runtime's side, over a socketpair)
// <-> nri::Plugin <-> Agent, with a fake cgroup tree. Pods come and go, exclusive CPUs are carved
// out of the shared pool and returned (by replies and by unsolicited UpdateContainers), resize
// grows and shrinks, refused containers fail with the reason, a reconnect resynchronizes.
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "agent/agent.h"
#include "config/config.h"
#include "nri/plugin.h"
#include "tests/agent/agent_harness.h"
#include "tests/agent/agent_test_support.h"
#include "tests/agent/sim_runtime.h"
#include "tests/fakes/fake_cgroup_fs.h"
#include "tests/fakes/fake_nri_connector.h"
#include "tests/fakes/fake_policy.h"

namespace topod::agent {
namespace {

using testing::guaranteed;
using testing::makeContainer;
using testing::makePod;

class AgentE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status started = h_.start(
        Agent::create(topology_, {.policy = defaultConfig().policy, .state_dir = dir_.path(), .cgroups = &cgroups_},
                      std::make_unique<testing::FakeExclusivePolicy>(topology_)));
    ASSERT_TRUE(started.has_value()) << started.error().toString();
  }

  nri::Container add(const nri::Pod& pod, const nri::Container& c) {
    cgroups_.addCgroup(c.cgroups_path);
    auto adjustment = h_.add(pod, c);
    EXPECT_TRUE(adjustment.has_value()) << adjustment.error().toString();
    return c;
  }

  testing::TempDir dir_;
  topology::Topology topology_ = testing::twoNodeTopology();
  testing::FakeCgroupFs cgroups_;
  testing::AgentHarness h_;
};

TEST_F(AgentE2eTest, PodsComeAndGoAndTheSharedPoolFollows) {
  auto burstable = makePod("b1", QosClass::Burstable);
  auto shared = add(burstable, makeContainer(burstable, "app", 500, 1000));
  auto besteffort = makePod("e1", QosClass::BestEffort);
  auto idle = add(besteffort, makeContainer(besteffort, "app", 0, 0));
  EXPECT_EQ(h_.runtime->cpusOf(shared.id), topology_.onlineCpus());

  auto pod = makePod("g1", QosClass::Guaranteed);
  auto pinned = add(pod, guaranteed(pod, "app", 3000));
  CpuSet exclusive = h_.runtime->cpusOf(pinned.id);
  EXPECT_EQ(exclusive.size(), 3);
  EXPECT_EQ(h_.runtime->containers.at(pinned.id).resources.cpu_quota, -1);
  // Both shared containers were moved off the exclusive CPUs in the same reply.
  EXPECT_EQ(h_.runtime->cpusOf(shared.id), topology_.onlineCpus() - exclusive);
  EXPECT_EQ(h_.runtime->cpusOf(idle.id), topology_.onlineCpus() - exclusive);

  // Removing the pod (no reply can carry updates) returns the CPUs by unsolicited updates.
  ASSERT_TRUE(h_.runtime->removePod(pod.id).has_value());
  EXPECT_TRUE(h_.runtime->pumpUntil([&] {
    return h_.runtime->cpusOf(shared.id) == topology_.onlineCpus() &&
           h_.runtime->cpusOf(idle.id) == topology_.onlineCpus();
  }));
  EXPECT_GE(h_.runtime->unsolicited_batches, 1);
  EXPECT_TRUE(h_.agent->state().containers().count({"g1", "app"}) == 0);
}

TEST_F(AgentE2eTest, StopKeepsTheCpusForTheNextAttemptAndPodRemovalReturnsThem) {
  auto burstable = makePod("b1", QosClass::Burstable);
  auto shared = add(burstable, makeContainer(burstable, "app", 500, 0));
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto pinned = add(pod, guaranteed(pod, "app", 2000));
  const CpuSet exclusive = h_.runtime->cpusOf(pinned.id);
  EXPECT_FALSE(h_.runtime->cpusOf(shared.id).intersects(exclusive));
  // A stopped container keeps its CPUs (the kubelet restarts it on them).
  ASSERT_TRUE(h_.runtime->stopContainer(pinned.id).has_value());
  EXPECT_EQ(h_.runtime->cpusOf(shared.id), topology_.onlineCpus() - exclusive);
  ASSERT_TRUE(h_.runtime->removePod(pod.id).has_value());
  EXPECT_TRUE(h_.runtime->pumpUntil([&] { return h_.runtime->cpusOf(shared.id) == topology_.onlineCpus(); }));
}

TEST_F(AgentE2eTest, RefusedContainerFailsCreationWithTheReason) {
  auto pod = makePod("g1", QosClass::Guaranteed);
  ASSERT_TRUE(h_.runtime->runPod(pod).has_value());
  auto refused = h_.runtime->createContainer(guaranteed(pod, "huge", 64000));
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("topod refused container g1/huge"), std::string::npos)
      << refused.error().message();
  EXPECT_NE(refused.error().message().find("not enough free CPUs"), std::string::npos);
  EXPECT_EQ(h_.runtime->containers.count("g1-huge"), 0U);
}

TEST_F(AgentE2eTest, ResizeGrowsAndShrinksInPlace) {
  auto burstable = makePod("b1", QosClass::Burstable);
  auto shared = add(burstable, makeContainer(burstable, "app", 500, 0));
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto pinned = add(pod, guaranteed(pod, "app", 2000));
  CpuSet before = h_.runtime->cpusOf(pinned.id);

  ASSERT_TRUE(h_.runtime->updateContainer(pinned.id, guaranteed(pod, "app", 4000).resources).has_value());
  CpuSet grown = h_.runtime->cpusOf(pinned.id);
  EXPECT_EQ(grown.size(), 4);
  EXPECT_TRUE(before.isSubsetOf(grown));
  EXPECT_FALSE(h_.runtime->cpusOf(shared.id).intersects(grown));

  ASSERT_TRUE(h_.runtime->updateContainer(pinned.id, guaranteed(pod, "app", 1000).resources).has_value());
  CpuSet shrunk = h_.runtime->cpusOf(pinned.id);
  EXPECT_EQ(shrunk.size(), 1);
  EXPECT_EQ(h_.runtime->cpusOf(shared.id), topology_.onlineCpus() - shrunk);
}

TEST_F(AgentE2eTest, ReconnectResynchronizesAndRepairsDrift) {
  auto burstable = makePod("b1", QosClass::Burstable);
  auto shared = add(burstable, makeContainer(burstable, "app", 500, 0));
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto pinned = add(pod, guaranteed(pod, "app", 2000));
  CpuSet exclusive = h_.runtime->cpusOf(pinned.id);
  // Something else rewrote the shared container's cpuset behind topod's back.
  cgroups_.set(shared.cgroups_path, "cpuset.cpus", topology_.onlineCpus().toString());

  // The runtime restarts: a new connection and a full Synchronize.
  h_.runtime->disconnect();
  h_.runtime->reconnect(h_.connector->waitForPeer());
  h_.runtime->containers.at(shared.id).resources.cpuset_cpus = topology_.onlineCpus();
  ASSERT_TRUE(h_.runtime->handshake().has_value());
  EXPECT_EQ(h_.runtime->cpusOf(shared.id), topology_.onlineCpus() - exclusive) << "drift repaired";
  EXPECT_EQ(h_.runtime->cpusOf(pinned.id), exclusive) << "nothing else moved";
}

// Events for objects topod never saw (not in Synchronize, never created through it), through
// the real plugin to the Agent: each is answered without an error and without touching what
// topod manages; an UpdateContainer for an unknown container of a known pod is admitted (the
// runtime is the source of truth).
TEST_F(AgentE2eTest, EventsForObjectsItNeverSawAreAnsweredNeutrally) {
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto pinned = add(pod, guaranteed(pod, "app", 2000));
  const CpuSet exclusive = h_.runtime->cpusOf(pinned.id);

  // A container of a known pod, and a pod with a container, that the agent never heard of.
  auto stranger = guaranteed(pod, "stranger", 1000);
  h_.runtime->containers[stranger.id] = stranger;
  auto ghost_pod = makePod("ghost", QosClass::Burstable);
  auto ghost = makeContainer(ghost_pod, "app", 500, 0);
  h_.runtime->pods[ghost_pod.id] = ghost_pod;
  h_.runtime->containers[ghost.id] = ghost;

  EXPECT_TRUE(h_.runtime->stopContainer(ghost.id).has_value());
  EXPECT_TRUE(h_.runtime->removeContainer(ghost.id).has_value());
  EXPECT_TRUE(h_.runtime->removePod(ghost_pod.id).has_value());
  EXPECT_TRUE(h_.runtime->stopContainer(stranger.id).has_value());
  EXPECT_TRUE(h_.runtime->removeContainer(stranger.id).has_value());
  EXPECT_EQ(h_.runtime->cpusOf(pinned.id), exclusive) << "an unknown object moved a known one";
  EXPECT_EQ(h_.agent->containerCount(), 1U);

  auto late = guaranteed(pod, "late", 1000);
  h_.runtime->containers[late.id] = late;
  ASSERT_TRUE(h_.runtime->updateContainer(late.id, late.resources).has_value());
  EXPECT_EQ(h_.agent->state().containers().count({"g1", "late"}), 1U);
  EXPECT_EQ(h_.runtime->cpusOf(pinned.id), exclusive);
}

}  // namespace
}  // namespace topod::agent
