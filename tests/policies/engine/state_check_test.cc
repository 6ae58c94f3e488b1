#include "policies/state_check.h"

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "policies/none_policy.h"
#include "tests/policies/engine/engine_topologies.h"

namespace topod::policies {
namespace {

using testing::kGiB;
using testing::twoNuma16Cpus;

ContainerAllocation exclusive(const char* cpus, ContainerKind kind = ContainerKind::App) {
  ContainerAllocation a;
  a.exclusive_cpus = CpuSet::parse(cpus).value();
  a.request.kind = kind;
  a.qos = QosClass::Guaranteed;
  return a;
}

ContainerAllocation withMemory(ContainerAllocation a, int node, const std::string& resource, uint64_t bytes) {
  a.memory[node][resource] = bytes;
  a.memory_nodes.insert(node);
  return a;
}

struct Row {
  std::string name;
  State state;
  std::function<void(PolicyOptions&)> configure;
  // Substrings of the expected violations, one per violation; empty: the state is consistent.
  std::vector<std::string> violations;
};

// Names the row in test listings instead of dumping its bytes.
void PrintTo(const Row& row, std::ostream* os) {
  *os << row.name;
}

class StateCheckTest : public ::testing::TestWithParam<Row> {};

TEST_P(StateCheckTest, ReportsExactlyTheViolations) {
  const Row& row = GetParam();
  PolicyOptions options;
  options.reserved_cpus = CpuSet{0};
  if (row.configure) row.configure(options);
  std::vector<std::string> got = checkState(twoNuma16Cpus(), options, row.state);
  ASSERT_EQ(got.size(), row.violations.size()) << ::testing::PrintToString(got);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NE(got[i].find(row.violations[i]), std::string::npos) << got[i];
  }
}

ContainerKey key(const char* pod, const char* container) {
  return {.pod_uid = pod, .container_name = container};
}

INSTANTIATE_TEST_SUITE_P(
    Rows, StateCheckTest,
    ::testing::Values(
        Row{"EmptyStateIsConsistent", {}, nullptr, {}},
        Row{"DisjointExclusiveCpus", {{{key("p1", "a"), exclusive("2-3")}, {key("p2", "b"), exclusive("8-11")}}}, nullptr, {}},
        Row{"SharedContainerHasNoCpus", {{{key("p1", "a"), ContainerAllocation{}}}}, nullptr, {}},
        Row{"SameCpuTwice",
            {{{key("p1", "a"), exclusive("2-3")}, {key("p2", "b"), exclusive("3-4")}}},
            nullptr,
            {"exclusive CPUs 3 are held by both p1/a and p2/b"}},
        Row{"InitContainerCpusReusedInItsPod",
            {{{key("p1", "init"), exclusive("2-3", ContainerKind::Init)}, {key("p1", "app"), exclusive("2-5")}}},
            nullptr,
            {}},
        Row{"InitContainerCpusNotReusableAcrossPods",
            {{{key("p1", "init"), exclusive("2-3", ContainerKind::Init)}, {key("p2", "app"), exclusive("2-5")}}},
            nullptr,
            {"held by both p1/init and p2/app"}},
        Row{"SidecarCpusAreNotReusable",
            {{{key("p1", "side"), exclusive("2-3", ContainerKind::Sidecar)}, {key("p1", "app"), exclusive("3")}}},
            nullptr,
            {"held by both p1/app and p1/side"}},
        Row{"OfflineCpu", {{{key("p1", "a"), exclusive("15-16")}}}, nullptr, {"exclusive CPUs 16 are not online"}},
        Row{"ReservedCpu", {{{key("p1", "a"), exclusive("0-1")}}}, nullptr, {"exclusive CPUs 0 are reserved"}},
        Row{"ReservedCountLeavesTooFewCpus",
            {{{key("p1", "a"), exclusive("0-13")}}},
            [](PolicyOptions& o) {
              o.reserved_cpus = {};
              o.reserved_cpu_count = 3;
            },
            {"leave 2 CPUs outside exclusive use, fewer than the 3 reserved CPUs"}},
        Row{"ExclusiveAndSharedPool",
            {{{key("p1", "a"), [] {
                 ContainerAllocation a = exclusive("2");
                 a.shared_pool_nodes = NodeSet{0};
                 return a;
               }()}}},
            nullptr,
            {"holds exclusive CPUs 2 and is also in the shared pool of nodes 0"}},
        Row{"UnknownNodes",
            {{{key("p1", "a"), [] {
                 ContainerAllocation a;
                 a.shared_pool_nodes = NodeSet{3};
                 a.memory_nodes = NodeSet{0, 4};
                 return a;
               }()}}},
            nullptr,
            {"shared_pool_nodes names NUMA nodes 3", "memory_nodes names NUMA nodes 4"}},
        Row{"MemoryWithinCapacity",
            {{{key("p1", "a"), withMemory(exclusive("2"), 0, "memory", 10 * kGiB)},
              {key("p2", "b"), withMemory(exclusive("3"), 0, "memory", 6 * kGiB)}}},
            nullptr,
            {}},
        Row{"MemoryOverCapacity",
            {{{key("p1", "a"), withMemory(exclusive("2"), 0, "memory", 10 * kGiB)},
              {key("p2", "b"), withMemory(exclusive("3"), 0, "memory", 7 * kGiB)}}},
            nullptr,
            {"NUMA node 0: memory charged 18253611008 bytes, over the allocatable 17179869184"}},
        Row{"MemoryOverCapacityMinusReserved",
            {{{key("p1", "a"), withMemory(exclusive("2"), 1, "memory", 16 * kGiB)}}},
            [](PolicyOptions& o) { o.reserved_memory[1]["memory"] = kGiB; },
            {"over the allocatable 16106127360 (capacity 17179869184 minus reserved 1073741824)"}},
        Row{"HugepagesOverCapacity",
            {{{key("p1", "a"), withMemory(exclusive("2"), 0, "hugepages-2Mi", 2 * kGiB)}}},
            nullptr,
            {"hugepages-2Mi charged 2147483648 bytes, over the allocatable 1073741824"}},
        Row{"HugepageSizeNotConfigured",
            {{{key("p1", "a"), withMemory(exclusive("2"), 0, "hugepages-1Gi", kGiB)}}},
            nullptr,
            {"hugepages-1Gi charged 1073741824 bytes, over the allocatable 0"}},
        Row{"UnknownMemoryResource",
            {{{key("p1", "a"), withMemory(exclusive("2"), 0, "gpu-memory", 1)}}},
            nullptr,
            {"unknown memory resource \"gpu-memory\""}},
        Row{"MemoryOnMissingNode",
            {{{key("p1", "a"), withMemory(exclusive("2"), 7, "memory", 1)}}},
            nullptr,
            {"memory_nodes names NUMA nodes 7", "memory charged on NUMA node 7, which does not exist"}},
        Row{"InitContainerMemoryIsReused",
            {{{key("p1", "init"), withMemory(exclusive("2", ContainerKind::Init), 0, "memory", 12 * kGiB)},
              {key("p1", "app"), withMemory(exclusive("2-3"), 0, "memory", 12 * kGiB)}}},
            nullptr,
            {}},
        // Init-container memory is shared only as the Static memory manager shares it: with later
        // containers of the same pod on the same memory_nodes.
        Row{"InitContainerMemoryNotReusableAcrossPods",
            {{{key("p1", "init"), withMemory(exclusive("2", ContainerKind::Init), 0, "memory", 12 * kGiB)},
              {key("p2", "app"), withMemory(exclusive("3"), 0, "memory", 12 * kGiB)}}},
            nullptr,
            {"memory charged 25769803776 bytes, over the allocatable 17179869184"}},
        Row{"InitContainerMemoryNotReusableAcrossGroups",
            {{{key("p1", "init"), withMemory(exclusive("2", ContainerKind::Init), 0, "memory", 12 * kGiB)},
              {key("p1", "app"), withMemory(withMemory(exclusive("3"), 0, "memory", 12 * kGiB), 1, "memory", kGiB)}}},
            nullptr,
            {"memory charged 25769803776 bytes, over the allocatable 17179869184"}},
        Row{"SidecarMemoryIsNotReused",
            {{{key("p1", "sidecar"), withMemory(exclusive("2", ContainerKind::Sidecar), 0, "memory", 12 * kGiB)},
              {key("p1", "app"), withMemory(exclusive("3"), 0, "memory", 12 * kGiB)}}},
            nullptr,
            {"memory charged 25769803776 bytes, over the allocatable 17179869184"}},
        Row{"InitContainerFitsBesideItsSidecar",
            {{{key("p1", "sidecar"), withMemory(exclusive("2", ContainerKind::Sidecar), 0, "memory", 6 * kGiB)},
              {key("p1", "init"), [] {
                 ContainerAllocation a = withMemory(exclusive("3", ContainerKind::Init), 0, "memory", 10 * kGiB);
                 a.memory_beside[0]["memory"] = 6 * kGiB;
                 return a;
               }()},
              {key("p1", "app"), withMemory(exclusive("3-4"), 0, "memory", 9 * kGiB)}}},
            nullptr,
            {}},
        Row{"InitContainerBesideItsSidecarOverCapacity",
            {{{key("p1", "sidecar"), withMemory(exclusive("2", ContainerKind::Sidecar), 0, "memory", 6 * kGiB)},
              {key("p1", "init"), [] {
                 ContainerAllocation a = withMemory(exclusive("3", ContainerKind::Init), 0, "memory", 11 * kGiB);
                 a.memory_beside[0]["memory"] = 6 * kGiB;
                 return a;
               }()}}},
            nullptr,
            {"memory charged 18253611008 bytes, over the allocatable 17179869184"}},
        Row{"MemoryBesideOnlyForInitContainers",
            {{{key("p1", "app"), [] {
                 ContainerAllocation a = withMemory(exclusive("2"), 0, "memory", kGiB);
                 a.memory_beside[0]["memory"] = kGiB;
                 return a;
               }()}}},
            nullptr,
            {"memory_beside is recorded for a container that is not a regular init container"}},
        Row{"MemoryBesideOutsideMemoryNodes",
            {{{key("p1", "init"), [] {
                 ContainerAllocation a = withMemory(exclusive("2", ContainerKind::Init), 0, "memory", kGiB);
                 a.memory_beside[1]["memory"] = kGiB;
                 return a;
               }()}}},
            nullptr,
            {"memory_beside on NUMA nodes 1 outside its memory_nodes \"0\""}},
        Row{"MemoryNodesMissChargedNode",
            {{{key("p1", "a"), [] {
                 ContainerAllocation a = withMemory(exclusive("2"), 1, "memory", kGiB);
                 a.memory_nodes = NodeSet{0};
                 return a;
               }()}}},
            nullptr,
            {"memory charged on NUMA nodes 1 but memory_nodes is \"0\""}},
        Row{"ChargedMemoryWithAllNodes",
            {{{key("p1", "a"), [] {
                 ContainerAllocation a = withMemory(exclusive("2"), 1, "memory", kGiB);
                 a.memory_nodes = {};
                 return a;
               }()}}},
            nullptr,
            {"memory_nodes is \"\" (all nodes)"}},
        Row{"EmptyKey", {{{key("", "a"), ContainerAllocation{}}}}, nullptr, {"empty pod UID or container name"}},
        Row{"ResolvedReservedCountIsNotChecked",
            {{{key("p1", "a"), exclusive("0-1")}}},
            [](PolicyOptions& o) {
              o.reserved_cpus = {};
              o.reserved_cpu_count = 1;
            },
            {}}),
    [](const ::testing::TestParamInfo<Row>& row) { return row.param.name; });

TEST(StateCheckTest, ResolvedReservedCpusReplaceTheCount) {
  PolicyOptions options;
  options.reserved_cpu_count = 2;
  State state{{{key("p1", "a"), exclusive("14-15")}}};
  StateCheckOptions check;
  check.resolved_reserved_cpus = CpuSet{14, 15};
  std::vector<std::string> got = checkState(twoNuma16Cpus(), options, state, check);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].find("exclusive CPUs 14-15 are reserved (reserved: 14-15)"), std::string::npos) << got[0];
  check.allow_exclusive_on_reserved = true;
  EXPECT_TRUE(checkState(twoNuma16Cpus(), options, state, check).empty());
}

