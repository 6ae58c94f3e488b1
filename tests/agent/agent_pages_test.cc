// Pages follow cpuset.mems (Agent::followPages): which changes queue a page move, that the move
// waits until the runtime shows the new cpuset.mems in the container's cgroup, what it migrates,
// and when it is dropped or given up. A fake cgroup tree, a fake migrate_pages(2), a fake clock.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "agent/agent.h"
#include "config/config.h"
#include "tests/agent/agent_test_support.h"
#include "tests/fakes/fake_cgroup_fs.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_page_mover.h"
#include "tests/fakes/fake_policy.h"

namespace topod::agent {
namespace {

using namespace std::chrono_literals;
using testing::guaranteed;
using testing::makePod;

// FakeExclusivePolicy with NUMA memory: an exclusive container's cpuset.mems is the nodes of its
// CPUs (8 per node in twoNodeTopology), a shared one's is unrestricted.
class NodeAwareFakePolicy final : public policies::Policy {
 public:
  explicit NodeAwareFakePolicy(const topology::Topology& topology) : inner_(topology) {}
  std::string_view name() const override { return "fake-node-aware"; }
  Result<policies::Decision> admit(const policies::State& state, const policies::PodRequest& pod,
                                   const policies::ContainerRequest& container) const override {
    return withMems(inner_.admit(state, pod, container));
  }
  Result<policies::Decision> resize(const policies::State& state, const policies::PodRequest& pod,
                                    const policies::ContainerRequest& resized) const override {
    return withMems(inner_.resize(state, pod, resized));
  }
  std::map<policies::ContainerKey, policies::Placement> placements(const policies::State& state) const override {
    auto out = inner_.placements(state);
    for (auto& [key, placement] : out) {
      if (!state.containers().at(key).exclusive_cpus.empty()) placement.mems = nodesOf(placement.cpus);
    }
    return out;
  }
  CpuSet sharedCpus(const policies::State& state) const override { return inner_.sharedCpus(state); }
  CpuSet reservedCpus() const override { return inner_.reservedCpus(); }

 private:
  static NodeSet nodesOf(const CpuSet& cpus) {
    NodeSet nodes;
    for (int cpu : cpus) nodes.insert(cpu / 8);
    return nodes;
  }
  static Result<policies::Decision> withMems(Result<policies::Decision> decision) {
    if (decision.has_value() && !decision->allocation.exclusive_cpus.empty()) {
      decision->placement.mems = nodesOf(decision->placement.cpus);
    }
    return decision;
  }
  testing::FakeExclusivePolicy inner_;
};

class AgentPagesTest : public ::testing::Test {
 protected:
  std::unique_ptr<Agent> makeAgent() {
    AgentOptions options{.policy = defaultConfig().policy,
                         .state_dir = dir_.path(),
                         .cgroups = &cgroups_,
                         .pages = &mover_,
                         .clock = &clock_};
    auto agent = Agent::create(topology_, options, std::make_unique<NodeAwareFakePolicy>(topology_));
    EXPECT_TRUE(agent.has_value()) << agent.error().toString();
    return agent.has_value() ? std::move(*agent) : nullptr;
  }
  // A running Guaranteed container of `cpus` whole CPUs, in a cgroup with two processes.
  nri::Container running(const nri::Pod& pod, int cpus, const std::string& mems) {
    auto c = guaranteed(pod, "app", 1000 * cpus);
    c.state = nri::ContainerState::Running;
    cgroups_.addCgroup(c.cgroups_path, "", mems);
    cgroups_.set(c.cgroups_path, "cgroup.procs", "41\n42\n");
    return c;
  }

  testing::TempDir dir_;
  topology::Topology topology_ = testing::twoNodeTopology();
  testing::FakeCgroupFs cgroups_;
  testing::FakePageMover mover_;
  testing::FakeClock clock_;
};

TEST_F(AgentPagesTest, AnAdoptedContainersPagesFollowOnceTheRuntimeAppliedItsNodes) {
  auto agent = makeAgent();
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto c = running(pod, 2, "0-1");  // it ran unpinned while topod was away
  ASSERT_TRUE(agent->onSynchronize({pod}, {c}).has_value());
  ASSERT_TRUE(agent->pagesPending()) << "adopted onto node 0 only: its pages may be anywhere";

  agent->followPages(2s);
  EXPECT_TRUE(mover_.moves.empty()) << "the runtime has not applied cpuset.mems=0 yet";
  EXPECT_TRUE(agent->pagesPending());

  cgroups_.set(c.cgroups_path, "cpuset.mems", "0");  // the runtime applied the update
  agent->followPages(2s);
  ASSERT_EQ(mover_.moves.size(), 2u);
  EXPECT_EQ(mover_.moves[0].pid, 41);
  EXPECT_EQ(mover_.moves[1].pid, 42);
  EXPECT_EQ(mover_.moves[0].to, NodeSet{0});
  EXPECT_TRUE(mover_.moves[0].from.contains(1));
  EXPECT_FALSE(agent->pagesPending());

  agent->followPages(2s);
  EXPECT_EQ(mover_.moves.size(), 2u) << "moved once";
}

TEST_F(AgentPagesTest, AResizeThatNarrowsTheNodesMovesThePages) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->onSynchronize({}, {}).has_value());
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto c = guaranteed(pod, "app", 10000);  // CPUs 1-10: both nodes
  ASSERT_TRUE(agent->onCreateContainer(pod, c).has_value());
  EXPECT_FALSE(agent->pagesPending()) << "a new container has no pages yet";
  cgroups_.addCgroup(c.cgroups_path, "", "0-1");
  cgroups_.set(c.cgroups_path, "cgroup.procs", "7\n");

