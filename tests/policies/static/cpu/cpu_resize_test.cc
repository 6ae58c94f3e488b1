// In-place resize of exclusive CPUs: the kubelet's takeByTopologyNUMAPackedForResize rows
// (cpu_assignment_test.go, commonTakeByTopologyTestCasesForResize) row by row, then topod's own
// resize rules (StaticCpuPolicy::resizeExclusiveCpus).
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "policies/static/cpu/cpu_allocator.h"
#include "policies/static/cpu/static_cpu_policy.h"
#include "tests/policies/kubelet_topologies.h"
#include "tests/policies/static/cpu/kubelet_rows.h"

namespace topod::policies::cpu::test {
namespace {

namespace fx = topod::testing;
using RowsFn = std::function<std::vector<fx::KubeletCpuInfo>()>;

struct ResizeRow {
  std::string name;
  RowsFn topo;
  bool spread;
  bool uncore;
  std::string available;
  std::string current;  // the kubelet's reusableCPUs
  std::string keep;     // the kubelet's mustKeepCPUs
  int num_cpus;
  std::string error;
  std::string expect;
};

std::vector<ResizeRow> resizeRows() {
  struct Raw {
    const char* description;
    RowsFn topo;
    bool spread;
    bool uncore;
    const char* available;
    const char* current;
    const char* keep;
    int num_cpus;
    const char* error;
    const char* expect;
  };
  const std::vector<Raw> raw = {
      {"take more cpus than are available from single socket with HT", fx::topoSingleSocketHTCpus, false, false,
       "0,2,4,6", "0", "0", 5, "not enough cpus available to satisfy request: requested=5, available=4", ""},
      {"mustKeepCPUs not a subset of reusableCPUs", fx::topoSingleSocketHTCpus, false, false, "0,2,4,6", "0", "0,2", 3,
       "requested CPUs to be retained 0,2 are not a subset of reusable CPUs 0", ""},
      {"Allocated 1 CPUs, and take 1 cpus from single socket with HT", fx::topoSingleSocketHTCpus, false, false, "0-7",
       "0", "0", 1, "", "0"},
      {"Allocated 1 CPU, and take 2 cpu from single socket with HT", fx::topoSingleSocketHTCpus, false, false, "0-7",
       "0", "0", 2, "", "0,4"},
      {"Allocated 1 CPU, and take 2 cpu from single socket with HT, some cpus are taken, no sibling CPU of allocated "
       "CPU",
       fx::topoSingleSocketHTCpus, false, false, "0,1,3,5,6,7", "0", "0", 2, "", "0,6"},
      {"Allocated 1 CPU, and take 3 cpu from single socket with HT, some cpus are taken, no sibling CPU of allocated "
       "CPU",
       fx::topoSingleSocketHTCpus, false, false, "0,1,3,5,6,7", "0", "0", 3, "", "0,1,5"},
      {"Allocated 1 CPU, and take all cpu from single socket with HT", fx::topoSingleSocketHTCpus, false, false, "0-7",
       "0", "0", 8, "", "0-7"},
      {"Allocated 1 CPU, take a core from dual socket with HT", fx::topoDualSocketHTCpus, false, false, "0-11", "11",
       "11", 2, "", "5,11"},
      {"Allocated 1 CPU, take a socket of cpus from dual socket with HT", fx::topoDualSocketHTCpus, false, false,
       "0-11", "11", "11", 6, "", "1,3,5,7,9,11"},
      {"Allocated 1 CPU, take a socket of cpus and 1 core of CPU from dual socket with HT", fx::topoDualSocketHTCpus,
       false, false, "0-11", "11", "11", 8, "", "0,1,3,5,6,7,9,11"},
      {"Allocated 1 CPU, take a socket of cpus from dual socket with multi-numa-per-socket with HT",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, false, false, "0-79", "39", "39", 40, "", "20-39,60-79"},
      {"Allocated 1 CPU, take a NUMA node of cpus from dual socket with multi-numa-per-socket with HT",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, false, false, "0-79", "39", "39", 20, "", "30-39,70-79"},
      {"Allocated 2 CPUs, take a socket and a NUMA node of cpus from dual socket with multi-numa-per-socket with HT",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, false, false, "0-79", "39,59", "39,59", 60, "", "0-19,30-59,70-79"},
      {"Allocated 1 CPU, take NUMA nodes of cpus from dual socket with multi-numa-per-socket with HT, the NUMA node "
       "with "
       "allocated CPUs already taken some CPUs",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, false, false, "0-69", "39", "39", 40, "", "0-8,20-30,39-48,60-69"},
      {"Take NUMA nodes of cpus from dual socket with multi-numa-per-socket with HT, the NUMA node with allocated CPUs "
       "already taken more CPUs",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, false, false, "9,30-38,49", "", "", 1, "", "9"},
      {"Allocated 1 CPU, take NUMA nodes of cpus and 1 CPU from dual socket with multi-numa-per-socket with HT, the "
       "NUMA "
       "node with allocated CPUs already taken some CPUs",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, false, false, "0-69", "39", "39", 41, "", "0-19,39-59"},
      {"Allocated 1 CPUs, take a socket of cpus from single socket with HT, 3 cpus", fx::topoSingleSocketHTCpus, true,
       false, "0-7", "7", "7", 3, "", "0,1,7"},
      {"Allocated 1 CPUs, take a socket of cpus from dual socket with HT, 3 cpus", fx::topoDualSocketHTCpus, true,
       false, "0-11", "11", "11", 3, "", "1,3,11"},
      {"Allocated 1 CPUs, take a socket of cpus from dual socket with HT, 6 cpus", fx::topoDualSocketHTCpus, true,
       false, "0-11", "11", "11", 6, "", "1,3,5,7,9,11"},
      {"Allocated 1 CPUs, take a socket of cpus from dual socket with HT, 8 cpus", fx::topoDualSocketHTCpus, true,
       false, "0-11", "11", "11", 8, "", "0,1,2,3,5,7,9,11"},
      {"Allocated 1 CPUs, take a socket of cpus from dual socket without HT, 2 cpus", fx::topoDualSocketNoHTCpus, true,
       false, "0-7", "7", "7", 2, "", "4,7"},
      {"Allocated 1 CPUs, take a socket of cpus from dual socket with multi numa per socket and HT, 8 cpus",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, true, false, "0-79", "39", "39", 8, "", "20-26,39"},
      {"Allocated 1 CPU, take NUMA nodes of cpus from dual socket with multi-numa-per-socket with HT, the NUMA node "
       "with "
       "allocated CPUs already taken some CPUs (spread)",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, true, false, "0-69", "39", "39", 40, "", "0-9,20-39,60-69"},
      {"Allocated 1 CPUs, take a socket of cpus from quad socket four way with HT, 12 cpus",
       fx::topoQuadSocketFourWayHTCpus, true, false, "0-287", "60", "60", 8, "", "3,4,11,12,15,16,23,60"},
      {"Allocated 2 CPUs, take cpus from best available UncoreCache group of multi uncore cache single socket - SMT "
       "disabled",
       fx::topoUncoreSingleSocketNoSMTCpus, false, true, "2-3,8-11,4-7,12-15", "8,9", "8,9", 8, "", "4-11"},
      {"Allocated 2 CPUs, take cpus from the allocated cores in partial UncoreCache - SMT enabled",
       fx::topoUncoreSingleSocketSMTCpus, false, true, "0-15", "4,5,6", "4,5,6", 8, "", "4-7,12-15"},
      {"Allocated 2 CPUs, take cpus from the allocated cores in partial UncoreCache - SMT enabled (duplicate)",
       fx::topoUncoreSingleSocketSMTCpus, false, true, "0-15", "4,5,6", "4,5,6", 8, "", "4-7,12-15"},
      {"Scale down case, musk Keep 3 CPUs, take cpus from the allocated cores in partial UncoreCache - SMT enabled "
       "(duplicate)",
       fx::topoUncoreSingleSocketSMTCpus, false, true, "3-7,11-15", "3-7,11-15", "4,5,6", 8, "", "4-7,12-15"},
  };
  std::set<std::string> seen;
  std::vector<ResizeRow> rows;
  for (const Raw& r : raw) {
    rows.push_back({rowName(r.description, seen), r.topo, r.spread, r.uncore, r.available, r.current, r.keep,
                    r.num_cpus, r.error, r.expect});
  }
  return rows;
}

class KubeletResizeTest : public ::testing::TestWithParam<ResizeRow> {};

TEST_P(KubeletResizeTest, MatchesKubelet) {
  const ResizeRow& row = GetParam();
  const KubeletCpuTopology topo = kubeletView(row.topo());
  auto got = takeByTopologyNumaPackedForResize(topo, cpus(row.available.c_str()), row.num_cpus,
                                               row.spread ? CpuSortingStrategy::Spread : CpuSortingStrategy::Packed,
                                               row.uncore, cpus(row.current.c_str()), cpus(row.keep.c_str()));
  if (!row.error.empty()) {
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().message(), row.error);
    return;
  }
  ASSERT_TRUE(got.has_value()) << got.error().toString();
  EXPECT_EQ(got->toString(), cpus(row.expect.c_str()).toString());
}

INSTANTIATE_TEST_SUITE_P(Kubelet, KubeletResizeTest, ::testing::ValuesIn(resizeRows()),
                         [](const ::testing::TestParamInfo<ResizeRow>& p) { return p.param.name; });

// ---- StaticCpuPolicy::resizeExclusiveCpus ------------------------------------------------------

PodRequest guaranteedPod(const std::string& uid, int64_t cpu_millis) {
  PodRequest pod{.uid = uid, .namespace_name = "ns", .name = uid, .qos = QosClass::Guaranteed};
  pod.containers.push_back({.name = "c", .cpu_request_millis = cpu_millis, .cpu_limit_millis = cpu_millis});
  return pod;
}

State stateWith(const std::vector<std::pair<std::string, std::string>>& holders) {
  State state;
  for (const auto& [uid, list] : holders) {
    ContainerAllocation allocation;
    allocation.exclusive_cpus = cpus(list.c_str());
    allocation.request = {.name = "c"};
    allocation.qos = QosClass::Guaranteed;
    state.put(ContainerKey{uid, "c"}, allocation);
  }
  return state;
}

StaticCpuPolicy policyOn(const std::vector<fx::KubeletCpuInfo>& rows, StaticCpuOptions cpu = {}, int reserved = 0) {
  PolicyOptions options;
  options.cpu = cpu;
  options.reserved_cpu_count = reserved;
  auto policy = StaticCpuPolicy::create(kubeletView(rows), options);
  TOPOD_CHECK(policy.has_value());
  return std::move(policy).value();
}

struct PolicyResizeRow {
  std::string name;
  std::vector<std::pair<std::string, std::string>> holders;  // pod uid -> exclusive CPUs
  int64_t new_millis;
  bool full_pcpus_only;
  std::string expect;  // resulting CPUs, or the start of the error message
  bool expect_error;
};

class PolicyResizeTest : public ::testing::TestWithParam<PolicyResizeRow> {};

TEST_P(PolicyResizeTest, OnDualSocketMultiNuma) {
  const PolicyResizeRow& row = GetParam();
  const StaticCpuPolicy policy =
      policyOn(fx::topoDualSocketMultiNumaPerSocketHTCpus(), StaticCpuOptions{.full_pcpus_only = row.full_pcpus_only});
  const State state = stateWith(row.holders);
  const State before = state;
  const PodRequest pod = guaranteedPod("resized", row.new_millis);
  auto got = policy.resizeExclusiveCpus(state, pod, pod.containers[0]);
  EXPECT_EQ(state, before);  // pure: the old allocation is untouched whatever happens
  if (row.expect_error) {
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().message().rfind(row.expect, 0), 0U) << got.error().message();
    return;
  }
  ASSERT_TRUE(got.has_value()) << got.error().toString();
  EXPECT_EQ(got->toString(), row.expect);
  const CpuSet old = state.containers().at(ContainerKey{"resized", "c"}).exclusive_cpus;
  if (got->size() >= old.size()) {
    EXPECT_TRUE(old.isSubsetOf(*got)) << "growing keeps every CPU";
  }
  if (got->size() <= old.size()) {
    EXPECT_TRUE(got->isSubsetOf(old)) << "shrinking keeps a subset";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rules, PolicyResizeTest,
    ::testing::Values(
        // NUMA 0 = 0-9,40-49; NUMA 1 = 10-19,50-59 (socket 0); NUMA 2, 3 on socket 1.
        PolicyResizeRow{"GrowCompletesTheSiblingCoreFirst", {{"resized", "0"}}, 2000, false, "0,40", false},
        PolicyResizeRow{"GrowStaysOnTheSameNumaNode", {{"resized", "0,40"}}, 6000, false, "0-2,40-42", false},
        PolicyResizeRow{"GrowFillsTheNumaNodeBeforeLeavingIt",
                        {{"resized", "0-3,40-43"}, {"other", "10-19,50-59"}},
                        22000,
                        false,
                        "0-9,20,40-49,60",
                        false},
        PolicyResizeRow{"SameSizeKeepsEverything", {{"resized", "3,43"}}, 2000, false, "3,43", false},
        PolicyResizeRow{
            "ShrinkKeepsTheNumaNodeHoldingMost", {{"resized", "0-2,40-42,10,50"}}, 4000, false, "0-1,40-41", false},
        PolicyResizeRow{"ShrinkKeepsWholeCores", {{"resized", "0-3,40"}}, 2000, false, "0,40", false},
        PolicyResizeRow{"ShrinkToAFractionRunsShared", {{"resized", "0,40"}}, 1500, false, "", false},
        PolicyResizeRow{"GrowBeyondTheFreeCpusIsRefused",
                        {{"resized", "0,40"}, {"other", "1-39,41-79"}},
                        4000,
                        false,
                        "cannot resize ns/resized/c from 2 to 4 exclusive CPUs: not enough cpus available",
                        true},
        PolicyResizeRow{"FullPcpusOnlyRefusesHalfCores",
                        {{"resized", "0,40"}},
                        3000,
                        true,
                        "SMT Alignment Error: requested 3 cpus not multiple cpus per core = 2",
                        true}),
    [](const ::testing::TestParamInfo<PolicyResizeRow>& p) { return p.param.name; });

TEST(PolicyResize, SharedContainerGetsAFreshAllocation) {
  const StaticCpuPolicy policy = policyOn(fx::topoDualSocketHTCpus(), {}, 1);
  State state = stateWith({});
  ContainerAllocation shared;
  shared.request = {.name = "c"};
  state.put(ContainerKey{"resized", "c"}, shared);
  const PodRequest pod = guaranteedPod("resized", 2000);
  auto got = policy.resizeExclusiveCpus(state, pod, pod.containers[0]);
  ASSERT_TRUE(got.has_value()) << got.error().toString();
  // Reserved CPU 0 stays out; a 2-CPU request takes a whole free core before the lone sibling 6.
  EXPECT_EQ(got->toString(), "2,8");
}

TEST(PolicyResize, UnknownContainerIsRefused) {
  const StaticCpuPolicy policy = policyOn(fx::topoDualSocketHTCpus());
  const PodRequest pod = guaranteedPod("missing", 2000);
  auto got = policy.resizeExclusiveCpus(State{}, pod, pod.containers[0]);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), ErrorCode::NotFound);
}

}  // namespace
}  // namespace topod::policies::cpu::test