// A shared pool that holds an exclusive CPU: NonePolicy's pool is every online CPU, so a State
// with exclusive CPUs contradicts it (what restoring a static-policy state under "none" does).
TEST(StateCheckTest, PolicySharedPoolMustExcludeExclusiveCpus) {
  topology::Topology topology = twoNuma16Cpus();
  NonePolicy none(topology);
  PolicyOptions options;
  options.policy = "none";
  StateCheckOptions check;
  check.policy = &none;
  EXPECT_TRUE(checkState(topology, options, State{{{key("p1", "a"), ContainerAllocation{}}}}, check).empty());
  std::vector<std::string> got = checkState(topology, options, State{{{key("p1", "a"), exclusive("4-5")}}}, check);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "none: shared pool contains exclusive CPUs 4-5");
}

TEST(StateCheckTest, ValidateRestoredStateListsEveryProblem) {
  PolicyOptions options;
  options.reserved_cpus = CpuSet{0};
  State state{{{key("p1", "a"), exclusive("0-1")}, {key("p2", "b"), exclusive("1,20")}}};
  Status status = validateRestoredState(twoNuma16Cpus(), options, state, "/var/lib/topod/state.json");
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::FailedPrecondition);
  EXPECT_EQ(status.error().message(),
            "/var/lib/topod/state.json: state does not fit this machine and configuration (3 problems):\n"
            "  p1/a: exclusive CPUs 0 are reserved (reserved: 0)\n"
            "  p2/b: exclusive CPUs 20 are not online (online: 0-15)\n"
            "  exclusive CPUs 1 are held by both p1/a and p2/b");
  EXPECT_TRUE(validateRestoredState(twoNuma16Cpus(), options, State{}, "x").has_value());
}

}  // namespace
}  // namespace topod::policies
