// A selection of the kubelet's own policy_static_test.go rows (already ported row by row against
// the CPU manager alone in tests/policies/static/cpu/static_cpu_policy_test.cc), run here through the
// composed "static" policy's admit(): the topology manager in front, the State as the only
// memory. With topology manager policy none the kubelet's tests and admit() see the same thing
// (no NUMA affinity), so the CPUs must be the kubelet's exactly; on one-NUMA machines the same
// holds under every topology manager policy, since the only hint is that node.
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "policies/static/kubelet_static_policy.h"
#include "tests/policies/kubelet_topologies.h"
#include "tests/policies/static/cpu/static_policy_harness.h"
#include "tests/policies/static/policy/static_fixtures.h"

namespace topod::policies::static_test {
namespace {

namespace fx = topod::testing;
using cpu::test::cpus;
using cpu::test::kubeletState;
using cpu::test::makePod;
using RowsFn = std::function<std::vector<fx::KubeletCpuInfo>()>;
using Assignments = std::vector<std::pair<std::string, std::string>>;

struct KubeletRow {
  std::string name;
  RowsFn topo;
  int num_reserved = 0;
  std::string reserved_list;
  StaticCpuOptions options;
  Assignments assignments;
  std::string default_set;
  std::string container;
  std::string request;
  std::string limit;
  std::string error;   // the kubelet's error text (a suffix of ours), empty: none
  std::string expect;  // exclusive CPUs, empty: shared pool
  TopologyManagerPolicy manager = TopologyManagerPolicy::None;
};

class KubeletRowsThroughAdmitTest : public ::testing::TestWithParam<KubeletRow> {};

TEST_P(KubeletRowsThroughAdmitTest, SameCpusAsTheKubelet) {
  const KubeletRow& row = GetParam();
  topology::Topology topology = fx::buildKubeletTopology(row.topo());
  PolicyOptions options;
  options.policy = "static";
  options.cpu = row.options;
  options.reserved_cpu_count = row.num_reserved;
  options.reserved_cpus = row.reserved_list.empty() ? CpuSet{} : cpus(row.reserved_list.c_str());
  options.topology_manager.policy = row.manager;
  // Built directly (not through makePolicy) because several kubelet rows run without reserved
  // CPUs, which the registry refuses for a real node.
  auto policy = KubeletStaticPolicy::create(topology, options);
  ASSERT_TRUE(policy.has_value()) << policy.error().toString();
  const State state =
      kubeletState(cpu::KubeletCpuTopology::fromTopology(topology), "fakePod", row.assignments, row.default_set);
  const PodRequest pod = makePod("fakePod", row.container, row.request, row.limit);
  auto decision = (*policy)->admit(state, pod, pod.containers[0]);
  if (!row.error.empty()) {
    ASSERT_FALSE(decision.has_value()) << decision->explanation;
    const std::string& message = decision.error().message();
    ASSERT_GE(message.size(), row.error.size()) << message;
    EXPECT_EQ(message.substr(message.size() - row.error.size()), row.error) << message;
    return;
  }
  ASSERT_TRUE(decision.has_value()) << decision.error().toString();
  EXPECT_EQ(decision->allocation.exclusive_cpus.toString(), cpus(row.expect.c_str()).toString());
  State after = applyDecision(state, *decision);
  CpuSet shared = (*policy)->sharedCpus(after);
  EXPECT_FALSE(decision->allocation.exclusive_cpus.intersects(shared));
  EXPECT_EQ(decision->placement.cpus, row.expect.empty() ? shared : decision->allocation.exclusive_cpus);
}

std::vector<KubeletRow> kubeletRows() {
  const StaticCpuOptions none;
  const StaticCpuOptions full{.full_pcpus_only = true};
  const std::string quad_free7 = "10,11,37,52,53,55,67";
  std::set<std::string> seen;
  std::vector<KubeletRow> rows;
  auto add = [&](const char* description, RowsFn topo, int reserved, std::string list, StaticCpuOptions options,
                 Assignments assignments, std::string default_set, const char* container, const char* request,
                 const char* limit, std::string error, std::string expect) {
    rows.push_back({cpu::test::rowName(description, seen), std::move(topo), reserved, std::move(list), options,
                    std::move(assignments), std::move(default_set), container, request, limit, std::move(error),
                    std::move(expect)});
  };
  auto all_but = [](const char* all, const std::string& some) { return (cpus(all) - cpus(some.c_str())).toString(); };
  add("GuPodSingleCore, SingleSocketHT, ExpectAllocOneCPU", fx::topoSingleSocketHTCpus, 1, "", none, {}, "0-7",
      "fakeContainer2", "1000m", "1000m", "", "4");
  add("GuPodMultipleCores, SingleSocketHT, ExpectAllocOneCore", fx::topoSingleSocketHTCpus, 1, "", none,
      {{"fakeContainer100", "2,3,6,7"}}, "0,1,4,5", "fakeContainer3", "2000m", "2000m", "", "1,5");
  add("GuPodMultipleCores, DualSocketHT, ExpectAllocOneSocket", fx::topoDualSocketHTCpus, 1, "", none,
      {{"fakeContainer100", "2"}}, "0,1,3-11", "fakeContainer3", "6000m", "6000m", "", "1,3,5,7,9,11");
  add("GuPodMultipleCores, DualSocketHT, ExpectAllocThreeCores", fx::topoDualSocketHTCpus, 1, "", none,
      {{"fakeContainer100", "1,5"}}, "0,2-4,6-11", "fakeContainer3", "6000m", "6000m", "", "2,3,4,8,9,10");
  add("GuPodMultipleCores, DualSocketNoHT, ExpectAllocFourCores", fx::topoDualSocketNoHTCpus, 1, "", none,
      {{"fakeContainer100", "4,5"}}, "0,1,3,6,7", "fakeContainer1", "4000m", "4000m", "", "1,3,6,7");
  add("GuPodMultipleCores, DualSocketHT, ExpectAllocOneSocketOneCore", fx::topoDualSocketHTCpus, 1, "", none,
      {{"fakeContainer100", "2"}}, "0,1,3-11", "fakeContainer3", "8000m", "8000m", "", "1,3,4,5,7,9,10,11");
  add("NonGuPod, SingleSocketHT, NoAlloc", fx::topoSingleSocketHTCpus, 1, "", none, {}, "0-7", "fakeContainer1",
      "1000m", "2000m", "", "");
  add("GuPodNonIntegerCore, SingleSocketHT, NoAlloc", fx::topoSingleSocketHTCpus, 1, "", none, {}, "0-7",
      "fakeContainer4", "977m", "977m", "", "");
  add("GuPodMultipleCores, topoQuadSocketFourWayHT, ExpectAllocCPUs", fx::topoQuadSocketFourWayHTCpus, 0, "", none,
      {{"fakeContainer100", all_but("0-287", quad_free7)}}, "10,11,52,53,67", "fakeContainer5", "5000m", "5000m", "",
      "10,11,52,53,67");
  add("GuPodSingleCore, SingleSocketHT, ExpectError", fx::topoSingleSocketHTCpus, 1, "", none, {}, "0-7",
      "fakeContainer2", "8000m", "8000m", "not enough cpus available to satisfy request: requested=8, available=7", "");
  add("GuPodMultipleCores, SingleSocketHT, ExpectSameAllocation", fx::topoSingleSocketHTCpus, 1, "", none,
      {{"fakeContainer3", "2,3,6,7"}}, "0,1,4,5", "fakeContainer3", "4000m", "4000m", "", "2,3,6,7");
  add("GuPodMultipleCores, DualSocketHT, NoAllocExpectError", fx::topoDualSocketHTCpus, 1, "", none,
      {{"fakeContainer100", "1,2,3"}}, "0,4-11", "fakeContainer5", "10000m", "10000m",
      "not enough cpus available to satisfy request: requested=10, available=8", "");
  add("SMT GuPodSingleCore, SingleSocketHT, ExpectAllocOneCPU", fx::topoSingleSocketHTCpus, 1, "", full, {}, "0-7",
      "fakeContainer2", "1000m", "1000m", "SMT Alignment Error: requested 1 cpus not multiple cpus per core = 2", "");
  add("SMT GuPodManyCores, topoDualSocketHT, ExpectDoNotAllocPartialCPU", fx::topoDualSocketHTCpus, 2, "1,6", full, {},
      "0,2-5,7-11", "fakeContainerBug113537_1", "10000m", "10000m",
      "SMT Alignment Error: not enough free physical CPUs: available physical CPUs = 8, requested CPUs = 10, CPUs per "
      "core = 2",
      "");
  add("SMT GuPodManyCores, topoDualSocketHT, AutoReserve, ExpectAllocAllCPUs", fx::topoDualSocketHTCpus, 2, "", full,
      {}, "1-5,7-11", "fakeContainerBug113537_2", "10000m", "10000m", "", "1-5,7-11");
  add("ResvList GuPodSingleCore, SingleSocketHT, ExpectAllocOneCPU", fx::topoSingleSocketHTCpus, 2, "0,1", none, {},
      "0-7", "fakeContainer2", "1000m", "1000m", "", "4");
  add("ResvList GuPodMultipleCores, SingleSocketHT, ExpectAllocOneCore", fx::topoSingleSocketHTCpus, 2, "0,1", none,
      {{"fakeContainer100", "2,3,6,7"}}, "0,1,4,5", "fakeContainer3", "2000m", "2000m", "", "4,5");
  // One NUMA node: the only hint is that node, so every topology manager policy gives the same.
  const std::vector<KubeletRow> single_node(rows.begin(), rows.end());
  for (TopologyManagerPolicy manager :
       {TopologyManagerPolicy::BestEffort, TopologyManagerPolicy::Restricted, TopologyManagerPolicy::SingleNumaNode}) {
    for (KubeletRow row : single_node) {
      if (row.topo().size() != fx::topoSingleSocketHTCpus().size() ||
          row.name.find("SingleSocketHT") == std::string::npos) {
        continue;
      }
      // The kubelet checks hints before allocating: a request no NUMA mask holds is refused by
      // restricted and single-numa-node as a topology affinity error instead.
      bool no_mask_fits = row.error.find("not enough cpus available") != std::string::npos;
      if (no_mask_fits && manager != TopologyManagerPolicy::BestEffort) continue;
      // Under best-effort the kubelet's stack differs from its unit test's fake topology manager:
      // the merged affinity is every NUMA node (not nil), so allocateCPUs first takes the 7
      // aligned CPUs and then fails on the remainder, reporting requested=1, available=0.
      if (no_mask_fits && row.error == "not enough cpus available to satisfy request: requested=8, available=7") {
        row.error = "not enough cpus available to satisfy request: requested=1, available=0";
      }
      row.manager = manager;
      row.name += manager == TopologyManagerPolicy::BestEffort   ? "_UnderBestEffort"
                  : manager == TopologyManagerPolicy::Restricted ? "_UnderRestricted"
                                                                 : "_UnderSingleNumaNode";
      rows.push_back(row);
    }
  }
  return rows;
}

INSTANTIATE_TEST_SUITE_P(Kubelet, KubeletRowsThroughAdmitTest, ::testing::ValuesIn(kubeletRows()),
                         [](const ::testing::TestParamInfo<KubeletRow>& row_info) { return row_info.param.name; });

// TestStaticPolicyReuseCPUs / DoNotReuseCPUs through admit(): an app container reuses the CPUs of
// the pod's init container, never those of a restartable (sidecar) init container.
struct ReuseRow {
  std::string name;
  ContainerKind init_kind;
  std::string init_expect;
  std::string app_expect;
  std::string shared_after;
};

class KubeletReuseThroughAdmitTest : public ::testing::TestWithParam<ReuseRow> {};

TEST_P(KubeletReuseThroughAdmitTest, SameCpusAsTheKubelet) {
  const ReuseRow& row = GetParam();
  topology::Topology topology = fx::topoSingleSocketHT();
  PolicyOptions options;
  options.policy = "static";
  auto policy = KubeletStaticPolicy::create(topology, options);
  ASSERT_TRUE(policy.has_value()) << policy.error().toString();
  const PodRequest pod = cpu::test::makeMultiContainerPod({{"4000m", "4000m", row.init_kind}}, {{"2000m", "2000m"}});
  State state;
  std::vector<CpuSet> got;
  for (const ContainerRequest& container : pod.containers) {
    auto decision = (*policy)->admit(state, pod, container);
    ASSERT_TRUE(decision.has_value()) << decision.error().toString();
    got.push_back(decision->allocation.exclusive_cpus);
    state = applyDecision(state, *decision);
  }
  EXPECT_EQ(got[0].toString(), row.init_expect);
  EXPECT_EQ(got[1].toString(), row.app_expect);
  EXPECT_EQ((*policy)->sharedCpus(state).toString(), row.shared_after);
}

INSTANTIATE_TEST_SUITE_P(Kubelet, KubeletReuseThroughAdmitTest,
                         ::testing::Values(ReuseRow{"SingleSocketHT_DeAllocOneInitContainer", ContainerKind::Init,
                                                    "0-1,4-5", "0,4", "2-3,6-7"},
                                           ReuseRow{"SingleSocketHT_DontReuseCPUsOfARestartableInitContainer",
                                                    ContainerKind::Sidecar, "0-1,4-5", "2,6", "3,7"}),
                         [](const ::testing::TestParamInfo<ReuseRow>& row_info) { return row_info.param.name; });

}  // namespace
}  // namespace topod::policies::static_test
