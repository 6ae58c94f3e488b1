// The kubelet CPU manager options and reserved CPUs through the composed "static" policy's
// admit(), sharedCpus() and placements(): one row per option and situation, on the kubelet's
// own test machines (tests/policies/kubelet_topologies.h) and a two-NUMA engine machine.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/policies/engine/engine_topologies.h"
#include "tests/policies/kubelet_topologies.h"
#include "tests/policies/static/policy/static_fixtures.h"

namespace topod::policies::static_test {
namespace {

struct OptionRow {
  std::string name;
  std::function<topology::Topology()> machine;
  std::function<void(PolicyOptions&)> configure;
  std::vector<int> earlier;  // exclusive containers admitted first (must succeed)
  int cpus = 0;              // the container under test
  std::string error;         // substring of the refusal; empty: admitted
  // Checks on the admitted container's CPUs (and the State after it).
  std::function<void(const topology::Topology&, const CpuSet&, const Policy&, const State&)> check;
};

class CpuOptionsTest : public ::testing::TestWithParam<OptionRow> {};

TEST_P(CpuOptionsTest, AdmitThroughTheComposition) {
  const OptionRow& row = GetParam();
  topology::Topology topology = row.machine();
  PolicyOptions options;
  options.policy = "static";
  options.reserved_cpus = CpuSet{0};
  row.configure(options);
  auto policy = makeStatic(topology, options);
  ASSERT_NE(policy, nullptr);
  State state;
  for (std::size_t i = 0; i < row.earlier.size(); ++i) {
    PodRequest pod = podOf("earlier-" + std::to_string(i), {guaranteed("c", row.earlier[i])});
    auto d = admitAndCommit(topology, options, *policy, state, pod, pod.containers[0]);
    ASSERT_TRUE(d.has_value()) << d.error().toString();
  }
  PodRequest pod = podOf("tested", {guaranteed("c", row.cpus)});
  auto decision = admitAndCommit(topology, options, *policy, state, pod, pod.containers[0]);
  if (!row.error.empty()) {
    ASSERT_FALSE(decision.has_value()) << decision->explanation;
    EXPECT_NE(decision.error().message().find(row.error), std::string::npos) << decision.error().toString();
    EXPECT_FALSE(state.contains({"tested", "c"}));
    return;
  }
  ASSERT_TRUE(decision.has_value()) << decision.error().toString();
  EXPECT_EQ(decision->allocation.exclusive_cpus.size(), row.cpus);
  if (row.check) row.check(topology, decision->allocation.exclusive_cpus, *policy, state);
}

bool wholeCores(const topology::Topology& topology, const CpuSet& cpus) {
  for (int cpu : cpus) {
    if (!topology.siblingsOf(cpu).isSubsetOf(cpus)) return false;
  }
  return true;
}

std::map<int, int> perNode(const topology::Topology& topology, const CpuSet& cpus) {
  std::map<int, int> count;
  for (int cpu : cpus) ++count[topology.numaOf(cpu)];
  return count;
}

std::set<int> coresOf(const topology::Topology& topology, const CpuSet& cpus) {
  std::set<int> cores;
  for (int cpu : cpus) cores.insert(topology.coreOf(cpu).index);
  return cores;
}

std::set<int> l3sOf(const topology::Topology& topology, const CpuSet& cpus) {
  std::set<int> groups;
  for (int cpu : cpus) groups.insert(topology.l3Of(cpu));
  return groups;
}

std::set<int> packagesOf(const topology::Topology& topology, const CpuSet& cpus) {
  std::set<int> packages;
  for (int cpu : cpus) packages.insert(topology.packageOf(cpu));
  return packages;
}

// twoNuma16Cpus: CPUs 0-7 on node 0, 8-15 on node 1, siblings (n, n+1) for even n.
topology::Topology twoNuma() {
  return testing::twoNuma16Cpus();
}
void reserveCore0(PolicyOptions& options) {
  options.reserved_cpus = CpuSet{0, 1};
}

std::vector<OptionRow> optionRows() {
  using topod::testing::topoDualSocketHT;
  using topod::testing::topoDualSocketMultiNumaPerSocketHT;
  using topod::testing::topoUncoreSingleSocketSMT;
  auto with = [](std::function<void(StaticCpuOptions&)> set_option, bool reserve_core0 = true) {
    return [set_option, reserve_core0](PolicyOptions& options) {
      if (reserve_core0) reserveCore0(options);
      set_option(options.cpu);
    };
  };
  return {
      {"FullPcpusOnly_OddRequestRefusedWithTheSmtAlignmentError",
       twoNuma,
       with([](StaticCpuOptions& o) { o.full_pcpus_only = true; }),
       {},
       3,
       "SMT Alignment Error: requested 3 cpus not multiple cpus per core = 2",
       nullptr},
      {"FullPcpusOnly_EvenRequestGetsWholeCores",
       twoNuma,
       with([](StaticCpuOptions& o) { o.full_pcpus_only = true; }),
       {},
       4,
       "",
       [](const topology::Topology& t, const CpuSet& cpus, const Policy&, const State&) {
         EXPECT_TRUE(wholeCores(t, cpus)) << cpus.toString();
       }},
      {"FullPcpusOnly_WholeCoresEvenAfterAnOddNeighbour",
       twoNuma,
       with([](StaticCpuOptions& o) { o.full_pcpus_only = true; }),
       {2},
       6,
       "",
       [](const topology::Topology& t, const CpuSet& cpus, const Policy&, const State&) {
         EXPECT_TRUE(wholeCores(t, cpus)) << cpus.toString();
       }},
      {"NoOptions_OddRequestSharesACore",
       twoNuma,
       reserveCore0,
       {},
       3,
       "",
       [](const topology::Topology& t, const CpuSet& cpus, const Policy&, const State&) {
         EXPECT_FALSE(wholeCores(t, cpus)) << cpus.toString();
         EXPECT_EQ(coresOf(t, cpus).size(), 2U);
       }},
      {"DistributeCpusAcrossNuma_SpreadsASpanningRequestEvenly",
       twoNuma,
       with([](StaticCpuOptions& o) { o.distribute_cpus_across_numa = true; }),
       {},
       12,
       "",
       [](const topology::Topology& t, const CpuSet& cpus, const Policy&, const State&) {
         auto count = perNode(t, cpus);
         EXPECT_EQ(count[0], 6) << cpus.toString();
         EXPECT_EQ(count[1], 6) << cpus.toString();
       }},
      {"NoOptions_PacksASpanningRequest",
       twoNuma,
       reserveCore0,
       {},
       12,
       "",
       [](const topology::Topology& t, const CpuSet& cpus, const Policy&, const State&) {
         auto count = perNode(t, cpus);
         EXPECT_EQ(std::max(count[0], count[1]), 8) << cpus.toString();  // one node taken whole
       }},
      // The kubelet's Spread order takes CPUs in id order within a socket: one thread per core on
      // machines numbering siblings far apart (the kubelet's fixtures, most Intel servers)...
      {"DistributeCpusAcrossCores_OneThreadPerCoreWithSiblingsFarApart",
       topoDualSocketHT,
       [](PolicyOptions& o) { o.cpu.distribute_cpus_across_cores = true; },
       {},
       3,
       "",
       [](const topology::Topology& t, const CpuSet& cpus, const Policy&, const State&) {
         EXPECT_EQ(cpus, (CpuSet{2, 4, 6})) << cpus.toString();
         EXPECT_EQ(coresOf(t, cpus).size(), 3U);
       }},
      {"NoOptions_WholeCoreFirstWithSiblingsFarApart",
       topoDualSocketHT,
       [](PolicyOptions&) {},
       {},
       3,
       "",
       [](const topology::Topology& t, const CpuSet& cpus, const Policy&, const State&) {
         EXPECT_EQ(coresOf(t, cpus).size(), 2U) << cpus.toString();
       }},
      // ... and whole cores anyway where siblings are adjacent ids, exactly as the kubelet does.
      {"DistributeCpusAcrossCores_IdOrderWithAdjacentSiblings",
       twoNuma,
       with([](StaticCpuOptions& o) { o.distribute_cpus_across_cores = true; }),
       {},
       4,
       "",
       [](const topology::Topology&, const CpuSet& cpus, const Policy&, const State&) {
         EXPECT_EQ(cpus, CpuSet::range(2, 5));
       }},
      {"NoOptions_TwoCpusAreOneCore",
       twoNuma,
       reserveCore0,
       {},
       2,
       "",
       [](const topology::Topology& t, const CpuSet& cpus, const Policy&, const State&) {
         EXPECT_EQ(coresOf(t, cpus).size(), 1U) << cpus.toString();
       }},
      {"AlignBySocket_TwoNodeRequestStaysInOneSocket",
       topoDualSocketMultiNumaPerSocketHT,
       with([](StaticCpuOptions& o) { o.align_by_socket = true; }, false),
       {},
       24,
       "",
       [](const topology::Topology& t, const CpuSet& cpus, const Policy&, const State&) {
         EXPECT_EQ(packagesOf(t, cpus).size(), 1U) << cpus.toString();
       }},
      {"PreferAlignByUncoreCache_RequestStaysInOneUncoreGroup",
       topoUncoreSingleSocketSMT,
       with([](StaticCpuOptions& o) { o.prefer_align_cpus_by_uncorecache = true; }, false),
       {2},
       6,
       "",
       [](const topology::Topology& t, const CpuSet& cpus, const Policy&, const State&) {
         EXPECT_EQ(l3sOf(t, cpus).size(), 1U) << cpus.toString();
       }},
      {"StrictCpuReservation_ReservedCpusLeaveTheSharedPool",
       twoNuma,
       with([](StaticCpuOptions& o) { o.strict_cpu_reservation = true; }),
       {},
       2,
       "",
       [](const topology::Topology& t, const CpuSet& cpus, const Policy& policy, const State& state) {
         EXPECT_EQ(policy.sharedCpus(state), t.onlineCpus() - cpus - (CpuSet{0, 1}));
       }},
      {"NoStrictReservation_ReservedCpusStayShared",
       twoNuma,
       reserveCore0,
       {},
       2,
       "",
       [](const topology::Topology& t, const CpuSet& cpus, const Policy& policy, const State& state) {
         EXPECT_EQ(policy.sharedCpus(state), t.onlineCpus() - cpus);
       }},
      {"ReservedList_NeverExclusive_AllTheRestIs",
       twoNuma,
       reserveCore0,
       {},
       14,
       "",
       [](const topology::Topology&, const CpuSet& cpus, const Policy&, const State&) {
         EXPECT_EQ(cpus, CpuSet::range(2, 15));
       }},
      {"ReservedList_OneMoreIsRefused",
       twoNuma,
       reserveCore0,
       {14},
       1,
       "not enough cpus available to satisfy request: requested=1, available=0",
       nullptr},
      {"ReservedCount_KubeletPicksAWholeCore",
       twoNuma,
       [](PolicyOptions& options) {
         options.reserved_cpus = {};
         options.reserved_cpu_count = 2;
       },
       {},
       14,
       "",
       [](const topology::Topology&, const CpuSet& cpus, const Policy& policy, const State& state) {
         EXPECT_EQ(cpus, CpuSet::range(2, 15));  // the count took CPUs 0 and 1 (one core)
         EXPECT_EQ(policy.sharedCpus(state), (CpuSet{0, 1}));
       }},
  };
}

INSTANTIATE_TEST_SUITE_P(Rows, CpuOptionsTest, ::testing::ValuesIn(optionRows()),
                         [](const ::testing::TestParamInfo<OptionRow>& row_info) { return row_info.param.name; });

// Option combinations the kubelet refuses at start are refused by makePolicy, with its words.
struct BadOptionsRow {
  std::string name;
  std::function<void(PolicyOptions&)> configure;
  std::string error;
};

class BadCpuOptionsTest : public ::testing::TestWithParam<BadOptionsRow> {};

TEST_P(BadCpuOptionsTest, RefusedAtStart) {
  topology::Topology topology = testing::twoNuma16Cpus();
  PolicyOptions options;
  options.policy = "static";
  options.reserved_cpus = CpuSet{0};
  GetParam().configure(options);
  auto policy = makePolicy(topology, options);
  ASSERT_FALSE(policy.has_value());
  EXPECT_EQ(policy.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(policy.error().message().find(GetParam().error), std::string::npos) << policy.error().toString();
}

INSTANTIATE_TEST_SUITE_P(
    Rows, BadCpuOptionsTest,
    ::testing::Values(
        BadOptionsRow{"FullPcpusOnlyWithDistributeAcrossCores",
                      [](PolicyOptions& o) {
                        o.cpu.full_pcpus_only = true;
                        o.cpu.distribute_cpus_across_cores = true;
                      },
                      "can not be used at the same time"},
        BadOptionsRow{"AlignBySocketWithSingleNumaNode",
                      [](PolicyOptions& o) {
                        o.cpu.align_by_socket = true;
                        o.topology_manager.policy = TopologyManagerPolicy::SingleNumaNode;
                      },
                      "single-numa-node policy is incompatible with CPUManager align-by-socket policy option"},
        BadOptionsRow{"ReservedCpuNotOnline", [](PolicyOptions& o) { o.reserved_cpus = CpuSet{99}; }, "99"}),
    [](const ::testing::TestParamInfo<BadOptionsRow>& row_info) { return row_info.param.name; });

}  // namespace
}  // namespace topod::policies::static_test
