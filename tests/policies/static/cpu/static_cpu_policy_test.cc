// The kubelet's policy_static_test.go rows, row by row: TestStaticPolicyAdd (options-insensitive
// rows under no options and under full-pcpus-only, default-option rows, full-pcpus-only rows,
// align-by-socket rows), TestStaticPolicyAddWithResvList, TestStaticPolicyReuseCPUs,
// TestStaticPolicyDoNotReuseCPUs, TestStaticPolicyRemove, TestTopologyAwareAllocateCPUs and the
// shared-pool rows of TestStaticPolicyStartWithResvList; then option parsing and validation.
#include "policies/static/cpu/static_cpu_policy.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/policies/kubelet_topologies.h"
#include "tests/policies/static/cpu/static_policy_harness.h"

namespace topod::policies::cpu::test {
namespace {

namespace fx = topod::testing;
using RowsFn = std::function<std::vector<fx::KubeletCpuInfo>()>;
using Assignments = std::vector<std::pair<std::string, std::string>>;

std::string minus(const char* all, const std::string& some) {
  return (cpus(all) - cpus(some.c_str())).toString();
}

std::string quadSocketCpus(int socket) {
  CpuSet result;
  for (const auto& row : fx::topoQuadSocketFourWayHTCpus()) {
    if (row.socket == socket) result.insert(row.cpu);
  }
  return result.toString();
}

struct AddRow {
  std::string name;
  RowsFn topo;
  int num_reserved;
  std::string reserved_list;
  StaticCpuOptions options;
  Assignments assignments;
  std::string default_set;
  std::string container;
  std::string request;
  std::string limit;
  std::string hint;   // NUMA nodes of the topology manager's hint; empty: none
  std::string error;  // expected error text (the kubelet's), empty: none
  bool alloc;
  std::string expect;
};

std::vector<AddRow> addRows() {
  const std::string all_quad = "0-287";
  const std::string quad_taken = "3,4,5,6,7,11";
  const std::string quad_free7 = "10,11,37,52,53,55,67";
  const std::string quad_y = "10,22,34,47,53,61,108,115,173,181,228,235";
  const std::string quad_three = "1,2,9,11,12,13,23,25,35,38,48,51,53,54,61,113,173,233";
  const std::string sock1_y = (cpus(quadSocketCpus(1).c_str()) | cpus(quad_y.c_str())).toString();
  const StaticCpuOptions none;
  const StaticCpuOptions full{.full_pcpus_only = true};
  struct Insensitive {
    const char* description;
    RowsFn topo;
    int reserved;
    Assignments assignments;
    std::string default_set;
    const char* container;
    const char* request;
    const char* limit;
    bool alloc;
    std::string expect;
  };
  const std::vector<Insensitive> insensitive = {
      {"GuPodMultipleCores, SingleSocketHT, ExpectAllocOneCore",
       fx::topoSingleSocketHTCpus,
       1,
       {{"fakeContainer100", "2,3,6,7"}},
       "0,1,4,5",
       "fakeContainer3",
       "2000m",
       "2000m",
       true,
       "1,5"},
      {"GuPodMultipleCores, DualSocketHT, ExpectAllocOneSocket",
       fx::topoDualSocketHTCpus,
       1,
       {{"fakeContainer100", "2"}},
       "0,1,3-11",
       "fakeContainer3",
       "6000m",
       "6000m",
       true,
       "1,3,5,7,9,11"},
      {"GuPodMultipleCores, DualSocketHT, ExpectAllocThreeCores",
       fx::topoDualSocketHTCpus,
       1,
       {{"fakeContainer100", "1,5"}},
       "0,2-4,6-11",
       "fakeContainer3",
       "6000m",
       "6000m",
       true,
       "2,3,4,8,9,10"},
      {"GuPodMultipleCores, DualSocketNoHT, ExpectAllocOneSocket",
       fx::topoDualSocketNoHTCpus,
       1,
       {{"fakeContainer100", ""}},
       "0,1,3-7",
       "fakeContainer1",
       "4000m",
       "4000m",
       true,
       "4-7"},
      {"GuPodMultipleCores, DualSocketNoHT, ExpectAllocFourCores",
       fx::topoDualSocketNoHTCpus,
       1,
       {{"fakeContainer100", "4,5"}},
       "0,1,3,6,7",
       "fakeContainer1",
       "4000m",
       "4000m",
       true,
       "1,3,6,7"},
      {"GuPodMultipleCores, DualSocketHT, ExpectAllocOneSocketOneCore",
       fx::topoDualSocketHTCpus,
       1,
       {{"fakeContainer100", "2"}},
       "0,1,3-11",
       "fakeContainer3",
       "8000m",
       "8000m",
       true,
       "1,3,4,5,7,9,10,11"},
      {"NonGuPod, SingleSocketHT, NoAlloc",
       fx::topoSingleSocketHTCpus,
       1,
       {},
       "0-7",
       "fakeContainer1",
       "1000m",
       "2000m",
       false,
       ""},
      {"GuPodNonIntegerCore, SingleSocketHT, NoAlloc",
       fx::topoSingleSocketHTCpus,
       1,
       {},
       "0-7",
       "fakeContainer4",
       "977m",
       "977m",
       false,
       ""},
      {"GuPodMultipleCores, topoQuadSocketFourWayHT, ExpectAllocSock0",
       fx::topoQuadSocketFourWayHTCpus,
       0,
       {{"fakeContainer100", quad_taken}},
       minus("0-287", quad_taken),
       "fakeContainer5",
       "72000m",
       "72000m",
       true,
       quadSocketCpus(0)},
      {"GuPodMultipleCores, topoQuadSocketFourWayHT, ExpectAllocAllFullCoresFromThreeSockets",
       fx::topoQuadSocketFourWayHTCpus,
       0,
       {{"fakeContainer100", minus("0-287", quad_three)}},
       quad_three,
       "fakeCcontainer5",
       "12000m",
       "12000m",
       true,
       "1,11,13,23,25,35,38,48,53,113,173,233"},
      {"GuPodMultipleCores, topoQuadSocketFourWayHT, ExpectAllocAllSock1+FullCore",
       fx::topoQuadSocketFourWayHTCpus,
       0,
       {{"fakeContainer100", minus("0-287", sock1_y)}},
       sock1_y,
       "fakeContainer5",
       "76000m",
       "76000m",
       true,
       (cpus(quadSocketCpus(1).c_str()) | cpus("10,34,22,47")).toString()},
  };
  std::set<std::string> seen;
  std::vector<AddRow> rows;
  for (const auto& [label, options] :
       {std::pair{"options=map[]", none}, std::pair{"options=map[full-pcpus-only:true]", full}}) {
    for (const Insensitive& r : insensitive) {
      rows.push_back({rowName(std::string(label) + " " + r.description, seen), r.topo, r.reserved, "", options,
                      r.assignments, r.default_set, r.container, r.request, r.limit, "", "", r.alloc, r.expect});
    }
  }
  const auto add = [&](const char* description, RowsFn topo, int reserved, std::string list, StaticCpuOptions options,
                       Assignments assignments, std::string default_set, const char* container, const char* request,
                       const char* limit, std::string hint, std::string error, bool alloc, std::string expect) {
    rows.push_back({rowName(description, seen), std::move(topo), reserved, std::move(list), options,
                    std::move(assignments), std::move(default_set), container, request, limit, std::move(hint),
                    std::move(error), alloc, std::move(expect)});
  };
  // defaultOptionsTestCases
  add("GuPodSingleCore, SingleSocketHT, ExpectAllocOneCPU", fx::topoSingleSocketHTCpus, 1, "", none, {}, "0-7",
      "fakeContainer2", "1000m", "1000m", "", "", true, "4");
  add("GuPodMultipleCores, topoQuadSocketFourWayHT, ExpectAllocCPUs", fx::topoQuadSocketFourWayHTCpus, 0, "", none,
      {{"fakeContainer100", minus("0-287", quad_free7)}}, "10,11,52,53,67", "fakeContainer5", "5000m", "5000m", "", "",
      true, "10,11,52,53,67");
  add("GuPodSingleCore, SingleSocketHT, ExpectError", fx::topoSingleSocketHTCpus, 1, "", none, {}, "0-7",
      "fakeContainer2", "8000m", "8000m", "", "not enough cpus available to satisfy request: requested=8, available=7",
      false, "");
  add("GuPodMultipleCores, SingleSocketHT, ExpectSameAllocation", fx::topoSingleSocketHTCpus, 1, "", none,
      {{"fakeContainer3", "2,3,6,7"}}, "0,1,4,5", "fakeContainer3", "4000m", "4000m", "", "", true, "2,3,6,7");
  add("GuPodMultipleCores, DualSocketHT, NoAllocExpectError", fx::topoDualSocketHTCpus, 1, "", none,
      {{"fakeContainer100", "1,2,3"}}, "0,4-11", "fakeContainer5", "10000m", "10000m", "",
      "not enough cpus available to satisfy request: requested=10, available=8", false, "");
  add("GuPodMultipleCores, SingleSocketHT, NoAllocExpectError", fx::topoSingleSocketHTCpus, 1, "", none,
      {{"fakeContainer100", "1-6"}}, "0,7", "fakeContainer5", "2000m", "2000m", "",
      "not enough cpus available to satisfy request: requested=2, available=1", false, "");
  add("GuPodMultipleCores, topoQuadSocketFourWayHT, NoAlloc", fx::topoQuadSocketFourWayHTCpus, 0, "", none,
      {{"fakeContainer100", minus("0-287", quad_free7)}}, quad_free7, "fakeContainer5", "76000m", "76000m", "",
      "not enough cpus available to satisfy request: requested=76, available=7", false, "");
  // smtalignOptionTestCases (full-pcpus-only)
  add("SMT GuPodSingleCore, SingleSocketHT, ExpectAllocOneCPU", fx::topoSingleSocketHTCpus, 1, "", full, {}, "0-7",
      "fakeContainer2", "1000m", "1000m", "", "SMT Alignment Error: requested 1 cpus not multiple cpus per core = 2",
      false, "");
  add("SMT GuPodMultipleCores, topoQuadSocketFourWayHT, ExpectAllocOneCPUs", fx::topoQuadSocketFourWayHTCpus, 8, "",
      full, {}, all_quad, "fakeContainer15", "15000m", "15000m", "",
      "SMT Alignment Error: requested 15 cpus not multiple cpus per core = 4", false, "");
  add("SMT GuPodManyCores, topoDualSocketHT, ExpectDoNotAllocPartialCPU", fx::topoDualSocketHTCpus, 2, "1,6", full, {},
      "0,2-5,7-11", "fakeContainerBug113537_1", "10000m", "10000m", "",
      "SMT Alignment Error: not enough free physical CPUs: available physical CPUs = 8, requested CPUs = 10, CPUs per "
      "core = 2",
      false, "");
  add("SMT GuPodManyCores, topoDualSocketHT, AutoReserve, ExpectAllocAllCPUs", fx::topoDualSocketHTCpus, 2, "", full,
      {}, "1-5,7-11", "fakeContainerBug113537_2", "10000m", "10000m", "", "", true, "1-5,7-11");
  add("SMT GuPodManyCores, topoDualSocketHT, ExpectAllocAllCPUs", fx::topoDualSocketHTCpus, 2, "0,6", full, {},
      "1-5,7-11", "fakeContainerBug113537_2", "10000m", "10000m", "", "", true, "1-5,7-11");
  add("SMT GuPodManyCores, DualSocketHT, ExpectReAllocCPUs", fx::topoDualSocketHTCpus, 4, "0,1,6,7", full,
      {{"fakeContainer", "2,3,4,8,9,10"}}, "0,1,5,6,7,11", "fakeContainer", "6", "6", "", "", true, "2,3,4,8,9,10");
  add("SMT GuPodManyCores, DualSocketHT, NotEnoughAvailable, NoAlloc", fx::topoDualSocketHTCpus, 4, "0,1,6,7", full, {},
      "0-11", "fakeContainer", "10", "10", "",
      "SMT Alignment Error: not enough free physical CPUs: available physical CPUs = 8, requested CPUs = 10, CPUs per "
      "core = 2",
      false, "");
  // alignBySocketOptionTestCases
  add("Align by socket: true, cpu's within same socket of numa in hint are part of allocation",
      fx::topoDualSocketMultiNumaPerSocketHTCpus, 1, "", StaticCpuOptions{.align_by_socket = true}, {}, "2,11,21,22",
      "fakeContainer2", "2000m", "2000m", "0,2", "", true, "2,11");
  add("Align by socket: false, cpu's are taken strictly from NUMA nodes in hint",
      fx::topoDualSocketMultiNumaPerSocketHTCpus, 1, "", none, {}, "2,11,21,22", "fakeContainer2", "2000m", "2000m",
      "0,2", "", true, "2,21");
  // TestStaticPolicyAddWithResvList
  add("ResvList GuPodSingleCore, SingleSocketHT, ExpectError", fx::topoSingleSocketHTCpus, 1, "0", none, {}, "0-7",
      "fakeContainer2", "8000m", "8000m", "", "not enough cpus available to satisfy request: requested=8, available=7",
      false, "");
  add("ResvList GuPodSingleCore, SingleSocketHT, ExpectAllocOneCPU", fx::topoSingleSocketHTCpus, 2, "0,1", none, {},
      "0-7", "fakeContainer2", "1000m", "1000m", "", "", true, "4");
  add("ResvList GuPodMultipleCores, SingleSocketHT, ExpectAllocOneCore", fx::topoSingleSocketHTCpus, 2, "0,1", none,
      {{"fakeContainer100", "2,3,6,7"}}, "0,1,4,5", "fakeContainer3", "2000m", "2000m", "", "", true, "4,5");
  return rows;
}

StaticCpuPolicy makePolicy(const KubeletCpuTopology& topo, int num_reserved, const std::string& list,
                           const StaticCpuOptions& options) {
  PolicyOptions policy_options;
  policy_options.cpu = options;
  policy_options.reserved_cpu_count = num_reserved;
  policy_options.reserved_cpus = cpus(list.c_str());
  auto policy = StaticCpuPolicy::create(topo, policy_options);
  TOPOD_CHECK(policy.has_value());
  return std::move(policy).value();
}

class StaticPolicyAddTest : public ::testing::TestWithParam<AddRow> {};

TEST_P(StaticPolicyAddTest, MatchesKubelet) {
  const AddRow& row = GetParam();
  const KubeletCpuTopology topo = kubeletView(row.topo());
  const StaticCpuPolicy policy = makePolicy(topo, row.num_reserved, row.reserved_list, row.options);
  const State state = kubeletState(topo, "fakePod", row.assignments, row.default_set);
  const PodRequest pod = makePod("fakePod", row.container, row.request, row.limit);
  TopologyHint hint;
  if (!row.hint.empty()) hint.affinity = NodeSet::parse(row.hint).value();
  ContainerAllocation allocation;
  const Status status = policy.allocate(state, pod, pod.containers[0], hint, allocation);
  if (!row.error.empty()) {
    ASSERT_FALSE(status.has_value());
    const std::string& message = status.error().message();
    // Allocator errors carry the container as context in front of the kubelet's text.
    ASSERT_GE(message.size(), row.error.size());
    EXPECT_EQ(message.substr(message.size() - row.error.size()), row.error);
    if (row.error.rfind("SMT Alignment Error", 0) == 0) {
      EXPECT_EQ(message, row.error);
      EXPECT_EQ(status.error().reason(), kSmtAlignmentErrorReason);
    } else {
      EXPECT_EQ(status.error().reason(), "") << "only SMT alignment errors carry that reason";
    }
    return;
  }
  ASSERT_TRUE(status.has_value()) << status.error().toString();
  if (!row.alloc) {
    EXPECT_TRUE(allocation.exclusive_cpus.empty());
    return;
  }
  EXPECT_EQ(allocation.exclusive_cpus.toString(), cpus(row.expect.c_str()).toString());
  // The kubelet also checks the result is disjoint from the shared pool once recorded.
  State after = state;
  record(after, pod, pod.containers[0], allocation.exclusive_cpus);
  EXPECT_FALSE(allocation.exclusive_cpus.intersects(policy.sharedPool(after)));
}

INSTANTIATE_TEST_SUITE_P(Kubelet, StaticPolicyAddTest, ::testing::ValuesIn(addRows()),
                         [](const ::testing::TestParamInfo<AddRow>& p) { return p.param.name; });

// ---- TestStaticPolicyReuseCPUs / TestStaticPolicyDoNotReuseCPUs ------------------------------

TEST(StaticPolicyReuse, SingleSocketHT_DeAllocOneInitContainer) {
  const KubeletCpuTopology topo = kubeletView(fx::topoSingleSocketHTCpus());
  const StaticCpuPolicy policy = makePolicy(topo, 0, "", {});
  const PodRequest pod = makeMultiContainerPod({{"4000m", "4000m", ContainerKind::Init}}, {{"2000m", "2000m"}});
  State state;
  for (const ContainerRequest& container : pod.containers) {
    ContainerAllocation allocation;
    ASSERT_TRUE(policy.allocate(state, pod, container, TopologyHint{}, allocation).has_value());
    record(state, pod, container, allocation.exclusive_cpus);
  }
  EXPECT_EQ(state.containers().at({"multiPod", "initContainer-0"}).exclusive_cpus.toString(), "0-1,4-5");
  EXPECT_EQ(state.containers().at({"multiPod", "appContainer-0"}).exclusive_cpus.toString(), "0,4");
  EXPECT_EQ(policy.sharedPool(state).toString(), "2-3,6-7");  // expCSetAfterAlloc
  state.erase({"multiPod", "initContainer-0"});
  EXPECT_EQ(policy.sharedPool(state).toString(), "1-3,5-7");  // expCSetAfterRemove
}

TEST(StaticPolicyReuse, SingleSocketHT_DontReuseCPUsOfARestartableInitContainer) {
  const KubeletCpuTopology topo = kubeletView(fx::topoSingleSocketHTCpus());
  const StaticCpuPolicy policy = makePolicy(topo, 0, "", {});
  const PodRequest pod = makeMultiContainerPod({{"4000m", "4000m", ContainerKind::Sidecar}}, {{"2000m", "2000m"}});
  State state;
  for (const ContainerRequest& container : pod.containers) {
    ContainerAllocation allocation;
    ASSERT_TRUE(policy.allocate(state, pod, container, TopologyHint{}, allocation).has_value());
    record(state, pod, container, allocation.exclusive_cpus);
  }
  EXPECT_EQ(state.containers().at({"multiPod", "appContainer-0"}).exclusive_cpus.toString(), "2,6");
  EXPECT_EQ(policy.sharedPool(state).toString(), "3,7");
}

// ---- TestStaticPolicyRemove: the shared pool once the container is gone ------------------------

struct RemoveRow {
  std::string name;
  Assignments assignments;
  std::string default_set;
  std::string removed;
  std::string expect;
};

class StaticPolicyRemoveTest : public ::testing::TestWithParam<RemoveRow> {};

TEST_P(StaticPolicyRemoveTest, MatchesKubelet) {
  const RemoveRow& row = GetParam();
  const KubeletCpuTopology topo = kubeletView(fx::topoSingleSocketHTCpus());
  const StaticCpuPolicy policy = makePolicy(topo, 0, "", {});
  State state = kubeletState(topo, "fakePod", row.assignments, row.default_set);
  state.erase({"fakePod", row.removed});
  EXPECT_EQ(policy.sharedPool(state).toString(), cpus(row.expect.c_str()).toString());
}

INSTANTIATE_TEST_SUITE_P(
    Kubelet, StaticPolicyRemoveTest,
    ::testing::Values(
        RemoveRow{"SingleSocketHT_DeAllocOneContainer", {{"fakeContainer1", "1,2,3"}}, "4-7", "fakeContainer1", "1-7"},
        RemoveRow{"SingleSocketHT_DeAllocOneContainer_BeginEmpty",
                  {{"fakeContainer1", "1,2,3"}, {"fakeContainer2", "4-7"}},
                  "",
                  "fakeContainer1",
                  "1,2,3"},
        RemoveRow{"SingleSocketHT_DeAllocTwoContainer",
                  {{"fakeContainer1", "1,3,5"}, {"fakeContainer2", "2,4"}},
                  "6,7",
                  "fakeContainer1",
                  "1,3,5,6,7"},
        RemoveRow{"SingleSocketHT_NoDeAlloc", {{"fakeContainer1", "1,3,5"}}, "2,4,6,7", "fakeContainer2", "2,4,6,7"}),
    [](const ::testing::TestParamInfo<RemoveRow>& p) { return p.param.name; });

// ---- TestTopologyAwareAllocateCPUs ---------------------------------------------------------------

struct AffinityRow {
  std::string name;
  int requested;
  std::string mask;
  std::string expect;
};

class TopologyAwareAllocateTest : public ::testing::TestWithParam<AffinityRow> {};

TEST_P(TopologyAwareAllocateTest, MatchesKubelet) {
  const AffinityRow& row = GetParam();
  const KubeletCpuTopology topo = kubeletView(fx::topoDualSocketHTCpus());
  const StaticCpuPolicy policy = makePolicy(topo, 0, "", {});
  const NodeSet mask = row.mask.empty() ? NodeSet{} : NodeSet::parse(row.mask).value();
  auto got = policy.allocateCpus(State{}, row.requested, mask, CpuSet{});
  ASSERT_TRUE(got.has_value()) << got.error().toString();
  EXPECT_EQ(got->toString(), cpus(row.expect.c_str()).toString());
}

INSTANTIATE_TEST_SUITE_P(
    Kubelet, TopologyAwareAllocateTest,
    ::testing::Values(AffinityRow{"Request_2_CPUs_No_BitMask", 2, "", "0,6"},
                      AffinityRow{"Request_2_CPUs_BitMask_on_Socket_0", 2, "0", "0,6"},
                      AffinityRow{"Request_2_CPUs_BitMask_on_Socket_1", 2, "1", "1,7"},
                      AffinityRow{"Request_8_CPUs_BitMask_on_Socket_0", 8, "0", "0,6,2,8,4,10,1,7"},
                      AffinityRow{"Request_8_CPUs_BitMask_on_Socket_1", 8, "1", "1,7,3,9,5,11,0,6"}),
    [](const ::testing::TestParamInfo<AffinityRow>& p) { return p.param.name; });

// ---- TestStaticPolicyStartWithResvList: the shared pool of an empty State ---------------------

TEST(StaticPolicyStartWithResvList, EmptyCpuset) {
  const StaticCpuPolicy policy = makePolicy(kubeletView(fx::topoDualSocketHTCpus()), 2, "0,1", {});
  EXPECT_EQ(policy.sharedPool(State{}).toString(), "0-11");
}

TEST(StaticPolicyStartWithResvList, EmptyCpusetWithStrictCPUReservationOptionEnabled) {
  const StaticCpuPolicy policy =
      makePolicy(kubeletView(fx::topoDualSocketHTCpus()), 2, "0,1", StaticCpuOptions{.strict_cpu_reservation = true});
  EXPECT_EQ(policy.sharedPool(State{}).toString(), "2-11");
  EXPECT_EQ(policy.availableCpus(State{}).toString(), "2-11");
}

TEST(StaticPolicyStartWithResvList, InconsistencyBetweenNumReservedCPUsAndReserved) {
  PolicyOptions options;
  options.reserved_cpu_count = 1;
  options.reserved_cpus = cpus("0,1");
  auto policy = StaticCpuPolicy::create(kubeletView(fx::topoDualSocketHTCpus()), options);
  ASSERT_FALSE(policy.has_value());
  EXPECT_EQ(policy.error().message(),
            "[cpumanager] unable to reserve the required amount of CPUs (size of 0-1 did not equal 1)");
}

TEST(StaticPolicyReserved, CountIsPickedByTakeByTopology) {
  // The kubelet's example: 2 reserved CPUs on a 4-core SMT-2 machine are one whole core.
  EXPECT_EQ(makePolicy(kubeletView(fx::topoSingleSocketHTCpus()), 2, "", {}).reservedCpus().toString(), "0,4");
  const StaticCpuPolicy spread = makePolicy(kubeletView(fx::topoSingleSocketHTCpus()), 2, "",
                                            StaticCpuOptions{.distribute_cpus_across_cores = true});
  EXPECT_EQ(spread.reservedCpus().toString(), "0-1");
  EXPECT_EQ(spread.reservedPhysicalCpus().toString(), "0-1,4-5");
}

TEST(StaticPolicyReserved, ReservedCpusAreNeverExclusive) {
  const StaticCpuPolicy policy = makePolicy(kubeletView(fx::topoSingleSocketHTCpus()), 0, "0,4", {});
  const PodRequest pod = makePod("p", "c", "6", "6");
  ContainerAllocation allocation;
  ASSERT_TRUE(policy.allocate(State{}, pod, pod.containers[0], TopologyHint{}, allocation).has_value());
  EXPECT_EQ(allocation.exclusive_cpus.toString(), "1-3,5-7");
  ContainerAllocation more;
  const PodRequest big = makePod("q", "c", "7", "7");
  EXPECT_FALSE(policy.allocate(State{}, big, big.containers[0], TopologyHint{}, more).has_value());
}

TEST(StaticPolicyReserved, ListMustBeOnline) {
  PolicyOptions options;
  options.reserved_cpus = cpus("0,100");
  EXPECT_FALSE(StaticCpuPolicy::create(kubeletView(fx::topoSingleSocketHTCpus()), options).has_value());
}

TEST(StaticPolicyReserved, RealTopologyUsesTheKubeletDiscoveryIds) {
  PolicyOptions options;
  options.reserved_cpu_count = 1;
  auto policy = StaticCpuPolicy::create(fx::topoDualSocketHT(), options);
  ASSERT_TRUE(policy.has_value()) << policy.error().toString();
  EXPECT_EQ(policy->reservedCpus().toString(), "0");
  EXPECT_EQ(policy->name(), "cpu");
}

// ---- Options: parsing and the kubelet's compatibility checks ----------------------------------

TEST(StaticCpuOptionsParse, KnownOptionsAndBooleanSpellings) {
  auto parsed = parseStaticCpuOptions({{"full-pcpus-only", "true"},
                                       {"distribute-cpus-across-numa", "1"},
                                       {"align-by-socket", "T"},
                                       {"strict-cpu-reservation", "False"},
                                       {"prefer-align-cpus-by-uncorecache", "0"},
                                       {"distribute-cpus-across-cores", "f"}});
  ASSERT_TRUE(parsed.has_value()) << parsed.error().toString();
  EXPECT_EQ(*parsed,
            (StaticCpuOptions{.full_pcpus_only = true, .distribute_cpus_across_numa = true, .align_by_socket = true}));
}

TEST(StaticCpuOptionsParse, UnknownOptionIsRefused) {
  auto parsed = parseStaticCpuOptions({{"fast-cpus", "true"}});
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().message(), "unknown CPU Manager Policy option: \"fast-cpus\"");
}

TEST(StaticCpuOptionsParse, NonBooleanValueIsRefused) {
  auto parsed = parseStaticCpuOptions({{"full-pcpus-only", "yes"}});
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().message().rfind("bad value for option \"full-pcpus-only\"", 0), 0U);
}

