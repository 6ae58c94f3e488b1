// In-place resize with the topology-aware policy: grow next to what the container has, shrink
// the most recently added CPUs first, refusals leave the State as it was.
#include <gtest/gtest.h>

#include "policies/topology_aware/topology_aware_policy.h"
#include "tests/policies/topology_aware/invariants.h"
#include "tests/policies/topology_aware/requests.h"
#include "tests/policies/topology_aware/shapes.h"

namespace topod::policies {
namespace {

using testing::burstable;
using testing::guaranteed;
using testing::kGiB;
using testing::podOf;

class ResizeTest : public ::testing::Test {
 protected:
  void use(const testing::ShapeSpec& shape) {
    topology_ = testing::buildShape(shape);
    policy_ = TopologyAwarePolicy::create(topology_, PolicyOptions{}).value();
  }
  // Admits or resizes pod `uid` (one container "c") and commits; returns the decision.
  Decision commit(bool admit, const std::string& uid, const ContainerRequest& c) {
    PodRequest pod = podOf(uid, {c});
    auto decision = admit ? policy_->admit(state_, pod, c) : policy_->resize(state_, pod, c);
    EXPECT_TRUE(decision.has_value()) << decision.error().toString();
    if (!decision.has_value()) return {};
    state_ = applyDecision(state_, *decision);
    EXPECT_EQ(testing::invariantViolations(topology_, *policy_, state_), std::vector<std::string>{});
    return *decision;
  }
  Error refused(const std::string& uid, const ContainerRequest& c) {
    State before = state_;
    auto decision = policy_->resize(state_, podOf(uid, {c}), c);
    EXPECT_FALSE(decision.has_value());
    EXPECT_EQ(state_, before);
    return decision.has_value() ? Error::internal("admitted") : decision.error();
  }
  CpuSet cpusOf(const std::string& uid) const { return state_.containers().at({uid, "c"}).exclusive_cpus; }

  topology::Topology topology_;
  std::unique_ptr<TopologyAwarePolicy> policy_;
  State state_;
};

using testing::kSnc;
using testing::kTwoSocket;

TEST_F(ResizeTest, GrowTakesTheSiblingThenTheSameNode) {
  use(kTwoSocket);
  commit(true, "a", guaranteed("c", 1000, kGiB));
  EXPECT_EQ(cpusOf("a"), CpuSet{0});
  commit(false, "a", guaranteed("c", 2000, kGiB));
  EXPECT_EQ(cpusOf("a"), (CpuSet{0, 16}));
  Decision grown = commit(false, "a", guaranteed("c", 4000, kGiB));
  EXPECT_EQ(cpusOf("a"), (CpuSet{0, 1, 16, 17}));
  EXPECT_NE(grown.explanation.find("kept 0,16"), std::string::npos) << grown.explanation;
}

TEST_F(ResizeTest, ShrinkReleasesPartialCoresThenTheHighestWholeCore) {
  use(kTwoSocket);
  commit(true, "a", guaranteed("c", 6000, kGiB));
  EXPECT_EQ(cpusOf("a"), (CpuSet{0, 1, 2, 16, 17, 18}));
  commit(false, "a", guaranteed("c", 4000, kGiB));
  EXPECT_EQ(cpusOf("a"), (CpuSet{0, 1, 16, 17}));
  commit(false, "a", guaranteed("c", 3000, kGiB));
  EXPECT_EQ(cpusOf("a"), (CpuSet{0, 1, 16}));
  commit(false, "a", guaranteed("c", 2000, kGiB));
  EXPECT_EQ(cpusOf("a"), (CpuSet{0, 16}));
  commit(false, "a", guaranteed("c", 3000, kGiB));
  EXPECT_EQ(cpusOf("a"), (CpuSet{0, 1, 16}));
}

TEST_F(ResizeTest, GrowSpillsToTheClosestNodeAndShrinkGivesTheSpillBackFirst) {
  use(kSnc);  // 12 CPUs per node; nodes 0 and 1 share a package
  commit(true, "a", guaranteed("c", 4000, kGiB));
  commit(true, "b", guaranteed("c", 8000, kGiB));
  EXPECT_EQ(state_.containers().at({"b", "c"}).memory_nodes, NodeSet{0});
  Decision grown = commit(false, "a", guaranteed("c", 6000, kGiB));
  NodeSet nodes;
  for (int cpu : cpusOf("a")) nodes.insert(topology_.numaOf(cpu));
  EXPECT_EQ(nodes, (NodeSet{0, 1})) << grown.explanation;
  EXPECT_EQ(grown.allocation.memory_nodes, (NodeSet{0, 1}));
  commit(false, "a", guaranteed("c", 4000, kGiB));
  nodes.clear();
  for (int cpu : cpusOf("a")) nodes.insert(topology_.numaOf(cpu));
  EXPECT_EQ(nodes, NodeSet{0});
  EXPECT_EQ(state_.containers().at({"a", "c"}).memory_nodes, NodeSet{0});
}

TEST_F(ResizeTest, GrowBeyondFreeCpusIsRefusedAndKeepsTheOldCpus) {
  use(kTwoSocket);
  commit(true, "a", guaranteed("c", 4000, kGiB));
  commit(true, "b", guaranteed("c", 26000, kGiB));
  Error error = refused("a", guaranteed("c", 8000, kGiB));
  EXPECT_EQ(error.code(), ErrorCode::ResourceExhausted);
  EXPECT_NE(error.message().find("keeping CPUs 0-1,16-17"), std::string::npos) << error.toString();
}

TEST_F(ResizeTest, MemoryGrowBeyondTheNodeIsRefused) {
  use(kTwoSocket);
  commit(true, "a", guaranteed("c", 2000, 8 * kGiB));
  commit(true, "b", guaranteed("c", 2000, 50 * kGiB));
  Error error = refused("a", guaranteed("c", 2000, 20 * kGiB));
  EXPECT_NE(error.message().find("memory does not fit"), std::string::npos) << error.toString();
}

TEST_F(ResizeTest, SharedMemoryResizeRechargesTheSamePool) {
  use(kTwoSocket);
  Decision admitted = commit(true, "a", burstable("c", 500, kGiB));
  NodeSet pool = admitted.allocation.shared_pool_nodes;
  ASSERT_EQ(pool.size(), 1);
  Decision resized = commit(false, "a", burstable("c", 1500, 4 * kGiB));
  EXPECT_EQ(resized.allocation.shared_pool_nodes, pool);
  EXPECT_EQ(resized.allocation.memory.at(pool.first()).at(kResourceMemory), 4 * kGiB);
  Error error = refused("a", burstable("c", 1500, 100 * kGiB));
  EXPECT_NE(error.message().find("does not fit NUMA"), std::string::npos) << error.toString();
}

TEST_F(ResizeTest, ExclusiveToSharedIsRefused) {
  use(kTwoSocket);
  commit(true, "a", guaranteed("c", 2000, kGiB));
  Error error = refused("a", guaranteed("c", 2500, kGiB));
  EXPECT_EQ(error.code(), ErrorCode::FailedPrecondition);
}

TEST_F(ResizeTest, UnknownContainerIsNotFound) {
  use(kTwoSocket);
  Error error = refused("ghost", guaranteed("c", 2000, kGiB));
  EXPECT_EQ(error.code(), ErrorCode::NotFound);
}

}  // namespace
}  // namespace topod::policies