  auto small = guaranteed(pod, "app", 2000);  // keeps CPUs 1-2: node 0
  ASSERT_TRUE(agent->onUpdateContainer(pod, small, small.resources).has_value());
  ASSERT_TRUE(agent->pagesPending());
  cgroups_.set(c.cgroups_path, "cpuset.mems", "0");
  agent->followPages(2s);
  ASSERT_EQ(mover_.moves.size(), 1u);
  EXPECT_EQ(mover_.moves[0].pid, 7);
  EXPECT_EQ(mover_.moves[0].to, NodeSet{0});
}

TEST_F(AgentPagesTest, NodesKeptOrWidenedMoveNothing) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->onSynchronize({}, {}).has_value());
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto c = guaranteed(pod, "app", 4000);  // CPUs 1-4: node 0
  ASSERT_TRUE(agent->onCreateContainer(pod, c).has_value());
  auto smaller = guaranteed(pod, "app", 2000);  // still node 0
  ASSERT_TRUE(agent->onUpdateContainer(pod, smaller, smaller.resources).has_value());
  EXPECT_FALSE(agent->pagesPending()) << "confined to node 0 before and after";
  auto wide = guaranteed(pod, "app", 12000);  // both nodes: unrestricted
  ASSERT_TRUE(agent->onUpdateContainer(pod, wide, wide.resources).has_value());
  EXPECT_FALSE(agent->pagesPending()) << "every node allowed: the pages may stay where they are";
}

TEST_F(AgentPagesTest, GivesUpWhenTheRuntimeNeverAppliesTheNodes) {
  auto agent = makeAgent();
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto c = running(pod, 2, "0-1");
  ASSERT_TRUE(agent->onSynchronize({pod}, {c}).has_value());
  clock_.advance(Agent::kPageApplyWait - 1s);
  agent->followPages(2s);
  EXPECT_TRUE(agent->pagesPending()) << "still waiting";
  clock_.advance(2s);
  agent->followPages(2s);
  EXPECT_FALSE(agent->pagesPending()) << "given up (with a warning)";
  EXPECT_TRUE(mover_.moves.empty()) << "never moved onto nodes its cgroup does not allow";
}

TEST_F(AgentPagesTest, ARemovedOrVanishedContainerDropsItsMove) {
  auto agent = makeAgent();
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto c = running(pod, 2, "0-1");
  ASSERT_TRUE(agent->onSynchronize({pod}, {c}).has_value());
  ASSERT_TRUE(agent->pagesPending());
  ASSERT_TRUE(agent->onRemoveContainer(pod, c).has_value());
  EXPECT_FALSE(agent->pagesPending());

  auto pod2 = makePod("g2", QosClass::Guaranteed);
  auto c2 = running(pod2, 2, "0-1");
  ASSERT_TRUE(agent->onSynchronize({pod2}, {c2}).has_value());
  cgroups_.removeCgroup(c2.cgroups_path);  // exited: its cgroup is gone
  agent->followPages(2s);
  EXPECT_FALSE(agent->pagesPending());
  EXPECT_TRUE(mover_.moves.empty());
}

TEST_F(AgentPagesTest, TheBudgetLeavesTheRestForTheNextCall) {
  auto agent = makeAgent();
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto c = running(pod, 2, "0");
  mover_.fake_clock = &clock_;
  mover_.cost = 3s;  // each process takes longer than the budget
  ASSERT_TRUE(agent->onSynchronize({pod}, {c}).has_value());
  agent->followPages(2s);
  EXPECT_EQ(mover_.moves.size(), 1u);
  EXPECT_TRUE(agent->pagesPending()) << "the second process is left for the next call";
  agent->followPages(10s);
  EXPECT_FALSE(agent->pagesPending());
}

}  // namespace
}  // namespace topod::agent
