#include "policies/none_policy.h"

#include <gtest/gtest.h>

#include "policies/state_check.h"
#include "tests/policies/engine/engine_topologies.h"

namespace topod::policies {
namespace {

using testing::kGiB;
using testing::twoNuma16Cpus;

PodRequest guaranteedPod() {
  ContainerRequest c{.name = "app",
                     .cpu_request_millis = 2000,
                     .cpu_limit_millis = 2000,
                     .memory_request_bytes = kGiB,
                     .memory_limit_bytes = kGiB};
  return PodRequest{
      .uid = "pod-1", .namespace_name = "default", .name = "web", .qos = QosClass::Guaranteed, .containers = {c}};
}

TEST(NonePolicyTest, AdmitsEverythingIntoTheSharedPoolWithoutPinning) {
  NonePolicy policy(twoNuma16Cpus());
  PodRequest pod = guaranteedPod();
  auto decision = policy.admit(State{}, pod, pod.containers[0]);
  ASSERT_TRUE(decision.has_value()) << decision.error().toString();
  EXPECT_EQ(decision->key, (ContainerKey{.pod_uid = "pod-1", .container_name = "app"}));
  EXPECT_TRUE(decision->allocation.exclusive_cpus.empty());
  EXPECT_TRUE(decision->allocation.memory.empty());
  EXPECT_EQ(decision->allocation.request, pod.containers[0]);
  EXPECT_EQ(decision->allocation.qos, QosClass::Guaranteed);
  EXPECT_EQ(decision->placement, (Placement{.cpus = CpuSet::range(0, 15), .mems = {}}));
  EXPECT_NE(decision->explanation.find("no pinning"), std::string::npos);

  State state = applyDecision(State{}, *decision);
  EXPECT_EQ(policy.sharedCpus(state), CpuSet::range(0, 15));
  auto placements = policy.placements(state);
  ASSERT_EQ(placements.size(), 1u);
  EXPECT_EQ(placements.begin()->second.cpus, CpuSet::range(0, 15));
  PolicyOptions options;
  options.policy = "none";
  StateCheckOptions check;
  check.policy = &policy;
  EXPECT_TRUE(checkState(twoNuma16Cpus(), options, state, check).empty());
}

TEST(NonePolicyTest, ResizeKeepsTheSharedPlacementAndRecordsTheNewRequest) {
  NonePolicy policy(twoNuma16Cpus());
  PodRequest pod = guaranteedPod();
  State state = applyDecision(State{}, policy.admit(State{}, pod, pod.containers[0]).value());
  ContainerRequest bigger = pod.containers[0];
  bigger.cpu_request_millis = bigger.cpu_limit_millis = 6000;
  auto decision = policy.resize(state, pod, bigger);
  ASSERT_TRUE(decision.has_value()) << decision.error().toString();
  EXPECT_EQ(decision->allocation.request.cpu_limit_millis, 6000);
  EXPECT_EQ(decision->placement.cpus, CpuSet::range(0, 15));
}

TEST(NonePolicyTest, ResizeOfAnUnknownContainerFails) {
  NonePolicy policy(twoNuma16Cpus());
  PodRequest pod = guaranteedPod();
  auto decision = policy.resize(State{}, pod, pod.containers[0]);
  ASSERT_FALSE(decision.has_value());
  EXPECT_EQ(decision.error().code(), ErrorCode::NotFound);
  EXPECT_NE(decision.error().message().find("pod-1/app: container is not admitted"), std::string::npos);
}

}  // namespace
}  // namespace topod::policies
