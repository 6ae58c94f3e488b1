// The composed "static" policy through the Policy interface, for every topology manager policy x
// scope on fixture machines (hwloc XML captures and synthetic shapes). Each row runs the same
// three scenarios on a fresh State; the expectation columns say what the kubelet does for them:
//   pair:  one Guaranteed pod with two containers of `c` CPUs each, where one container fits the
//          smallest NUMA node but the pod (2c) fits no single node;
//   big:   one Guaranteed container larger than any NUMA node (smallest + largest node / 2);
//   mixed: a Burstable and a BestEffort container next to an exclusive one: always admitted, on
//          the shared pool.
// Every admitted step is followed by the engine's invariant check and the placement promises.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policies/static/topology_manager/topology_manager.h"
#include "tests/policies/static/policy/static_fixtures.h"

namespace topod::policies::static_test {
namespace {

enum class Outcome { Admitted, AdmittedOneNodeEach, AdmittedSameNodes, Refused };

struct MatrixRow {
  std::string name;
  std::string fixture;
  TopologyManagerPolicy manager;
  TopologyManagerScope scope;
  Outcome pair;
  Outcome big;
};

class ManagerMatrixTest : public ::testing::TestWithParam<MatrixRow> {};

// CPUs per container for the pair scenario: fits the smallest node, two do not fit the largest.
int pairSize(const topology::Topology& topology, const CpuSet& reserved) {
  int smallest = smallestNode(topology, reserved);
  int largest = largestNode(topology, reserved);
  int c = smallest;
  while (c > 1 && 2 * (c - 1) > largest) --c;
  return c;
}

void expectTopologyRefusal(const Result<Decision>& decision) {
  ASSERT_FALSE(decision.has_value());
  EXPECT_EQ(decision.error().code(), ErrorCode::ResourceExhausted);
  EXPECT_EQ(decision.error().reason(), topology_manager::kTopologyAffinityErrorReason) << decision.error().toString();
  EXPECT_NE(decision.error().message().find(topology_manager::kTopologyAffinityErrorReason), std::string::npos)
      << "the kubelet's text stays in the message:\n"
      << decision.error().toString();
}

TEST_P(ManagerMatrixTest, PairBigAndMixed) {
  const MatrixRow& row = GetParam();
  topology::Topology topology = loadFixture(row.fixture);
  PolicyOptions options = staticOptions(topology);
  options.topology_manager.policy = row.manager;
  options.topology_manager.scope = row.scope;
  auto policy = makeStatic(topology, options);
  ASSERT_NE(policy, nullptr);
  const CpuSet& reserved = options.reserved_cpus;

  {  // pair
    State state;
    int c = pairSize(topology, reserved);
    ASSERT_GT(2 * c, largestNode(topology, reserved)) << "fixture too small for the pair scenario";
    PodRequest pod = podOf("pair", {guaranteed("a", c), guaranteed("b", c)});
    auto a = admitAndCommit(topology, options, *policy, state, pod, pod.containers[0]);
    if (row.pair == Outcome::Refused) {
      expectTopologyRefusal(a);
      EXPECT_TRUE(state.empty());
    } else {
      ASSERT_TRUE(a.has_value()) << a.error().toString();
      auto b = admitAndCommit(topology, options, *policy, state, pod, pod.containers[1]);
      ASSERT_TRUE(b.has_value()) << b.error().toString();
      EXPECT_EQ(a->allocation.exclusive_cpus.size(), c);
      EXPECT_EQ(b->allocation.exclusive_cpus.size(), c);
      EXPECT_FALSE(a->allocation.exclusive_cpus.intersects(reserved));
      EXPECT_FALSE(b->allocation.exclusive_cpus.intersects(reserved));
      NodeSet nodes_a = nodesOf(topology, a->allocation.exclusive_cpus);
      NodeSet nodes_b = nodesOf(topology, b->allocation.exclusive_cpus);
      if (row.pair == Outcome::AdmittedOneNodeEach) {
        EXPECT_EQ(nodes_a.size(), 1) << a->explanation;
        EXPECT_EQ(nodes_b.size(), 1) << b->explanation;
      }
      if (row.pair == Outcome::AdmittedSameNodes) {
        // Pod scope: both containers were placed within the pod's one merged affinity, the
        // narrowest set of nodes that holds the whole pod.
        NodeSet both = nodes_a | nodes_b;
        EXPECT_EQ(both.size(), 2) << a->explanation << " / " << b->explanation;
      }
    }
  }
  {  // big
    State state;
    int big = smallestNode(topology, reserved) + largestNode(topology, reserved) / 2;
    PodRequest pod = podOf("big", {guaranteed("c", big)});
    auto decision = admitAndCommit(topology, options, *policy, state, pod, pod.containers[0]);
    if (row.big == Outcome::Refused) {
      expectTopologyRefusal(decision);
    } else {
      ASSERT_TRUE(decision.has_value()) << decision.error().toString();
      EXPECT_EQ(decision->allocation.exclusive_cpus.size(), big);
      if (row.manager != TopologyManagerPolicy::None) {
        EXPECT_EQ(nodesOf(topology, decision->allocation.exclusive_cpus).size(), 2) << decision->explanation;
      }
    }
  }
  {  // mixed
    State state;
    PodRequest pinned = podOf("pinned", {guaranteed("c", 2)});
    ASSERT_TRUE(admitAndCommit(topology, options, *policy, state, pinned, pinned.containers[0]).has_value());
    PodRequest web = podOf("web", {burstable("c", 500)});
    auto shared = admitAndCommit(topology, options, *policy, state, web, web.containers[0]);
    ASSERT_TRUE(shared.has_value()) << shared.error().toString();
    EXPECT_TRUE(shared->allocation.exclusive_cpus.empty());
    PodRequest idle = podOf("idle", {ContainerRequest{.name = "c"}});
    auto best_effort = admitAndCommit(topology, options, *policy, state, idle, idle.containers[0]);
    ASSERT_TRUE(best_effort.has_value()) << best_effort.error().toString();
    CpuSet expected_shared = topology.onlineCpus() - state.containers().at({"pinned", "c"}).exclusive_cpus;
    EXPECT_EQ(policy->sharedCpus(state), expected_shared);
    EXPECT_EQ(shared->placement.cpus, expected_shared);
    EXPECT_EQ(best_effort->placement.cpus, expected_shared);
    EXPECT_TRUE(shared->placement.mems.empty());  // memory manager off: mems unrestricted
  }
}

std::vector<MatrixRow> matrixRows() {
  using enum TopologyManagerPolicy;
  using enum Outcome;
  struct Fixture {
    const char* label;
    const char* source;
  };
  const std::vector<Fixture> fixtures = {
      {"Intel2s2x20c", "intel-2s-2x20c-smt2"},       {"IntelSnc2", "intel-2s-snc2-2x32c-smt2"},
      {"Intel4s4x12c", "intel-4s-4x12c-smt2"},       {"AmdNps4", "amd-epyc-1s-64c-smt2-nps4"},
      {"Gpu2s2x16c", "gpu-2s-2x16c-smt2-4gpu-2nic"}, {"Synthetic4Numa", "synthetic:pack:2 numa:2 core:4 pu:2"},
  };
  struct PolicyScope {
    const char* label;
    TopologyManagerPolicy manager;
    TopologyManagerScope scope;
    Outcome pair;
    Outcome big;
  };
  const std::vector<PolicyScope> cases = {
      {"NoneContainer", None, TopologyManagerScope::Container, Admitted, Admitted},
      {"NonePod", None, TopologyManagerScope::Pod, Admitted, Admitted},
      {"BestEffortContainer", BestEffort, TopologyManagerScope::Container, AdmittedOneNodeEach, Admitted},
      {"BestEffortPod", BestEffort, TopologyManagerScope::Pod, AdmittedSameNodes, Admitted},
      {"RestrictedContainer", Restricted, TopologyManagerScope::Container, AdmittedOneNodeEach, Admitted},
      {"RestrictedPod", Restricted, TopologyManagerScope::Pod, AdmittedSameNodes, Admitted},
      {"SingleNumaNodeContainer", SingleNumaNode, TopologyManagerScope::Container, AdmittedOneNodeEach, Refused},
      {"SingleNumaNodePod", SingleNumaNode, TopologyManagerScope::Pod, Refused, Refused},
  };
  std::vector<MatrixRow> rows;
  for (const Fixture& f : fixtures) {
    for (const PolicyScope& p : cases) {
      rows.push_back({std::string(f.label) + "_" + p.label, f.source, p.manager, p.scope, p.pair, p.big});
    }
  }
  return rows;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ManagerMatrixTest, ::testing::ValuesIn(matrixRows()),
                         [](const ::testing::TestParamInfo<MatrixRow>& row_info) { return row_info.param.name; });

// A one-NUMA machine: every policy and scope admits what fits, aligned by construction, and
// refuses what does not fit.
// "single-numa-node" -> "single_numa_node": GoogleTest names take letters, digits and '_'.
std::string testName(std::string_view text) {
  std::string name(text);
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

class OneNodeTest : public ::testing::TestWithParam<std::tuple<TopologyManagerPolicy, TopologyManagerScope>> {};

TEST_P(OneNodeTest, AdmitsWhatFitsRefusesTheRest) {
  topology::Topology topology = loadFixture("vm-1s-8c-nosmt");
  PolicyOptions options = staticOptions(topology);  // CPU 0 reserved (no SMT)
  options.topology_manager.policy = std::get<0>(GetParam());
  options.topology_manager.scope = std::get<1>(GetParam());
  auto policy = makeStatic(topology, options);
  ASSERT_NE(policy, nullptr);
  State state;
  PodRequest fits = podOf("fits", {guaranteed("c", 7)});
  auto admitted = admitAndCommit(topology, options, *policy, state, fits, fits.containers[0]);
  ASSERT_TRUE(admitted.has_value()) << admitted.error().toString();
  EXPECT_EQ(admitted->allocation.exclusive_cpus, CpuSet::range(1, 7));
  PodRequest more = podOf("more", {guaranteed("c", 1)});
  auto refused = policy->admit(state, more, more.containers[0]);
  ASSERT_FALSE(refused.has_value());
  // The CPU hint provider has no mask with a free CPU and says so with an empty hint list:
  // restricted and single-numa-node reject at the topology manager, the others let the CPU
  // manager's allocation fail with its own reason (the kubelet's order of checks).
  TopologyManagerPolicy manager = std::get<0>(GetParam());
  bool rejected_by_manager =
      manager == TopologyManagerPolicy::Restricted || manager == TopologyManagerPolicy::SingleNumaNode;
  std::string reason = rejected_by_manager ? std::string(topology_manager::kTopologyAffinityErrorReason)
                                           : "not enough cpus available to satisfy request: requested=1, available=0";
  EXPECT_NE(refused.error().message().find(reason), std::string::npos) << refused.error().toString();
  EXPECT_EQ(refused.error().reason(), rejected_by_manager ? topology_manager::kTopologyAffinityErrorReason : "");
  EXPECT_EQ(policy->sharedCpus(state), CpuSet{0});
}

INSTANTIATE_TEST_SUITE_P(
    AllPoliciesAndScopes, OneNodeTest,
    ::testing::Combine(::testing::Values(TopologyManagerPolicy::None, TopologyManagerPolicy::BestEffort,
                                         TopologyManagerPolicy::Restricted, TopologyManagerPolicy::SingleNumaNode),
                       ::testing::Values(TopologyManagerScope::Container, TopologyManagerScope::Pod)),
    [](const auto& param_info) {
      return testName(topology_manager::policyName(std::get<0>(param_info.param))) + "_" +
             testName(topology_manager::scopeName(std::get<1>(param_info.param)));
    });

}  // namespace
}  // namespace topod::policies::static_test
