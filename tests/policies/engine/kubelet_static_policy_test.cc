#include "policies/static/kubelet_static_policy.h"

#include <gtest/gtest.h>

#include <string>

#include "policies/policy_registry.h"
#include "policies/state_check.h"
#include "state/state_json.h"
#include "tests/policies/engine/engine_topologies.h"

namespace topod::policies {
namespace {

using testing::kGiB;
using testing::twoNuma16Cpus;

ContainerRequest guaranteed(const std::string& name, int cpus, uint64_t memory = kGiB) {
  return ContainerRequest{.name = name,
                          .cpu_request_millis = cpus * 1000,
                          .cpu_limit_millis = cpus * 1000,
                          .memory_request_bytes = memory,
                          .memory_limit_bytes = memory};
}

PodRequest podOf(const std::string& uid, const ContainerRequest& c) {
  return PodRequest{
      .uid = uid, .namespace_name = "default", .name = uid, .qos = computeQosClass({c}), .containers = {c}};
}

PolicyOptions staticOptions() {
  PolicyOptions options;
  options.policy = "static";
  options.reserved_cpus = CpuSet{0};
  return options;
}

std::unique_ptr<Policy> make(const PolicyOptions& options) {
  auto policy = makePolicy(twoNuma16Cpus(), options);
  EXPECT_TRUE(policy.has_value()) << policy.error().toString();
  return std::move(*policy);
}

// Admits and commits, checking the State's invariants after the step.
Decision admitAndApply(const Policy& policy, const PolicyOptions& options, State& state, const PodRequest& pod,
                       const ContainerRequest& c) {
  auto decision = policy.admit(state, pod, c);
  EXPECT_TRUE(decision.has_value()) << decision.error().toString();
  state = applyDecision(state, *decision);
  StateCheckOptions check;
  check.policy = &policy;
  EXPECT_EQ(checkState(twoNuma16Cpus(), options, state, check), std::vector<std::string>{});
  return *decision;
}

// `topod explain` says which CPUs and why these: their shape, the pool they came from and the
// take-by-topology rule; a retried create keeps them and says so.
TEST(KubeletStaticPolicyTest, ExplanationSaysWhyTheseCpus) {
  PolicyOptions options = staticOptions();
  options.topology_manager.policy = TopologyManagerPolicy::SingleNumaNode;
  auto policy = make(options);
  State state;
  const ContainerRequest c = guaranteed("c", 2);
  Decision first = admitAndApply(*policy, options, state, podOf("a", c), c);
  EXPECT_NE(
      first.explanation.find("; exclusive 2 CPUs 2-3: 1 whole core (2-3); NUMA node 0; package 0; L3 group 0"
                             "; why these CPUs: taken from the 7 free CPUs of NUMA 0 (the merged affinity); rule: "
                             "the kubelet's take-by-topology, packed: whole NUMA nodes or sockets while the "
                             "request fills one, then whole cores"),
      std::string::npos)
      << first.explanation;
  auto again = policy->admit(state, podOf("a", c), c);
  ASSERT_TRUE(again.has_value()) << again.error().toString();
  EXPECT_NE(again->explanation.find("why these CPUs: kept: the container already held them"), std::string::npos)
      << again->explanation;

  options.cpu.distribute_cpus_across_numa = true;
  options.topology_manager.policy = TopologyManagerPolicy::None;
  auto spread = make(options);
  State empty;
  const ContainerRequest wide = guaranteed("w", 4);
  Decision decision = admitAndApply(*spread, options, empty, podOf("b", wide), wide);
  EXPECT_NE(decision.explanation.find("no NUMA affinity: taken from all 15 free CPUs; rule: the kubelet's "
                                      "take-by-topology (distribute-cpus-across-numa)"),
            std::string::npos)
      << decision.explanation;

  const ContainerRequest burstable{.name = "s", .cpu_request_millis = 500};
  auto shared = policy->admit(state, podOf("s", burstable), burstable);
  ASSERT_TRUE(shared.has_value());
  EXPECT_NE(shared->explanation.find("; shared pool 0-1,4-15 (not a whole-CPU Guaranteed request)"), std::string::npos)
      << shared->explanation;
}

TEST(KubeletStaticPolicyTest, RegisteredAsStatic) {
  auto policy = make(staticOptions());
  EXPECT_EQ(policy->name(), "static");
  EXPECT_NE(knownPolicyList().find("static"), std::string::npos);
}

TEST(KubeletStaticPolicyTest, GuaranteedGetsExclusiveCpusOthersTheSharedPool) {
  PolicyOptions options = staticOptions();
  auto policy = make(options);
  State state;
  ContainerRequest db = guaranteed("db", 2);
  Decision pinned = admitAndApply(*policy, options, state, podOf("p1", db), db);
  EXPECT_EQ(pinned.allocation.exclusive_cpus.size(), 2);
  EXPECT_FALSE(pinned.allocation.exclusive_cpus.contains(0));
  EXPECT_EQ(pinned.placement.cpus, pinned.allocation.exclusive_cpus);
  EXPECT_TRUE(pinned.placement.mems.empty());  // memory manager off
  EXPECT_FALSE(pinned.explanation.empty());

  ContainerRequest web{.name = "web", .cpu_request_millis = 500};
  Decision shared = admitAndApply(*policy, options, state, podOf("p2", web), web);
  EXPECT_TRUE(shared.allocation.exclusive_cpus.empty());
  EXPECT_EQ(shared.placement.cpus, CpuSet::range(0, 15) - pinned.allocation.exclusive_cpus);
  EXPECT_EQ(policy->sharedCpus(state), shared.placement.cpus);

  ContainerRequest fractional = guaranteed("frac", 1);
  fractional.cpu_request_millis = fractional.cpu_limit_millis = 1500;
  Decision frac = admitAndApply(*policy, options, state, podOf("p3", fractional), fractional);
  EXPECT_TRUE(frac.allocation.exclusive_cpus.empty());

  auto placements = policy->placements(state);
  EXPECT_EQ(placements.at({.pod_uid = "p1", .container_name = "db"}).cpus, pinned.allocation.exclusive_cpus);
  EXPECT_EQ(placements.at({.pod_uid = "p2", .container_name = "web"}).cpus, shared.placement.cpus);
}

TEST(KubeletStaticPolicyTest, StaticMemoryManagerPinsMemory) {
  PolicyOptions options = staticOptions();
  options.memory_policy = MemoryManagerPolicy::Static;
  options.reserved_memory[0]["memory"] = kGiB;
  auto policy = make(options);
  State state;
  ContainerRequest db = guaranteed("db", 2, 2 * kGiB);
  Decision decision = admitAndApply(*policy, options, state, podOf("p1", db), db);
  ASSERT_EQ(decision.allocation.memory_nodes.size(), 1);
  int node = decision.allocation.memory_nodes.first();
  EXPECT_EQ(decision.allocation.memory.at(node).at("memory"), 2 * kGiB);
  EXPECT_EQ(decision.placement.mems, decision.allocation.memory_nodes);
  // Aligned: the CPUs are on the memory's node.
  EXPECT_TRUE(decision.allocation.exclusive_cpus.isSubsetOf(twoNuma16Cpus().cpusOfNuma(node)));
}

TEST(KubeletStaticPolicyTest, RefusesWhatDoesNotFitWithAReason) {
  PolicyOptions options = staticOptions();
  options.topology_manager.policy = TopologyManagerPolicy::SingleNumaNode;
  auto policy = make(options);
  ContainerRequest big = guaranteed("big", 10);  // more than one 8-CPU node
  auto decision = policy->admit(State{}, podOf("p1", big), big);
  ASSERT_FALSE(decision.has_value());
  EXPECT_NE(decision.error().message().find("Topology"), std::string::npos) << decision.error().message();
}

TEST(KubeletStaticPolicyTest, ResizeKeepsCpusOrIsRefusedLeavingTheOldAllocation) {
  PolicyOptions options = staticOptions();
  auto policy = make(options);
  State state;
  ContainerRequest db = guaranteed("db", 2);
  PodRequest pod = podOf("p1", db);
  Decision first = admitAndApply(*policy, options, state, pod, db);

  ContainerRequest bigger = guaranteed("db", 4);
  auto grown = policy->resize(state, pod, bigger);
  ASSERT_TRUE(grown.has_value()) << grown.error().toString();
  EXPECT_EQ(grown->allocation.exclusive_cpus.size(), 4);
  EXPECT_TRUE(first.allocation.exclusive_cpus.isSubsetOf(grown->allocation.exclusive_cpus));
  EXPECT_EQ(grown->allocation.request.cpu_limit_millis, 4000);
  state = applyDecision(state, *grown);

  ContainerRequest huge = guaranteed("db", 40);
  auto refused = policy->resize(state, pod, huge);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("resize refused, allocation kept"), std::string::npos)
      << refused.error().message();
  EXPECT_EQ(state.containers().at({.pod_uid = "p1", .container_name = "db"}).exclusive_cpus,
            grown->allocation.exclusive_cpus);

