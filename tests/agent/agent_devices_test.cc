// Devices a container is given reach the policies: the device nodes in the container's spec
// (through the real NRI protocol) are resolved to the machine's PCI devices and their NUMA nodes,
// and both real policies put the container's exclusive CPUs next to its GPU.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "agent/agent.h"
#include "agent/nri_mapping.h"
#include "config/config.h"
#include "tests/agent/agent_harness.h"
#include "tests/agent/agent_test_support.h"

namespace topod::agent {
namespace {

using testing::guaranteed;
using testing::makePod;
using topology::DeviceNodeType;

constexpr const char* kGpu = "0000:17:00.0";      // NUMA node 1
constexpr const char* kNic = "0000:5e:00.0";      // NUMA node 0
constexpr const char* kDisk = "0000:81:00.0";     // NUMA node 1, storage
constexpr const char* kUnknown = "0000:99:00.0";  // not in the topology
constexpr const char* kBridge = "0000:16:00.0";   // a bridge: hwloc does not list it

// twoNodeTopology() (CPUs 0-7 on node 0, 8-15 on node 1) with a GPU, a NIC and an NVMe disk.
topology::Topology machineWithDevices() {
  topology::TopologyBuilder builder;
  for (int cpu = 0; cpu < 16; ++cpu) {
    builder.addCpu({.id = cpu, .package = 0, .die = 0, .core_id = cpu / 2, .l3 = cpu / 8, .numa = cpu / 8});
  }
  builder.addNumaNode({.id = 0, .memory_bytes = 64ULL << 30});
  builder.addNumaNode({.id = 1, .memory_bytes = 64ULL << 30});
  builder.addDevice(
      {.address = kGpu, .klass = topology::DeviceClass::Gpu, .vendor_id = 0x10de, .name = "nvidia0", .numa = 1});
  builder.addDevice({.address = kNic, .klass = topology::DeviceClass::Nic, .name = "mlx5_0", .numa = 0});
  builder.addDevice({.address = kDisk, .klass = topology::DeviceClass::Storage, .name = "nvme0n1", .numa = 1});
  return builder.build().value();
}

class FakeResolver final : public topology::DeviceNodeResolver {
 public:
  std::vector<std::string> pciAddresses(DeviceNodeType type, int64_t major, int64_t minor) const override {
    auto it = nodes.find({type, major, minor});
    if (it == nodes.end()) return {};
    return it->second;
  }
  std::map<std::tuple<DeviceNodeType, int64_t, int64_t>, std::vector<std::string>> nodes = {
      {{DeviceNodeType::Char, 195, 0}, {kGpu}},               // /dev/nvidia0
      {{DeviceNodeType::Char, 226, 128}, {kGpu, kBridge}},    // /dev/dri/renderD128, the same GPU
      {{DeviceNodeType::Char, 231, 192}, {kNic}},             // /dev/infiniband/uverbs0
      {{DeviceNodeType::Block, 259, 0}, {kDisk}},             // /dev/nvme0n1
      {{DeviceNodeType::Char, 240, 0}, {kUnknown}},           // a device hwloc did not report
      {{DeviceNodeType::Char, 511, 42}, {kBridge, kGpu}},     // /dev/vfio/42: bridge and GPU
      {{DeviceNodeType::Char, 241, 0}, {kUnknown, kBridge}},  // nothing the topology knows
  };
};

const nri::LinuxDevice kNvidia0{"/dev/nvidia0", "c", 195, 0};
const nri::LinuxDevice kNvidiaCtl{"/dev/nvidiactl", "c", 195, 255};
const nri::LinuxDevice kRender{"/dev/dri/renderD128", "c", 226, 128};
const nri::LinuxDevice kVerbs{"/dev/infiniband/uverbs0", "c", 231, 192};

TEST(DeviceRequestsOf, OnePerPciDeviceOfAReportedClass) {
  topology::Topology topology = machineWithDevices();
  FakeResolver resolver;
  nri::Container c;
  c.devices = {kVerbs,
               kNvidia0,
               kNvidiaCtl,
               kRender,
               {"/dev/nvme0n1", "b", 259, 0},
               {"/dev/x", "c", 240, 0},
               {"/dev/null", "c", 1, 3},
               {"/dev/fifo", "p", 0, 0}};
  std::vector<policies::DeviceRequest> expected{{.resource = "nvidia.com/gpu", .id = kGpu, .numa = 1},
                                                {.resource = "topod.io/nic", .id = kNic, .numa = 0}};
  EXPECT_EQ(deviceRequestsOf(c, topology, resolver), expected);
}

TEST(DeviceRequestsOf, TheFirstCandidateTheTopologyKnowsCounts) {
  topology::Topology topology = machineWithDevices();
  FakeResolver resolver;
  nri::Container c;
  c.devices = {{"/dev/vfio/42", "c", 511, 42}, {"/dev/y", "c", 241, 0}};
  std::vector<policies::DeviceRequest> expected{{.resource = "nvidia.com/gpu", .id = kGpu, .numa = 1}};
  EXPECT_EQ(deviceRequestsOf(c, topology, resolver), expected);
}

TEST(DeviceRequestsOf, APrivilegedContainersHostDevicesAreNoAllocation) {
  topology::Topology topology = machineWithDevices();
  FakeResolver resolver;
  nri::Container privileged;
  privileged.devices = {{"/dev/mem", "c", 1, 1}, kNvidia0, kVerbs, {"/dev/null", "c", 1, 3}};
  EXPECT_TRUE(deviceRequestsOf(privileged, topology, resolver).empty());
  for (const nri::LinuxDevice& host_only :
       {nri::LinuxDevice{"/dev/port", "c", 1, 4}, nri::LinuxDevice{"/dev/kmsg", "c", 1, 11},
        nri::LinuxDevice{"/dev/tty0", "c", 4, 0}}) {
    privileged.devices = {kNvidia0, host_only};
    EXPECT_TRUE(deviceRequestsOf(privileged, topology, resolver).empty()) << host_only.path;
  }
  // The same numbers as a block device are something else.
  nri::Container ordinary;
  ordinary.devices = {kNvidia0, {"/dev/ram1", "b", 1, 1}};
  EXPECT_EQ(deviceRequestsOf(ordinary, topology, resolver).size(), 1U);
}

TEST(DeviceRequestsOf, BlockAndCharNumbersAreNotConfused) {
  topology::Topology topology = machineWithDevices();
  FakeResolver resolver;
  nri::Container c;
  c.devices = {{"/dev/weird", "b", 195, 0}};  // block 195:0 is no GPU
  EXPECT_TRUE(deviceRequestsOf(c, topology, resolver).empty());
}

struct PolicyRow {
  std::string name;
  std::string policy;
};
void PrintTo(const PolicyRow& row, std::ostream* os) {
  *os << row.name;
}

class AgentDevicesTest : public ::testing::TestWithParam<PolicyRow> {
 protected:
  void SetUp() override { options_.policy = GetParam().policy; }

