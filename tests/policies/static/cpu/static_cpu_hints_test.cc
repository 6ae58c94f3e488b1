// The kubelet's topology_hints_test.go rows: TestPodGuaranteedCPUs, TestGetTopologyHints and
// TestGetPodTopologyHints over returnTestCases(), and TestGetPodTopologyHintsWithPolicyOptions.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "policies/static/cpu/static_cpu_policy.h"
#include "tests/policies/kubelet_topologies.h"
#include "tests/policies/static/cpu/static_policy_harness.h"

namespace topod::policies::cpu::test {
namespace {

namespace fx = topod::testing;

// returnMachineInfo(): 12 CPUs, NUMA node = socket; node 0 cores {0,6},{1,7},{2,8}, node 1 cores
// {3,9},{4,10},{5,11}; the kubelet's Discover() numbers each core by its lowest CPU.
KubeletCpuTopology hintsMachine() {
  std::vector<KubeletCpuInfo> rows;
  for (int core = 0; core < 6; ++core) {
    const int node = core / 3;
    for (int cpu : {core, core + 6})
      rows.push_back({.cpu = cpu, .core = core, .socket = node, .numa = node, .uncore = 1});
  }
  return KubeletCpuTopology::fromRows(rows).value();
}

StaticCpuPolicy policyOn(const KubeletCpuTopology& topo, StaticCpuOptions cpu = {}) {
  PolicyOptions options;
  options.cpu = cpu;
  auto policy = StaticCpuPolicy::create(topo, options);
  TOPOD_CHECK(policy.has_value());
  return std::move(policy).value();
}

struct Hint {
  std::string nodes;
  bool preferred;
  friend bool operator<(const Hint& a, const Hint& b) {
    return std::tie(a.nodes, a.preferred) < std::tie(b.nodes, b.preferred);
  }
  friend bool operator==(const Hint& a, const Hint& b) = default;
};

std::vector<Hint> asSorted(const ResourceHints& hints) {
  std::vector<Hint> out;
  auto it = hints.find("cpu");
  if (it == hints.end()) return out;
  for (const TopologyHint& h : it->second) out.push_back({h.affinity.toString(), h.preferred});
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Hint> sorted(std::vector<Hint> hints) {
  std::sort(hints.begin(), hints.end());
  return hints;
}

// ---- TestPodGuaranteedCPUs ----------------------------------------------------------------------

struct PodCpusRow {
  std::string name;
  std::vector<ContainerSpec> inits;
  std::vector<ContainerSpec> apps;
  int expected;
};

class PodGuaranteedCpusTest : public ::testing::TestWithParam<PodCpusRow> {};

TEST_P(PodGuaranteedCpusTest, MatchesKubelet) {
  const PodCpusRow& row = GetParam();
  const StaticCpuPolicy policy = policyOn(hintsMachine());
  EXPECT_EQ(policy.podGuaranteedCpus(makeMultiContainerPod(row.inits, row.apps)), row.expected);
}

const ContainerSpec kZero{"0", "0"};
const ContainerSpec kTwo{"2", "2"};
const ContainerSpec kFive{"5", "5"};
ContainerSpec sidecar(const char* cpus_quantity) {
  return {cpus_quantity, cpus_quantity, ContainerKind::Sidecar};
}

INSTANTIATE_TEST_SUITE_P(
    Kubelet, PodGuaranteedCpusTest,
    ::testing::Values(
        PodCpusRow{"TestCase01_if_requestedCPU_0_Pod_is_not_Guaranteed_Qos", {kZero}, {kZero}, 0},
        PodCpusRow{"TestCase02_if_requestedCPU_0_Pod_is_not_Guaranteed_Qos", {kZero}, {kTwo}, 0},
        PodCpusRow{"TestCase03_if_requestedCPU_0_Pod_is_not_Guaranteed_Qos", {kTwo}, {kZero}, 0},
        PodCpusRow{"TestCase04_Guaranteed_Pod_requests_2_CPUs", {kTwo}, {kTwo}, 2},
        PodCpusRow{"TestCase05_Guaranteed_Pod_requests_5_CPUs", {kFive}, {kFive}, 5},
        PodCpusRow{"TestCase06_app_bigger_than_init", {kTwo}, {kFive}, 5},
        PodCpusRow{"TestCase07_init_bigger_than_app", {kFive}, {kTwo}, 5},
        PodCpusRow{
            "TestCase08_Sum_of_CPUs_requested_by_multiple_containers", {kTwo, {"4", "4"}}, {kTwo, {"4", "4"}}, 6},
        PodCpusRow{"TestCase09_restartable_init_container_regular_container", {sidecar("1")}, {{"1", "1"}}, 2},
        PodCpusRow{"TestCase09_multiple_restartable_init_containers",
                   {kFive, sidecar("1"), sidecar("2"), sidecar("3")},
                   {{"1", "1"}},
                   7},
        PodCpusRow{"TestCase11_multiple_restartable_and_regular_init_containers",
                   {kFive, sidecar("1"), sidecar("2"), kFive, sidecar("3")},
                   {{"1", "1"}},
                   8},
        PodCpusRow{"TestCase12_restartable_init_regular_init_and_regular_container",
                   {sidecar("10"), {"200", "200"}},
                   {{"100", "100"}},
                   210}),
    [](const ::testing::TestParamInfo<PodCpusRow>& p) { return p.param.name; });

// ---- returnTestCases(): container and pod hints --------------------------------------------------

struct HintRow {
  std::string name;
  std::string request;                                           // the pod's only container, "fakeContainer"
  std::vector<std::pair<std::string, std::string>> assignments;  // of that container
  std::string default_set;
  std::vector<Hint> expected;
};

std::vector<HintRow> hintRows() {
  std::set<std::string> seen;
  const auto n = [&](const char* d) { return rowName(d, seen); };
  return {
      {n("Request 2 CPUs, 4 available on NUMA 0, 6 available on NUMA 1"),
       "2",
       {},
       "2-11",
       {{"0", true}, {"1", true}, {"0-1", false}}},
      {n("Request 5 CPUs, 4 available on NUMA 0, 6 available on NUMA 1"),
       "5",
       {},
       "2-11",
       {{"1", true}, {"0-1", false}}},
      {n("Request 7 CPUs, 4 available on NUMA 0, 6 available on NUMA 1"), "7", {}, "2-11", {{"0-1", true}}},
      {n("Request 11 CPUs, 4 available on NUMA 0, 6 available on NUMA 1"), "11", {}, "2-11", {}},
      {n("Request 2 CPUs, 1 available on NUMA 0, 1 available on NUMA 1"), "2", {}, "0,3", {{"0-1", false}}},
      {n("Request more CPUs than available"), "5", {}, "0-3", {}},
      {n("Regenerate Single-Node NUMA Hints if already allocated 1/2"),
       "2",
       {{"fakeContainer", "0,6"}},
       "",
       {{"0", true}, {"0-1", false}}},
      {n("Regenerate Single-Node NUMA Hints if already allocated 1/2"),
       "2",
       {{"fakeContainer", "3,9"}},
       "",
       {{"1", true}, {"0-1", false}}},
      {n("Regenerate Cross-NUMA Hints if already allocated"), "11", {{"fakeContainer", "0-10"}}, "", {{"0-1", true}}},
      {n("Requested less than already allocated"), "2", {{"fakeContainer", "0,3,6,9"}}, "", {}},
      {n("Requested more than already allocated"), "11", {{"fakeContainer", "0,3,6,9"}}, "", {}},
  };
}

class TopologyHintsTest : public ::testing::TestWithParam<HintRow> {};

TEST_P(TopologyHintsTest, ContainerHintsMatchKubelet) {
  const HintRow& row = GetParam();
  const KubeletCpuTopology topo = hintsMachine();
  const StaticCpuPolicy policy = policyOn(topo);
  const PodRequest pod = makePod("fakePod", "fakeContainer", row.request, row.request);
  const State state = kubeletState(topo, "fakePod", row.assignments, row.default_set);
  const ResourceHints hints = policy.containerHints(state, pod, pod.containers[0]);
  ASSERT_EQ(hints.count("cpu"), 1U);  // a Guaranteed integer request always answers for "cpu"
  EXPECT_EQ(asSorted(hints), sorted(row.expected));
}

TEST_P(TopologyHintsTest, PodHintsMatchKubelet) {
  const HintRow& row = GetParam();
  const KubeletCpuTopology topo = hintsMachine();
  const StaticCpuPolicy policy = policyOn(topo);
  const PodRequest pod = makePod("fakePod", "fakeContainer", row.request, row.request);
  const State state = kubeletState(topo, "fakePod", row.assignments, row.default_set);
  EXPECT_EQ(asSorted(policy.podHints(state, pod)), sorted(row.expected));
}

INSTANTIATE_TEST_SUITE_P(Kubelet, TopologyHintsTest, ::testing::ValuesIn(hintRows()),
                         [](const ::testing::TestParamInfo<HintRow>& p) { return p.param.name; });

TEST(TopologyHints, SharedContainersHaveNoPreference) {
  const StaticCpuPolicy policy = policyOn(hintsMachine());
  const PodRequest burstable = makePod("p", "c", "1000m", "2000m");
  EXPECT_TRUE(policy.containerHints(State{}, burstable, burstable.containers[0]).empty());
  EXPECT_TRUE(policy.podHints(State{}, burstable).empty());
  const PodRequest fractional = makePod("p", "c", "1500m", "1500m");
  EXPECT_TRUE(policy.containerHints(State{}, fractional, fractional.containers[0]).empty());
}

TEST(TopologyHints, ReusableInitCpusPinTheMask) {
  // An init container of the pod holds CPUs 0,6 (NUMA 0): every hint for the app container must
  // contain NUMA 0, since those CPUs come back to the pod.
  const KubeletCpuTopology topo = hintsMachine();
  const StaticCpuPolicy policy = policyOn(topo);
  const PodRequest pod = makeMultiContainerPod({{"2", "2", ContainerKind::Init}}, {{"2", "2"}});
  State state;
  record(state, pod, pod.containers[0], cpus("0,6"));
  EXPECT_EQ(asSorted(policy.containerHints(state, pod, pod.containers[1])), sorted({{"0", true}, {"0-1", false}}));
}

// ---- TestGetPodTopologyHintsWithPolicyOptions ------------------------------------------------------

struct OptionHintRow {
  std::string name;
  std::string request;
  std::string default_set;
  bool align_by_socket;
  std::vector<Hint> expected;
};

class PodHintsWithOptionsTest : public ::testing::TestWithParam<OptionHintRow> {};

TEST_P(PodHintsWithOptionsTest, MatchesKubelet) {
  const OptionHintRow& row = GetParam();
  const KubeletCpuTopology topo = kubeletView(fx::topoDualSocketMultiNumaPerSocketHTCpus());
  const StaticCpuPolicy policy = policyOn(topo, StaticCpuOptions{.align_by_socket = row.align_by_socket});
  const PodRequest pod = makePod("fakePod", "fakeContainer", row.request, row.request);
  const State state = kubeletState(topo, "fakePod", {}, row.default_set);
  EXPECT_EQ(asSorted(policy.podHints(state, pod)), sorted(row.expected));
}

INSTANTIATE_TEST_SUITE_P(
    Kubelet, PodHintsWithOptionsTest,
    ::testing::Values(OptionHintRow{"AlignBySocket_false_Preferred_hints_does_not_contains_socket_aligned_hints",
                                    "2",
                                    "2,3,11",
                                    false,
                                    {{"0", true},
                                     {"0-1", false},
                                     {"0,2", false},
                                     {"0,3", false},
                                     {"0-2", false},
                                     {"0-1,3", false},
                                     {"0,2-3", false},
                                     {"0-3", false}}},
                      OptionHintRow{"AlignBySocket_true_Preferred_hints_contains_socket_aligned_hints",
                                    "2",
                                    "2,3,11",
                                    true,
                                    {{"0", true},
                                     {"0-1", true},
                                     {"0,2", false},
                                     {"0,3", false},
                                     {"0-2", false},
                                     {"0-1,3", false},
                                     {"0,2-3", false},
                                     {"0-3", false}}},
                      OptionHintRow{
                          "AlignBySocket_true_Preferred_hints_are_spread_across_socket_since_2_sockets_are_required",
                          "41",
                          "0-28,40-57",
                          true,
                          {{"0-2", true}, {"0-3", true}}}),
    [](const ::testing::TestParamInfo<OptionHintRow>& p) { return p.param.name; });

}  // namespace
}  // namespace topod::policies::cpu::test
