// The Agent's event handling, called directly as nri::Plugin would call it, over a 16-CPU,
// 2-NUMA topology, with a small static-like fake policy (the engine's policies have their own
// tests; these are about what the agent does with decisions).
#include "agent/agent.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "state/checkpoint.h"
#include "state/state_json.h"
#include "tests/agent/agent_test_support.h"
#include "tests/fakes/fake_cgroup_fs.h"
#include "tests/fakes/fake_policy.h"

namespace topod::agent {
namespace {

using testing::guaranteed;
using testing::makeContainer;
using testing::makePod;
using testing::TempDir;

const nri::Update* updateOf(const std::vector<nri::Update>& updates, const std::string& id) {
  for (const auto& update : updates) {
    if (update.container_id == id) return &update;
  }
  return nullptr;
}

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override { agent_ = makeAgent(); }

  std::unique_ptr<Agent> makeAgent(cgroups::CgroupFs* cgroups = nullptr, bool synchronize = true) {
    AgentOptions options{.policy = defaultConfig().policy, .state_dir = dir_.path(), .cgroups = cgroups};
    auto agent = Agent::create(topology_, options, std::make_unique<testing::FakeExclusivePolicy>(topology_));
    EXPECT_TRUE(agent.has_value()) << agent.error().toString();
    if (!agent.has_value()) return nullptr;
    if (!synchronize) return std::move(*agent);
    auto synced = (*agent)->onSynchronize({}, {});
    EXPECT_TRUE(synced.has_value());
    return std::move(*agent);
  }

  CpuSet exclusiveOf(const nri::Pod& pod, const std::string& name) {
    return agent_->state().containers().at({pod.uid, name}).exclusive_cpus;
  }

  TempDir dir_;
  topology::Topology topology_ = testing::twoNodeTopology();
  std::unique_ptr<Agent> agent_;
};

TEST_F(AgentTest, SharedContainerGetsTheSharedPool) {
  auto pod = makePod("b1", QosClass::Burstable);
  ASSERT_TRUE(agent_->onRunPodSandbox(pod).has_value());
  auto reply = agent_->onCreateContainer(pod, makeContainer(pod, "app", 500, 1000));
  ASSERT_TRUE(reply.has_value()) << reply.error().toString();
  EXPECT_EQ(reply->adjustment.resources.cpuset_cpus, topology_.onlineCpus());
  // A shared container keeps the quota the kubelet asked for.
  EXPECT_EQ(reply->adjustment.resources.cpu_quota, 100000);
  EXPECT_TRUE(reply->updates.empty());
}

TEST_F(AgentTest, ExclusiveCpusAreCarvedOutOfTheSharedPoolAndReturned) {
  auto shared_pod = makePod("b1", QosClass::Burstable);
  auto shared = makeContainer(shared_pod, "app", 500, 0);
  ASSERT_TRUE(agent_->onCreateContainer(shared_pod, shared).has_value());

  auto pod = makePod("g1", QosClass::Guaranteed);
  auto reply = agent_->onCreateContainer(pod, guaranteed(pod, "app", 2000));
  ASSERT_TRUE(reply.has_value()) << reply.error().toString();
  CpuSet exclusive = *reply->adjustment.resources.cpuset_cpus;
  EXPECT_EQ(exclusive.size(), 2);
  EXPECT_EQ(exclusive, exclusiveOf(pod, "app"));
  EXPECT_EQ(reply->adjustment.resources.cpu_quota, -1) << "no CFS quota on exclusive CPUs";
  const nri::Update* moved = updateOf(reply->updates, shared.id);
  ASSERT_NE(moved, nullptr) << "the shared container must leave the exclusive CPUs";
  EXPECT_FALSE(moved->resources.cpuset_cpus->intersects(exclusive));
  EXPECT_EQ(*moved->resources.cpuset_cpus, topology_.onlineCpus() - exclusive);

  // Stopped, the container keeps its CPUs for its next attempt (as the kubelet keeps them).
  auto stopped = agent_->onStopContainer(pod, guaranteed(pod, "app", 2000));
  ASSERT_TRUE(stopped.has_value());
  EXPECT_TRUE(stopped->empty());
  EXPECT_EQ(exclusiveOf(pod, "app"), exclusive);

  // Removed for good, it gives them back to the shared container (an unsolicited update).
  ASSERT_TRUE(agent_->onRemoveContainer(pod, guaranteed(pod, "app", 2000)).has_value());
  PendingUpdates pending = agent_->takePendingUpdates();
  const nri::Update* back = updateOf(pending.updates, shared.id);
  ASSERT_NE(back, nullptr) << "the shared container must get the CPUs back";
  EXPECT_EQ(*back->resources.cpuset_cpus, topology_.onlineCpus());
  EXPECT_EQ(agent_->state().containers().count({pod.uid, "app"}), 0U);
}

TEST_F(AgentTest, RefusedContainerFailsWithTheReason) {
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto reply = agent_->onCreateContainer(pod, guaranteed(pod, "huge", 64000));
  ASSERT_FALSE(reply.has_value());
  EXPECT_NE(reply.error().message().find("topod refused container g1/huge"), std::string::npos)
      << reply.error().message();
  EXPECT_GT(reply.error().message().size(), std::string("topod refused container g1/huge: ").size());
  EXPECT_TRUE(agent_->state().containers().empty());
}

TEST_F(AgentTest, ResizeGrowsAndShrinksAnExclusiveAllocation) {
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto container = guaranteed(pod, "app", 2000);
  ASSERT_TRUE(agent_->onCreateContainer(pod, container).has_value());
  CpuSet before = exclusiveOf(pod, "app");

  nri::LinuxResources grow = guaranteed(pod, "app", 4000).resources;
  auto grown = agent_->onUpdateContainer(pod, container, grow);
  ASSERT_TRUE(grown.has_value()) << grown.error().toString();
  CpuSet after_grow = exclusiveOf(pod, "app");
  EXPECT_EQ(after_grow.size(), 4);
  EXPECT_TRUE(before.isSubsetOf(after_grow)) << "growing keeps the CPUs it had";
  const nri::Update* own = updateOf(*grown, container.id);
  ASSERT_NE(own, nullptr);
  EXPECT_EQ(*own->resources.cpuset_cpus, after_grow);

  auto shrunk = agent_->onUpdateContainer(pod, container, guaranteed(pod, "app", 1000).resources);
  ASSERT_TRUE(shrunk.has_value()) << shrunk.error().toString();
  CpuSet after_shrink = exclusiveOf(pod, "app");
  EXPECT_EQ(after_shrink.size(), 1);
  EXPECT_TRUE(after_shrink.isSubsetOf(after_grow));

  auto refused = agent_->onUpdateContainer(pod, container, guaranteed(pod, "app", 64000).resources);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("topod refused resize of g1/app"), std::string::npos);
  EXPECT_EQ(exclusiveOf(pod, "app"), after_shrink) << "a refused resize leaves the allocation";
}