  auto unknown = policy->resize(state, podOf("p9", db), db);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), ErrorCode::NotFound);
}

// Restore: a checkpoint written after admissions is adopted by a fresh policy, which then keeps
// placing around it; a checkpoint with a CPU that is now reserved is refused.
TEST(KubeletStaticPolicyTest, RestoresAStateAndRefusesOneThatDoesNotFit) {
  PolicyOptions options = staticOptions();
  auto policy = make(options);
  State state;
  ContainerRequest a = guaranteed("a", 4);
  ContainerRequest b = guaranteed("b", 2);
  admitAndApply(*policy, options, state, podOf("p1", a), a);
  admitAndApply(*policy, options, state, podOf("p2", b), b);

  auto restored = parseState(serializeState(state), "state.json");
  ASSERT_TRUE(restored.has_value()) << restored.error().toString();
  auto fresh = make(options);
  StateCheckOptions check;
  check.policy = fresh.get();
  EXPECT_TRUE(validateRestoredState(twoNuma16Cpus(), options, *restored, "state.json", check).has_value());
  ContainerRequest c = guaranteed("c", 2);
  auto next = fresh->admit(*restored, podOf("p3", c), c);
  ASSERT_TRUE(next.has_value()) << next.error().toString();
  for (const auto& [key, allocation] : restored->containers()) {
    EXPECT_FALSE(next->allocation.exclusive_cpus.intersects(allocation.exclusive_cpus)) << key.pod_uid;
  }

  PolicyOptions more_reserved = options;
  more_reserved.reserved_cpus = CpuSet{0} | state.containers().begin()->second.exclusive_cpus;
  auto stricter = make(more_reserved);
  check.policy = stricter.get();
  Status status = validateRestoredState(twoNuma16Cpus(), more_reserved, *restored, "state.json", check);
  ASSERT_FALSE(status.has_value());
  EXPECT_NE(status.error().message().find("are reserved"), std::string::npos) << status.error().message();
}

TEST(KubeletStaticPolicyTest, NeedsAReservedCpuLikeTheKubelet) {
  PolicyOptions options = staticOptions();
  options.reserved_cpus = {};
  options.reserved_cpu_count = 0;
  auto policy = makePolicy(twoNuma16Cpus(), options);
  ASSERT_FALSE(policy.has_value());
  EXPECT_NE(policy.error().message().find("at least one reserved CPU"), std::string::npos) << policy.error().message();
}

}  // namespace
}  // namespace topod::policies
