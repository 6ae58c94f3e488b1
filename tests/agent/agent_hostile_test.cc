// The Agent fed what a hostile or broken runtime sends (issue 17 items 1, 3, 8 and 9), with the
// real policies: extreme resource values are normalised and whatever is acknowledged reads back
// after a restart; a reserved CPU is never exclusive on any path; no container is ever left with
// an empty cpuset; names from the runtime cannot forge log lines.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/nri_mapping.h"
#include "common/text.h"
#include "config/config.h"
#include "policies/policy_registry.h"
#include "policies/state_check.h"
#include "policies/topology_aware/topology_aware_policy.h"
#include "state/checkpoint.h"
#include "state/state_json.h"
#include "tests/agent/agent_test_support.h"

namespace topod::agent {
namespace {

using testing::guaranteed;
using testing::makeContainer;
using testing::makePod;
using testing::TempDir;

std::unique_ptr<Agent> startAgent(const topology::Topology& topology, const policies::PolicyOptions& policy,
                                  const std::string& dir) {
  auto agent = Agent::create(topology, {.policy = policy, .state_dir = dir});
  EXPECT_TRUE(agent.has_value()) << agent.error().toString();
  if (!agent.has_value()) return nullptr;
  EXPECT_TRUE((*agent)->onSynchronize({}, {}).has_value());
  return std::move(*agent);
}

policies::PolicyOptions policyNamed(const std::string& name) {
  policies::PolicyOptions options = defaultConfig().policy;
  options.policy = name;
  return options;
}

// ---- Item 1: extreme values from the runtime --------------------------------------------------

TEST(AgentExtremeValuesTest, AHugeQuotaIsClampedAndRefusedForLackOfCpus) {
  topology::Topology topology = testing::twoNodeTopology();
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto container = guaranteed(pod, "app", 2000);
  container.resources.cpu_quota = std::numeric_limits<int64_t>::max();
  container.resources.cpu_period = 1;
  policies::ContainerRequest request = containerRequestOf(container, container.resources, QosClass::Guaranteed);
  EXPECT_GT(request.cpu_limit_millis, 0) << "no overflow into a negative or small limit";
  EXPECT_EQ(request.cpu_request_millis, request.cpu_limit_millis);

  TempDir dir;
  auto agent = startAgent(topology, defaultConfig().policy, dir.path());
  ASSERT_NE(agent, nullptr);
  auto reply = agent->onCreateContainer(pod, container);
  ASSERT_FALSE(reply.has_value()) << "a limit above the machine must not get exclusive CPUs";
  EXPECT_TRUE(agent->state().empty());
}

TEST(AgentExtremeValuesTest, SharesAndSizesAreBoundedWithoutOverflow) {
  auto pod = makePod("b1", QosClass::Burstable);
  auto container = makeContainer(pod, "app", 500, 0);
  container.resources.cpu_shares = std::numeric_limits<uint64_t>::max();
  container.resources.memory_limit = std::numeric_limits<int64_t>::max();
  container.resources.hugepage_limits = {{.page_size = "2MB", .limit = std::numeric_limits<uint64_t>::max()}};
  policies::ContainerRequest request = containerRequestOf(container, container.resources, QosClass::Burstable);
  EXPECT_EQ(request.cpu_request_millis, 256000) << "shares are capped at the kernel's 262144";
  EXPECT_EQ(request.memory_limit_bytes, uint64_t{1} << 50);
  EXPECT_EQ(request.hugepages.at(2ULL << 20), uint64_t{1} << 50);
  EXPECT_FALSE(parsePageSize("99999999999999GB").has_value());
  EXPECT_FALSE(parsePageSize("3MB").has_value()) << "not a power of two";
  EXPECT_EQ(parsePageSize("1GB").value(), 1ULL << 30);
}

// Property (item 1b): random and extreme specs through the agent; whatever it acknowledged, a
// restart reads back as the identical State. TOPOD_PROPERTY_SEED=random (or a number) varies it.
class AgentRoundTripTest : public ::testing::TestWithParam<std::string> {};

uint64_t propertySeed() {
  const char* env = std::getenv("TOPOD_PROPERTY_SEED");
  if (env == nullptr || *env == '\0') return 20261206;
  if (std::string(env) == "random") return std::random_device{}();
  return std::strtoull(env, nullptr, 10);
}

TEST_P(AgentRoundTripTest, WhateverIsAcknowledgedReadsBackAfterARestart) {
  const uint64_t seed = propertySeed();
  SCOPED_TRACE("TOPOD_PROPERTY_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto pick = [&](const auto& values) { return values[rng() % values.size()]; };
  const std::vector<int64_t> quotas = {
      -1, 0, 1, 1000, 150000, 400000, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
  const std::vector<uint64_t> periods = {0, 1, 1000, 100000, 1000000, std::numeric_limits<uint64_t>::max()};
  const std::vector<uint64_t> shares = {0, 2, 1024, 4096, 262144, 262145, std::numeric_limits<uint64_t>::max()};
  const std::vector<int64_t> memories = {-1, 0, 1, 1LL << 30, std::numeric_limits<int64_t>::max()};
  const std::vector<std::string> page_sizes = {"2MB", "1GB", "64KB", "3MB", "0MB", "18446744073709551615GB", "kB"};
  const std::vector<std::string> names = {"app", "a\nb", "tab\there", "\x1b[31mred", "ünï", "x\\y", "\xff\xfe"};
  const std::vector<QosClass> classes = {QosClass::Guaranteed, QosClass::Burstable, QosClass::BestEffort};

  topology::Topology topology = testing::twoNodeTopology();
  policies::PolicyOptions options = policyNamed(GetParam());
  TempDir dir;
  auto agent = startAgent(topology, options, dir.path());
  ASSERT_NE(agent, nullptr);
  int admitted = 0;
  for (int i = 0; i < 200; ++i) {
    auto pod = makePod("p" + std::to_string(i % 60), pick(classes));
    nri::Container c = makeContainer(pod, pick(names), 0, 0);
    c.id = "c" + std::to_string(i);
    c.resources.cpu_quota = pick(quotas);
    c.resources.cpu_period = pick(periods);
    c.resources.cpu_shares = pick(shares);
    c.resources.memory_limit = pick(memories);
    if (rng() % 3 == 0) c.resources.hugepage_limits = {{.page_size = pick(page_sizes), .limit = rng()}};
    switch (rng() % 5) {
      case 0: (void)agent->onStopContainer(pod, c); break;
      case 1: (void)agent->onRemovePodSandbox(pod); break;
      case 2: (void)agent->onUpdateContainer(pod, c, c.resources); break;
      default: admitted += agent->onCreateContainer(pod, c).has_value() ? 1 : 0; break;
    }
  }
  const policies::State before = agent->state();
  // `topod state` reads what a crash would leave (the journal, not yet folded).
  auto on_disk = Checkpoint::readOnDisk(dir.path());
  ASSERT_TRUE(on_disk.has_value()) << on_disk.error().toString();
  EXPECT_EQ(*on_disk, before);
  agent.reset();
  auto restarted = Agent::create(topology, {.policy = options, .state_dir = dir.path()});
  ASSERT_TRUE(restarted.has_value()) << restarted.error().toString();
  EXPECT_FALSE((*restarted)->startupReportIsWarning()) << (*restarted)->startupReport();
  EXPECT_EQ((*restarted)->state(), before);
  EXPECT_GT(admitted, 0);
}

INSTANTIATE_TEST_SUITE_P(Policies, AgentRoundTripTest, ::testing::Values("static", "topology-aware"));

// ---- Item 3: a reserved CPU is never exclusive -------------------------------------------------

TEST(AgentReservedCpusTest, AnIsolatedReservedCpuIsNeverHandedOutThroughTheAnnotation) {
  topology::TopologyBuilder builder;
  for (int cpu = 0; cpu < 8; ++cpu)
    builder.addCpu({.id = cpu, .package = 0, .die = 0, .core_id = cpu, .l3 = 0, .numa = 0});
  builder.addNumaNode({.id = 0, .memory_bytes = 64ULL << 30});
  builder.setIsolatedCpus(CpuSet{0, 1, 2, 3});
  topology::Topology topology = builder.build().value();
  policies::PolicyOptions options = policyNamed("topology-aware");
  options.reserved_cpus = CpuSet{0};
  options.reserved_cpu_count = 0;
  TempDir dir;
  auto agent = startAgent(topology, options, dir.path());
  ASSERT_NE(agent, nullptr);
  auto pod = makePod("iso", QosClass::Guaranteed);
  pod.annotations[std::string(policies::kIsolatedCpusAnnotation)] = "true";
  auto four = agent->onCreateContainer(pod, guaranteed(pod, "four", 4000));
  EXPECT_FALSE(four.has_value()) << "only 3 isolated CPUs are not reserved";
  auto three = agent->onCreateContainer(pod, guaranteed(pod, "three", 3000));
  ASSERT_TRUE(three.has_value()) << three.error().toString();
  EXPECT_EQ(*three->adjustment.resources.cpuset_cpus, (CpuSet{1, 2, 3}));
}

TEST(AgentReservedCpusTest, ARestoredStateHoldingACountReservedCpuIsMovedAside) {
  topology::Topology topology = testing::twoNodeTopology();
  policies::PolicyOptions options = defaultConfig().policy;  // static, reserved_cpu_count = 1
  auto policy = policies::makePolicy(topology, options);
  ASSERT_TRUE(policy.has_value());
  CpuSet reserved = (*policy)->reservedCpus();
  ASSERT_EQ(reserved.size(), 1);
  policies::State state;
  policies::ContainerAllocation allocation;
  allocation.exclusive_cpus = reserved;
  allocation.qos = QosClass::Guaranteed;
  allocation.request = {.name = "app", .cpu_request_millis = 1000, .cpu_limit_millis = 1000};
  state.put({"g1", "app"}, allocation);
  TempDir dir;
  StateFile(dir.path(), Checkpoint::kFileName).write(policies::serializeState(state)).value();
  auto agent = Agent::create(topology, {.policy = options, .state_dir = dir.path()});
  ASSERT_TRUE(agent.has_value()) << agent.error().toString();
  EXPECT_TRUE((*agent)->startupReportIsWarning());
  EXPECT_NE((*agent)->startupReport().find("are reserved"), std::string::npos) << (*agent)->startupReport();
  EXPECT_TRUE((*agent)->state().empty());
}

TEST(AgentReservedCpusTest, StrictReservationByCountRestartsWithItsState) {
  topology::Topology topology = testing::twoNodeTopology();
  policies::PolicyOptions options = defaultConfig().policy;
  options.cpu.strict_cpu_reservation = true;
  TempDir dir;
  auto agent = startAgent(topology, options, dir.path());
  ASSERT_NE(agent, nullptr);
  auto pod = makePod("g1", QosClass::Guaranteed);
  ASSERT_TRUE(agent->onCreateContainer(pod, guaranteed(pod, "app", 2000)).has_value());
  policies::State before = agent->state();
  agent.reset();
  auto restarted = Agent::create(topology, {.policy = options, .state_dir = dir.path()});
  ASSERT_TRUE(restarted.has_value()) << restarted.error().toString();
  EXPECT_FALSE((*restarted)->startupReportIsWarning()) << (*restarted)->startupReport();
  EXPECT_EQ((*restarted)->state(), before);
}

// ---- Item 9: an empty shared pool never means "anywhere" --------------------------------------

class AgentEmptyPoolTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    options_ = policyNamed(GetParam());
    options_.reserved_cpus = CpuSet{0};
    options_.reserved_cpu_count = 0;
    options_.cpu.strict_cpu_reservation = true;  // the reserved CPU is in no pool
    agent_ = startAgent(topology_, options_, dir_.path());
  }

  topology::Topology topology_ = testing::twoNodeTopology();
  policies::PolicyOptions options_;
  TempDir dir_;
  std::unique_ptr<Agent> agent_;
};

// Every running container of the agent's State has a CPU to run on.
void expectNoEmptyPlacement(const topology::Topology& topology, const policies::PolicyOptions& options,
                            const policies::State& state) {
  auto policy = policies::makePolicy(topology, options);
  ASSERT_TRUE(policy.has_value());
  for (const auto& [key, placement] : (*policy)->placements(state)) {
    EXPECT_FALSE(placement.cpus.empty()) << policies::describeKey(key) << " would run on no CPU";
  }
}

TEST_P(AgentEmptyPoolTest, NoAdmissionLeavesARunningContainerWithoutCpus) {
  ASSERT_NE(agent_, nullptr);
  // Shared containers first (one per NUMA node's pool, where the policy has several), then
  // Guaranteed containers as large as a node, as the rest, and as everything.
  for (int i = 0; i < 4; ++i) {
    auto pod = makePod("b" + std::to_string(i), QosClass::Burstable);
    ASSERT_TRUE(agent_->onCreateContainer(pod, makeContainer(pod, "app", 250 + 250 * i, 0)).has_value());
  }
  int refused = 0;
  for (int64_t millis : {15000, 8000, 7000, 8000, 1000}) {
    auto pod = makePod("g" + std::to_string(millis) + "-" + std::to_string(refused), QosClass::Guaranteed);
    auto reply = agent_->onCreateContainer(pod, guaranteed(pod, "app", millis));
    if (!reply.has_value()) ++refused;
    expectNoEmptyPlacement(topology_, options_, agent_->state());
    if (reply.has_value()) {
      EXPECT_FALSE(reply->adjustment.resources.cpuset_cpus->empty());
    }
  }
  EXPECT_GT(refused, 0);
}

TEST_P(AgentEmptyPoolTest, ANewSharedContainerIsNeverGivenAnEmptyCpuset) {
  ASSERT_NE(agent_, nullptr);
  for (int64_t millis : {15000, 14000, 8000, 7000}) {
    auto pod = makePod("g" + std::to_string(millis), QosClass::Guaranteed);
    (void)agent_->onCreateContainer(pod, guaranteed(pod, "app", millis));
  }
  auto shared_pod = makePod("b1", QosClass::Burstable);
  auto reply = agent_->onCreateContainer(shared_pod, makeContainer(shared_pod, "app", 500, 0));
  if (reply.has_value()) {
    EXPECT_FALSE(reply->adjustment.resources.cpuset_cpus->empty());
  } else {
    EXPECT_NE(reply.error().message().find("without any CPU"), std::string::npos) << reply.error().message();
  }
  expectNoEmptyPlacement(topology_, options_, agent_->state());
}

// The static policy lets a Guaranteed container take every CPU the strict reservation leaves:
// topod refuses that while a shared container would be left with nothing.
TEST(AgentEmptyStaticPoolTest, AnAdmissionThatWouldEmptyThePoolIsRefusedOnlyWhileItHasMembers) {
  topology::Topology topology = testing::twoNodeTopology();
  policies::PolicyOptions options = policyNamed("static");
  options.reserved_cpus = CpuSet{0};
  options.reserved_cpu_count = 0;
  options.cpu.strict_cpu_reservation = true;
  TempDir dir;
  auto agent = startAgent(topology, options, dir.path());
  ASSERT_NE(agent, nullptr);
  auto shared_pod = makePod("b1", QosClass::Burstable);
  auto shared = makeContainer(shared_pod, "app", 500, 0);
  ASSERT_TRUE(agent->onCreateContainer(shared_pod, shared).has_value());
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto all = agent->onCreateContainer(pod, guaranteed(pod, "all", 15000));
  ASSERT_FALSE(all.has_value());
  EXPECT_NE(all.error().message().find("without any CPU"), std::string::npos) << all.error().message();
  EXPECT_EQ(agent->state().size(), 1U);
  // A resize may not do it either.
  auto small = guaranteed(pod, "small", 2000);
  ASSERT_TRUE(agent->onCreateContainer(pod, small).has_value());
  ASSERT_FALSE(agent->onUpdateContainer(pod, small, guaranteed(pod, "small", 15000).resources).has_value());
  EXPECT_EQ(agent->state().containers().at({"g1", "small"}).exclusive_cpus.size(), 2);
  // Once the shared container is gone, the pool has no member left to strand.
  ASSERT_TRUE(agent->onStopContainer(shared_pod, shared).has_value());
  ASSERT_TRUE(agent->onRemovePodSandbox(shared_pod).has_value());
  ASSERT_TRUE(agent->onUpdateContainer(pod, small, guaranteed(pod, "small", 15000).resources).has_value());
  auto late = makePod("b2", QosClass::Burstable);
  auto reply = agent->onCreateContainer(late, makeContainer(late, "app", 500, 0));
  ASSERT_FALSE(reply.has_value()) << "an empty cpuset would leave it on every CPU";
  EXPECT_NE(reply.error().message().find("without any CPU"), std::string::npos) << reply.error().message();
}

INSTANTIATE_TEST_SUITE_P(Policies, AgentEmptyPoolTest, ::testing::Values("static", "topology-aware"));

// ---- Item 8: names from the runtime in logs and tables ----------------------------------------

TEST(EscapeForDisplayTest, ControlCharactersCannotForgeALine) {
  EXPECT_EQ(escapeForDisplay("pod/app"), "pod/app");
  EXPECT_EQ(escapeForDisplay("a\nINFO forged"), "a\\nINFO forged");
  EXPECT_EQ(escapeForDisplay("\x1b[31m\t\r\\"), "\\x1b[31m\\t\\r\\\\");
  EXPECT_EQ(escapeForDisplay("ünï"), "ünï");
}

TEST(EscapeForDisplayTest, RefusalsNameTheContainerEscaped) {
  topology::Topology topology = testing::twoNodeTopology();
  TempDir dir;
  auto agent = startAgent(topology, defaultConfig().policy, dir.path());
  ASSERT_NE(agent, nullptr);
  auto pod = makePod("g1", QosClass::Guaranteed);
  auto reply = agent->onCreateContainer(pod, guaranteed(pod, "x\nERROR forged", 64000));
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().message().find('\n'), std::string::npos) << reply.error().message();
  EXPECT_NE(reply.error().message().find("x\\nERROR forged"), std::string::npos) << reply.error().message();
}

}  // namespace
}  // namespace topod::agent
