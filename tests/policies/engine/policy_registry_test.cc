#include "policies/policy_registry.h"

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>

#include "tests/policies/engine/engine_topologies.h"

namespace topod::policies {
namespace {

using testing::kGiB;
using testing::twoNuma16Cpus;

TEST(PolicyRegistryTest, BuildsEveryKnownPolicyByName) {
  ASSERT_FALSE(knownPolicies().empty());
  for (const PolicyInfo& info : knownPolicies()) {
    PolicyOptions options;
    options.policy = std::string(info.name);
    options.reserved_cpus = CpuSet{0};
    auto policy = makePolicy(twoNuma16Cpus(), options);
    ASSERT_TRUE(policy.has_value()) << info.name << ": " << policy.error().toString();
    EXPECT_EQ((*policy)->name(), info.name);
    EXPECT_FALSE(info.summary.empty());
  }
}

TEST(PolicyRegistryTest, UnknownNameListsTheKnownOnes) {
  PolicyOptions options;
  options.policy = "balloons";
  auto policy = makePolicy(twoNuma16Cpus(), options);
  ASSERT_FALSE(policy.has_value());
  EXPECT_EQ(policy.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(policy.error().message(), "unknown policy \"balloons\" (known: " + knownPolicyList() + ")");
  EXPECT_NE(knownPolicyList().find("none"), std::string::npos);
}

struct OptionRow {
  std::string name;
  std::function<void(PolicyOptions&)> configure;
  std::string message;  // expected substring; empty = valid
};

// Names the row in test listings instead of dumping its bytes.
void PrintTo(const OptionRow& row, std::ostream* os) {
  *os << row.name;
}

class PolicyOptionsTest : public ::testing::TestWithParam<OptionRow> {};

TEST_P(PolicyOptionsTest, ValidatesAgainstTheMachine) {
  PolicyOptions options;
  options.policy = "static";
  options.reserved_cpus = CpuSet{0};
  GetParam().configure(options);
  Status status = validatePolicyOptions(twoNuma16Cpus(), options);
  if (GetParam().message.empty()) {
    EXPECT_TRUE(status.has_value()) << status.error().toString();
    return;
  }
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(status.error().message().find(GetParam().message), std::string::npos) << status.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Rows, PolicyOptionsTest,
    ::testing::Values(
        OptionRow{"Defaults", [](PolicyOptions&) {}, ""},
        OptionRow{"EveryCompatibleOption",
                  [](PolicyOptions& o) {
                    o.cpu.full_pcpus_only = true;
                    o.cpu.distribute_cpus_across_numa = true;
                    o.cpu.align_by_socket = true;
                    o.cpu.strict_cpu_reservation = true;
                  },
                  ""},
        OptionRow{"ReservedNotOnline",
                  [](PolicyOptions& o) {
                    o.reserved_cpus = CpuSet{0, 16};
                  },
                  "reserved CPUs 16 are not online (online: 0-15)"},
        OptionRow{"AllCpusReserved", [](PolicyOptions& o) { o.reserved_cpus = CpuSet::range(0, 15); },
                  "leave no CPU for containers"},
        OptionRow{"NegativeReservedCount", [](PolicyOptions& o) { o.reserved_cpu_count = -1; }, "is negative"},
        OptionRow{"ReservedCountTooLarge", [](PolicyOptions& o) { o.reserved_cpu_count = 17; },
                  "reserved CPU count 17 exceeds the 16 online CPUs"},
        OptionRow{"FullPcpusWithDistributeAcrossCores",
                  [](PolicyOptions& o) {
                    o.cpu.full_pcpus_only = true;
                    o.cpu.distribute_cpus_across_cores = true;
                  },
                  "policy options: static policy options full-pcpus-only and distribute-cpus-across-cores can not be "
                  "used at the same time"},
        OptionRow{"DistributeAcrossNumaAndCores",
                  [](PolicyOptions& o) {
                    o.cpu.distribute_cpus_across_numa = true;
                    o.cpu.distribute_cpus_across_cores = true;
                  },
                  "distribute-cpus-across-numa and distribute-cpus-across-cores"},
        OptionRow{"UncoreWithDistributeAcrossCores",
                  [](PolicyOptions& o) {
                    o.cpu.prefer_align_cpus_by_uncorecache = true;
                    o.cpu.distribute_cpus_across_cores = true;
                  },
                  "prefer-align-cpus-by-uncorecache and distribute-cpus-across-cores"},
        OptionRow{"UncoreWithDistributeAcrossNuma",
                  [](PolicyOptions& o) {
                    o.cpu.prefer_align_cpus_by_uncorecache = true;
                    o.cpu.distribute_cpus_across_numa = true;
                  },
                  "prefer-align-cpus-by-uncorecache and distribute-cpus-across-numa"},
        OptionRow{"AlignBySocketWithSingleNumaNode",
                  [](PolicyOptions& o) {
                    o.cpu.align_by_socket = true;
                    o.topology_manager.policy = TopologyManagerPolicy::SingleNumaNode;
                  },
                  "policy options: Topolgy manager single-numa-node policy is incompatible with CPUManager "
                  "align-by-socket policy option"},
        OptionRow{"ReservedMemoryOnMissingNode", [](PolicyOptions& o) { o.reserved_memory[5]["memory"] = kGiB; },
                  "memory reserved on NUMA node 5, which does not exist (nodes: 0-1)"},
        OptionRow{"ReservedMemoryOverCapacity", [](PolicyOptions& o) { o.reserved_memory[0]["memory"] = 17 * kGiB; },
                  "reserved memory on NUMA node 0 (18253611008 bytes) exceeds its capacity (17179869184 bytes)"},
        OptionRow{"ReservedUnknownResource", [](PolicyOptions& o) { o.reserved_memory[0]["cpu"] = 1; },
                  "unknown memory resource \"cpu\""},
        OptionRow{"MaxNumaNodesNotPositive", [](PolicyOptions& o) { o.topology_manager.max_allowable_numa_nodes = 0; },
                  "max-allowable-numa-nodes must be positive"},
        OptionRow{"NoneWithCpuOptions",
                  [](PolicyOptions& o) {
                    o.policy = "none";
                    o.cpu.full_pcpus_only = true;
                  },
                  "CPU options need policy \"static\" or \"topology-aware\", not \"none\""},
        OptionRow{"NoneWithStaticMemory",
                  [](PolicyOptions& o) {
                    o.policy = "none";
                    o.memory_policy = MemoryManagerPolicy::Static;
                  },
                  "memory policy Static needs policy"}),
    [](const ::testing::TestParamInfo<OptionRow>& row) { return row.param.name; });

}  // namespace
}  // namespace topod::policies