TEST_F(AgentTest, RemovePodSandboxQueuesUnsolicitedUpdates) {
  int notified = 0;
  agent_->setPendingNotifier([&] { ++notified; });
  auto shared_pod = makePod("b1", QosClass::Burstable);
  auto shared = makeContainer(shared_pod, "app", 500, 0);
  ASSERT_TRUE(agent_->onCreateContainer(shared_pod, shared).has_value());
  auto pod = makePod("g1", QosClass::Guaranteed);
  ASSERT_TRUE(agent_->onCreateContainer(pod, guaranteed(pod, "app", 3000)).has_value());

  ASSERT_TRUE(agent_->onRemovePodSandbox(pod).has_value());
  EXPECT_EQ(notified, 1);
  PendingUpdates pending = agent_->takePendingUpdates();
  const nri::Update* back = updateOf(pending.updates, shared.id);
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(*back->resources.cpuset_cpus, topology_.onlineCpus());
  agent_->unsolicitedDone(pending, {});
  EXPECT_TRUE(agent_->takePendingUpdates().updates.empty());
}

TEST_F(AgentTest, UnsolicitedUpdatesOvertakenByAnEventAreResent) {
  auto shared_pod = makePod("b1", QosClass::Burstable);
  auto shared = makeContainer(shared_pod, "app", 500, 0);
  ASSERT_TRUE(agent_->onCreateContainer(shared_pod, shared).has_value());
  auto pod = makePod("g1", QosClass::Guaranteed);
  ASSERT_TRUE(agent_->onCreateContainer(pod, guaranteed(pod, "app", 2000)).has_value());
  ASSERT_TRUE(agent_->onRemoveContainer(pod, guaranteed(pod, "app", 2000)).has_value());
  PendingUpdates in_flight = agent_->takePendingUpdates();
  ASSERT_NE(updateOf(in_flight.updates, shared.id), nullptr);
  // While those travel, another event answers with newer cpus for the same container.
  auto pod2 = makePod("g2", QosClass::Guaranteed);
  ASSERT_TRUE(agent_->onCreateContainer(pod2, guaranteed(pod2, "app", 2000)).has_value());
  agent_->unsolicitedDone(in_flight, {});
  PendingUpdates again = agent_->takePendingUpdates();
  const nri::Update* resent = updateOf(again.updates, shared.id);
  ASSERT_NE(resent, nullptr);
  EXPECT_FALSE(resent->resources.cpuset_cpus->intersects(exclusiveOf(pod2, "app")));
}

