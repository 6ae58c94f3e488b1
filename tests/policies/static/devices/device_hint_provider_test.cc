#include "policies/static/devices/device_hint_provider.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policies/state.h"
#include "topology/model.h"

namespace topod::policies::devices {
namespace {

// `nodes` NUMA nodes of 2 CPUs each.
topology::Topology machine(int nodes) {
  topology::TopologyBuilder b;
  for (int cpu = 0; cpu < 2 * nodes; ++cpu) {
    b.addCpu({.id = cpu, .package = 0, .die = 0, .core_id = cpu, .l3 = cpu / 2, .numa = cpu / 2});
  }
  for (int node = 0; node < nodes; ++node) b.addNumaNode({.id = node, .memory_bytes = 1ULL << 30});
  return b.build().value();
}

DeviceRequest gpu(int numa, const std::string& id = "0000:17:00.0") {
  return DeviceRequest{.resource = "nvidia.com/gpu", .id = id, .numa = numa};
}

ContainerRequest withDevices(const std::string& name, std::vector<DeviceRequest> devices) {
  return ContainerRequest{.name = name, .devices = std::move(devices)};
}

std::vector<TopologyHint> hints(std::initializer_list<std::pair<NodeSet, bool>> list) {
  std::vector<TopologyHint> out;
  for (const auto& [nodes, preferred] : list) out.push_back(TopologyHint{nodes, preferred});
  return out;
}

struct Row {
  const char* name;
  int nodes;
  std::vector<DeviceRequest> devices;
  ResourceHints expected;
};

class DeviceHintRows : public ::testing::TestWithParam<Row> {};

TEST_P(DeviceHintRows, ContainerHints) {
  const Row& row = GetParam();
  topology::Topology topology = machine(row.nodes);
  DeviceHintProvider provider(topology);
  ContainerRequest container = withDevices("main", row.devices);
  PodRequest pod{.uid = "p", .containers = {container}};
  EXPECT_EQ(provider.containerHints(State{}, pod, container), row.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, DeviceHintRows,
    ::testing::Values(
        Row{"NoDevicesNoPreference", 2, {}, {}},
        Row{"OneGpuPrefersItsNode",
            2,
            {gpu(1)},
            {{"nvidia.com/gpu", hints({{NodeSet{1}, true}, {NodeSet{0, 1}, false}})}}},
        Row{"GpusOnTwoNodesPreferBoth",
            4,
            {gpu(0, "a"), gpu(2, "b")},
            {{"nvidia.com/gpu", hints({{NodeSet{0, 2}, true},
                                       {NodeSet{0, 1, 2}, false},
                                       {NodeSet{0, 2, 3}, false},
                                       {NodeSet{0, 1, 2, 3}, false}})}}},
        Row{"TwoGpusOnOneNodeAreOneNode",
            2,
            {gpu(0, "a"), gpu(0, "b")},
            {{"nvidia.com/gpu", hints({{NodeSet{0}, true}, {NodeSet{0, 1}, false}})}}},
        Row{"UnknownNodeConstrainsNothing", 2, {gpu(-1)}, {}},
        Row{"UnknownNodeBesideAKnownOne",
            3,
            {gpu(-1, "a"), gpu(2, "b")},
            {{"nvidia.com/gpu",
              hints({{NodeSet{2}, true}, {NodeSet{0, 2}, false}, {NodeSet{1, 2}, false}, {NodeSet{0, 1, 2}, false}})}}},
        Row{"NodeTheMachineLacksCannotAlign", 2, {gpu(5)}, {{"nvidia.com/gpu", {}}}},
        Row{"EachResourceHintedOnItsOwn",
            2,
            {gpu(0), DeviceRequest{.resource = "topod.io/nic", .id = "0000:5e:00.0", .numa = 1}},
            {{"nvidia.com/gpu", hints({{NodeSet{0}, true}, {NodeSet{0, 1}, false}})},
             {"topod.io/nic", hints({{NodeSet{1}, true}, {NodeSet{0, 1}, false}})}}}),
    [](const ::testing::TestParamInfo<Row>& row) { return std::string(row.param.name); });

TEST(DeviceHintProvider, PodScopeTakesTheUnionOfItsContainers) {
  topology::Topology topology = machine(3);
  DeviceHintProvider provider(topology);
  PodRequest pod{
      .uid = "p",
      .containers = {withDevices("a", {gpu(0, "x")}), withDevices("b", {}), withDevices("c", {gpu(1, "y")})}};
  ResourceHints expected{{"nvidia.com/gpu", hints({{NodeSet{0, 1}, true}, {NodeSet{0, 1, 2}, false}})}};
  EXPECT_EQ(provider.podHints(State{}, pod), expected);
  EXPECT_EQ(provider.podHintsWithoutPod(State{}, pod), expected);
}

TEST(DeviceHintProvider, HintsDoNotDependOnTheState) {
  topology::Topology topology = machine(2);
  DeviceHintProvider provider(topology);
  ContainerRequest container = withDevices("main", {gpu(1)});
  PodRequest pod{.uid = "p", .containers = {container}};
  State busy;
  ContainerAllocation other;
  other.request = withDevices("other", {gpu(1)});
  busy.put(ContainerKey{.pod_uid = "q", .container_name = "other"}, other);
  EXPECT_EQ(provider.containerHints(busy, pod, container), provider.containerHints(State{}, pod, container));
}

TEST(DeviceHintProvider, AllocateLeavesTheAllocationAlone) {
  topology::Topology topology = machine(2);
  DeviceHintProvider provider(topology);
  ContainerRequest container = withDevices("main", {gpu(1)});
  PodRequest pod{.uid = "p", .containers = {container}};
  ContainerAllocation allocation;
  allocation.exclusive_cpus = CpuSet{2, 3};
  ContainerAllocation before = allocation;
  EXPECT_TRUE(provider.allocate(State{}, pod, container, TopologyHint{NodeSet{1}, true}, allocation).has_value());
  EXPECT_EQ(allocation, before);
}

}  // namespace
}  // namespace topod::policies::devices