struct ComboRow {
  std::string name;
  StaticCpuOptions options;
  TopologyManagerPolicy topology_manager;
  RowsFn topo;
  std::string error;  // empty: valid
};

class StaticCpuOptionsValidateTest : public ::testing::TestWithParam<ComboRow> {};

TEST_P(StaticCpuOptionsValidateTest, MatchesKubelet) {
  const ComboRow& row = GetParam();
  const Status status = validateStaticCpuOptions(row.options, kubeletView(row.topo()), row.topology_manager);
  if (row.error.empty()) {
    EXPECT_TRUE(status.has_value()) << status.error().toString();
    return;
  }
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().message(), row.error);
  PolicyOptions options;
  options.cpu = row.options;
  options.topology_manager.policy = row.topology_manager;
  EXPECT_FALSE(StaticCpuPolicy::create(kubeletView(row.topo()), options).has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Combinations, StaticCpuOptionsValidateTest,
    ::testing::Values(
        ComboRow{
            "FullPcpusOnlyWithDistributeAcrossCores",
            {.full_pcpus_only = true, .distribute_cpus_across_cores = true},
            TopologyManagerPolicy::BestEffort,
            fx::topoDualSocketHTCpus,
            "static policy options full-pcpus-only and distribute-cpus-across-cores can not be used at the same time"},
        ComboRow{
            "DistributeAcrossNumaWithDistributeAcrossCores",
            {.distribute_cpus_across_numa = true, .distribute_cpus_across_cores = true},
            TopologyManagerPolicy::BestEffort,
            fx::topoDualSocketHTCpus,
            "static policy options distribute-cpus-across-numa and distribute-cpus-across-cores can not be used at "
            "the same time"},
        ComboRow{"UncoreWithDistributeAcrossCores",
                 {.distribute_cpus_across_cores = true, .prefer_align_cpus_by_uncorecache = true},
                 TopologyManagerPolicy::BestEffort,
                 fx::topoDualSocketHTCpus,
                 "static policy options prefer-align-cpus-by-uncorecache and distribute-cpus-across-cores can not be "
                 "used at the same time"},
        ComboRow{"UncoreWithDistributeAcrossNuma",
                 {.distribute_cpus_across_numa = true, .prefer_align_cpus_by_uncorecache = true},
                 TopologyManagerPolicy::BestEffort,
                 fx::topoDualSocketHTCpus,
                 "static policy options prefer-align-cpus-by-uncorecache and distribute-cpus-across-numa can not be "
                 "used at the same time"},
        ComboRow{
            "AlignBySocketWithSingleNumaNode",
            {.align_by_socket = true},
            TopologyManagerPolicy::SingleNumaNode,
            fx::topoDualSocketMultiNumaPerSocketHTCpus,
            "Topolgy manager single-numa-node policy is incompatible with CPUManager align-by-socket policy option"},
        ComboRow{
            "AlignBySocketWithMoreSocketsThanNuma",
            {.align_by_socket = true},
            TopologyManagerPolicy::BestEffort,
            fx::fakeTopoMultiSocketDualSocketPerNumaHTCpus,
            "Align by socket is not compatible with hardware where number of sockets are more than number of NUMA"},
        ComboRow{"AlignBySocketOnMultiNumaPerSocket",
                 {.align_by_socket = true},
                 TopologyManagerPolicy::Restricted,
                 fx::topoDualSocketMultiNumaPerSocketHTCpus,
                 ""},
        ComboRow{"FullPcpusOnlyWithDistributeAcrossNuma",
                 {.full_pcpus_only = true, .distribute_cpus_across_numa = true},
                 TopologyManagerPolicy::BestEffort,
                 fx::topoDualSocketHTCpus,
                 ""},
        ComboRow{"AllCompatibleWithStrictReservation",
                 {.full_pcpus_only = true, .strict_cpu_reservation = true, .prefer_align_cpus_by_uncorecache = true},
                 TopologyManagerPolicy::SingleNumaNode,
                 fx::topoDualSocketHTCpus,
                 ""}),
    [](const ::testing::TestParamInfo<ComboRow>& p) { return p.param.name; });

}  // namespace
}  // namespace topod::policies::cpu::test