TEST_F(AgentTest, RestartRestoresTheCheckpointAndSynchronizeKeepsIt) {
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto container = guaranteed(pod, "app", 2000);
  ASSERT_TRUE(agent_->onCreateContainer(pod, container).has_value());
  policies::State before = agent_->state();
  agent_.reset();

  auto restarted = Agent::create(topology_, {.policy = defaultConfig().policy, .state_dir = dir_.path()},
                                 std::make_unique<testing::FakeExclusivePolicy>(topology_));
  ASSERT_TRUE(restarted.has_value());
  EXPECT_NE((*restarted)->startupReport().find("restored 1"), std::string::npos);
  EXPECT_EQ((*restarted)->state(), before);
  container.resources.cpuset_cpus = before.containers().begin()->second.exclusive_cpus;
  container.resources.cpu_quota = -1;
  container.state = nri::ContainerState::Running;
  auto updates = (*restarted)->onSynchronize({pod}, {container});
  ASSERT_TRUE(updates.has_value());
  EXPECT_TRUE(updates->empty()) << "nothing drifted";
  EXPECT_EQ((*restarted)->state(), before);
}

TEST_F(AgentTest, SynchronizeDropsVanishedAdoptsUnknownAndFixesDrift) {
  auto gone_pod = makePod("g0", QosClass::Guaranteed);
  ASSERT_TRUE(agent_->onCreateContainer(gone_pod, guaranteed(gone_pod, "app", 2000)).has_value());

  testing::FakeCgroupFs cgroups;
  auto agent = makeAgent(&cgroups, /*synchronize=*/false);
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto adoptee = guaranteed(pod, "app", 2000);
  adoptee.state = nri::ContainerState::Running;
  auto shared_pod = makePod("b1", QosClass::Burstable);
  auto drifted = makeContainer(shared_pod, "app", 500, 0);
  drifted.state = nri::ContainerState::Running;
  drifted.resources.cpuset_cpus = topology_.onlineCpus();  // the runtime's (stale) view
  cgroups.addCgroup(drifted.cgroups_path, "3", "0");       // the kernel's truth: drifted

  auto updates = agent->onSynchronize({pod, shared_pod}, {adoptee, drifted});
  ASSERT_TRUE(updates.has_value()) << updates.error().toString();
  policies::State state = agent->state();
  EXPECT_EQ(state.containers().count({"g0", "app"}), 0U) << "vanished container dropped";
  ASSERT_EQ(state.containers().count({"g1", "app"}), 1U) << "unknown container adopted";
  CpuSet exclusive = state.containers().at({"g1", "app"}).exclusive_cpus;
  EXPECT_EQ(exclusive.size(), 2);
  ASSERT_NE(updateOf(*updates, adoptee.id), nullptr);
  const nri::Update* fix = updateOf(*updates, drifted.id);
  ASSERT_NE(fix, nullptr) << "the drifted cpuset is re-applied";
  EXPECT_EQ(*fix->resources.cpuset_cpus, topology_.onlineCpus() - exclusive);
}

TEST_F(AgentTest, CorruptCheckpointIsMovedAsideAndRebuilt) {
  agent_.reset();
  std::ofstream(dir_.path() + "/state.json") << "{\"version\": 1, \"checksum\": \"fnv1a64:0000000000000000\"}";
  auto agent = Agent::create(topology_, {.policy = defaultConfig().policy, .state_dir = dir_.path()},
                             std::make_unique<testing::FakeExclusivePolicy>(topology_));
  ASSERT_TRUE(agent.has_value());
  EXPECT_NE((*agent)->startupReport().find("moved aside"), std::string::npos) << (*agent)->startupReport();
  EXPECT_TRUE((*agent)->state().containers().empty());
  bool found = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    if (entry.path().filename().string().rfind("state.json.corrupt-", 0) == 0) found = true;
  }
  EXPECT_TRUE(found);
}

TEST_F(AgentTest, CheckpointThatDoesNotFitTheTopologyIsMovedAside) {
  agent_.reset();
  policies::State alien;
  policies::ContainerAllocation allocation;
  allocation.exclusive_cpus = CpuSet{40, 41};  // CPUs this machine does not have
  allocation.qos = QosClass::Guaranteed;
  allocation.request.name = "app";
  alien.put({"g9", "app"}, allocation);
  std::ofstream(dir_.path() + "/state.json") << policies::serializeState(alien);
  auto agent = Agent::create(topology_, {.policy = defaultConfig().policy, .state_dir = dir_.path()},
                             std::make_unique<testing::FakeExclusivePolicy>(topology_));
  ASSERT_TRUE(agent.has_value());
  EXPECT_NE((*agent)->startupReport().find("moved aside"), std::string::npos) << (*agent)->startupReport();
  EXPECT_TRUE((*agent)->state().containers().empty());
}

TEST_F(AgentTest, EveryChangeIsCheckpointedBeforeTheReply) {
  auto pod = makePod("g1", QosClass::Guaranteed);
  ASSERT_TRUE(agent_->onCreateContainer(pod, guaranteed(pod, "app", 2000)).has_value());
  auto on_disk = Checkpoint::readOnDisk(dir_.path());
  ASSERT_TRUE(on_disk.has_value()) << on_disk.error().toString();
  EXPECT_EQ(*on_disk, agent_->state());
}

}  // namespace
}  // namespace topod::agent
