// The static (kubelet-compatible) policy aligns a container's CPUs with the devices it was given,
// through the "devices" hint provider.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policies/policy_registry.h"
#include "policies/state.h"
#include "tests/policies/engine/engine_topologies.h"

namespace topod::policies {
namespace {

using ::testing::HasSubstr;
using testing::kGiB;
using testing::twoNuma16Cpus;  // CPUs 0-7 on node 0, 8-15 on node 1, a GPU on node 1

ContainerRequest guaranteed(int cpus, std::vector<DeviceRequest> devices) {
  return ContainerRequest{.name = "main",
                          .cpu_request_millis = cpus * 1000,
                          .cpu_limit_millis = cpus * 1000,
                          .memory_request_bytes = kGiB,
                          .memory_limit_bytes = kGiB,
                          .devices = std::move(devices)};
}

DeviceRequest gpuOn(int numa, const std::string& id) {
  return DeviceRequest{.resource = "nvidia.com/gpu", .id = id, .numa = numa};
}

PodRequest podOf(const ContainerRequest& c) {
  return PodRequest{
      .uid = "p", .namespace_name = "default", .name = "p", .qos = computeQosClass({c}), .containers = {c}};
}

std::unique_ptr<Policy> staticPolicy(TopologyManagerPolicy manager) {
  PolicyOptions options;
  options.policy = "static";
  options.reserved_cpus = CpuSet{0};
  options.topology_manager.policy = manager;
  auto policy = makePolicy(twoNuma16Cpus(), options);
  EXPECT_TRUE(policy.has_value()) << policy.error().toString();
  return std::move(*policy);
}

TEST(StaticPolicyDevices, ExclusiveCpusFollowTheGpu) {
  // Without the GPU the kubelet's order takes node 0 first.
  auto policy = staticPolicy(TopologyManagerPolicy::BestEffort);
  ContainerRequest plain = guaranteed(4, {});
  auto without = policy->admit(State{}, podOf(plain), plain);
  ASSERT_TRUE(without.has_value()) << without.error().toString();
  EXPECT_TRUE(without->allocation.exclusive_cpus.isSubsetOf(CpuSet::range(0, 7)));

  ContainerRequest with_gpu = guaranteed(4, {gpuOn(1, "0000:17:00.0")});
  auto with = policy->admit(State{}, podOf(with_gpu), with_gpu);
  ASSERT_TRUE(with.has_value()) << with.error().toString();
  EXPECT_EQ(with->allocation.exclusive_cpus, CpuSet::range(8, 11));
  EXPECT_THAT(with->explanation, HasSubstr("devices.nvidia.com/gpu=[1* 0-1]"));
  EXPECT_THAT(with->explanation, HasSubstr("merged NUMA 1 (preferred)"));
}

TEST(StaticPolicyDevices, SingleNumaNodeRefusesDevicesOnTwoNodes) {
  auto policy = staticPolicy(TopologyManagerPolicy::SingleNumaNode);
  ContainerRequest c = guaranteed(2, {gpuOn(0, "a"), gpuOn(1, "b")});
  auto decision = policy->admit(State{}, podOf(c), c);
  ASSERT_FALSE(decision.has_value());
  EXPECT_THAT(decision.error().message(), HasSubstr("TopologyAffinityError"));
  EXPECT_THAT(decision.error().message(), HasSubstr("devices.nvidia.com/gpu=[0-1*]"));
}

TEST(StaticPolicyDevices, RestrictedRefusesWhatNoPreferredMaskHolds) {
  // The GPUs span both nodes (preferred for them), the CPUs fit one node (so both nodes is not
  // preferred for them): the merged hint is not preferred, which restricted refuses.
  auto policy = staticPolicy(TopologyManagerPolicy::Restricted);
  ContainerRequest c = guaranteed(2, {gpuOn(0, "a"), gpuOn(1, "b")});
  auto decision = policy->admit(State{}, podOf(c), c);
  ASSERT_FALSE(decision.has_value());
  EXPECT_THAT(decision.error().message(), HasSubstr("TopologyAffinityError"));
}

TEST(StaticPolicyDevices, BestEffortAdmitsAcrossNodesWhenTheGpusSpanThem) {
  auto policy = staticPolicy(TopologyManagerPolicy::BestEffort);
  ContainerRequest c = guaranteed(2, {gpuOn(0, "a"), gpuOn(1, "b")});
  auto decision = policy->admit(State{}, podOf(c), c);
  ASSERT_TRUE(decision.has_value()) << decision.error().toString();
  EXPECT_EQ(decision->allocation.exclusive_cpus.size(), 2);
}

TEST(StaticPolicyDevices, NoneIgnoresDevices) {
  auto policy = staticPolicy(TopologyManagerPolicy::None);
  ContainerRequest c = guaranteed(4, {gpuOn(1, "0000:17:00.0")});
  auto decision = policy->admit(State{}, podOf(c), c);
  ASSERT_TRUE(decision.has_value()) << decision.error().toString();
  EXPECT_TRUE(decision->allocation.exclusive_cpus.isSubsetOf(CpuSet::range(0, 7)));
}

TEST(StaticPolicyDevices, BurstableWithAGpuStaysSharedButSingleNumaNodeStillChecksIt) {
  ContainerRequest burstable{.name = "main",
                             .cpu_request_millis = 500,
                             .memory_request_bytes = kGiB,
                             .devices = {gpuOn(0, "a"), gpuOn(1, "b")}};
  auto best_effort = staticPolicy(TopologyManagerPolicy::BestEffort);
  auto admitted = best_effort->admit(State{}, podOf(burstable), burstable);
  ASSERT_TRUE(admitted.has_value()) << admitted.error().toString();
  EXPECT_TRUE(admitted->allocation.exclusive_cpus.empty());
  // The kubelet's topology manager admits every pod, whatever its QoS, against device hints.
  auto single = staticPolicy(TopologyManagerPolicy::SingleNumaNode);
  EXPECT_FALSE(single->admit(State{}, podOf(burstable), burstable).has_value());
}

}  // namespace
}  // namespace topod::policies