  Result<std::unique_ptr<Agent>> create() {
    return Agent::create(topology_, {.policy = options_, .state_dir = dir_.path(), .devices = &resolver_});
  }

  testing::TempDir dir_;
  topology::Topology topology_ = machineWithDevices();
  FakeResolver resolver_;
  policies::PolicyOptions options_ = defaultConfig().policy;  // 1 reserved CPU: CPU 0
};

TEST_P(AgentDevicesTest, ExclusiveCpusSitOnTheGpusNode) {
  testing::AgentHarness h;
  Status started = h.start(create());
  ASSERT_TRUE(started.has_value()) << started.error().toString();

  // Without a GPU, both policies put a 4-CPU container on node 0 of the empty machine (static:
  // lowest node first; topology-aware: best fit, node 0 has one CPU reserved).
  auto plain_pod = makePod("g0", QosClass::Guaranteed);
  auto plain = h.add(plain_pod, guaranteed(plain_pod, "app", 4000));
  ASSERT_TRUE(plain.has_value()) << plain.error().toString();
  EXPECT_TRUE(h.agent->state().containers().at({"g0", "app"}).exclusive_cpus.isSubsetOf(CpuSet::range(1, 7)));
  ASSERT_TRUE(h.runtime->removePod(plain_pod.id).has_value());
  ASSERT_TRUE(h.agent->state().empty());

  // The same container with the GPU on node 1 gets node 1's CPUs.
  auto pod = makePod("g1", QosClass::Guaranteed);
  nri::Container c = guaranteed(pod, "app", 4000);
  c.devices = {kNvidia0, kNvidiaCtl, kRender};
  auto adjustment = h.add(pod, c);
  ASSERT_TRUE(adjustment.has_value()) << adjustment.error().toString();
  const policies::ContainerAllocation allocation = h.agent->state().containers().at({"g1", "app"});
  EXPECT_EQ(allocation.exclusive_cpus.size(), 4);
  EXPECT_TRUE(allocation.exclusive_cpus.isSubsetOf(CpuSet::range(8, 15))) << allocation.exclusive_cpus.toString();
  EXPECT_EQ(h.runtime->cpusOf(c.id), allocation.exclusive_cpus);
  EXPECT_EQ(allocation.request.devices,
            (std::vector<policies::DeviceRequest>{{.resource = "nvidia.com/gpu", .id = kGpu, .numa = 1}}));
}

TEST_P(AgentDevicesTest, DevicesSurviveARestartAndAResizeThatDoesNotListThem) {
  auto pod = makePod("g1", QosClass::Guaranteed);
  nri::Container c = guaranteed(pod, "app", 2000);
  c.devices = {kNvidia0};
  {
    auto agent = create();
    ASSERT_TRUE(agent.has_value()) << agent.error().toString();
    ASSERT_TRUE((*agent)->onSynchronize({}, {}).has_value());
    ASSERT_TRUE((*agent)->onRunPodSandbox(pod).has_value());
    ASSERT_TRUE((*agent)->onCreateContainer(pod, c).has_value());
  }
  auto agent = create();
  ASSERT_TRUE(agent.has_value()) << agent.error().toString();
  ASSERT_TRUE((*agent)->onSynchronize({pod}, {c}).has_value());
  nri::Container without_devices = guaranteed(pod, "app", 4000);
  auto resized = (*agent)->onUpdateContainer(pod, without_devices, without_devices.resources);
  ASSERT_TRUE(resized.has_value()) << resized.error().toString();
  const policies::ContainerAllocation allocation = (*agent)->state().containers().at({"g1", "app"});
  EXPECT_EQ(allocation.exclusive_cpus.size(), 4);
  EXPECT_TRUE(allocation.exclusive_cpus.isSubsetOf(CpuSet::range(8, 15))) << allocation.exclusive_cpus.toString();
  EXPECT_EQ(allocation.request.devices.size(), 1U);
}

TEST_P(AgentDevicesTest, AContainerAdoptedAtSynchronizeBringsItsDevices) {
  // Running before topod (no checkpoint holds it): adopted through the policy with its GPU.
  auto agent = create();
  ASSERT_TRUE(agent.has_value()) << agent.error().toString();
  auto pod = makePod("g1", QosClass::Guaranteed);
  nri::Container c = guaranteed(pod, "app", 2000);
  c.state = nri::ContainerState::Running;
  c.devices = {kNvidia0, kNvidiaCtl};
  ASSERT_TRUE((*agent)->onSynchronize({pod}, {c}).has_value());
  const policies::ContainerAllocation allocation = (*agent)->state().containers().at({"g1", "app"});
  EXPECT_TRUE(allocation.exclusive_cpus.isSubsetOf(CpuSet::range(8, 15))) << allocation.exclusive_cpus.toString();
  EXPECT_EQ(allocation.request.devices.size(), 1U);
}

TEST_P(AgentDevicesTest, WithoutAResolverContainersCarryNoDevices) {
  auto agent = Agent::create(topology_, {.policy = options_, .state_dir = dir_.path()});
  ASSERT_TRUE(agent.has_value()) << agent.error().toString();
  ASSERT_TRUE((*agent)->onSynchronize({}, {}).has_value());
  auto pod = makePod("g1", QosClass::Guaranteed);
  nri::Container c = guaranteed(pod, "app", 2000);
  c.devices = {kNvidia0};
  ASSERT_TRUE((*agent)->onRunPodSandbox(pod).has_value());
  ASSERT_TRUE((*agent)->onCreateContainer(pod, c).has_value());
  EXPECT_TRUE((*agent)->state().containers().at({"g1", "app"}).request.devices.empty());
}

INSTANTIATE_TEST_SUITE_P(Policies, AgentDevicesTest,
                         ::testing::Values(PolicyRow{"Static", "static"}, PolicyRow{"TopologyAware", "topology-aware"}),
                         [](const ::testing::TestParamInfo<PolicyRow>& row) { return row.param.name; });

}  // namespace
}  // namespace topod::agent
