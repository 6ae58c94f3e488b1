// What `topod status`, `topod allocations` and `topod explain` print.
#include "api/format.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace topod::api {
namespace {

ContainerExplanation refused() {
  return ContainerExplanation{.pod_uid = "u2",
                              .pod_namespace = "default",
                              .pod_name = "big",
                              .container = "main",
                              .admitted = false,
                              .request = "cpu 2 (limit 2), memory 64Mi (limit 64Mi)",
                              .qos = QosClass::Guaranteed,
                              .cpus = {},
                              .mems = {},
                              .exclusive_cpus = {},
                              .explanation = "cpu: not enough CPUs available: requested 2, available 1",
                              .reason = "SMTAlignmentError"};
}

TEST(ApiFormatTest, StatusNamesTheRuntimeThePolicyAndThePools) {
  StatusInfo status{.agent_version = "0.1.0",
                    .synchronized = true,
                    .runtime_connected = true,
                    .runtime_name = "containerd",
                    .runtime_version = "v1.7.24",
                    .policy = "static",
                    .pods = 2,
                    .containers = 3,
                    .allocations = 3,
                    .exclusive_containers = 1,
                    .exclusive_cpus = CpuSet::parse("1").value(),
                    .shared_cpus = CpuSet::parse("0").value(),
                    .reserved_cpus = CpuSet::parse("0").value(),
                    .refusals = 0};
  EXPECT_EQ(formatStatus(status),
            "agent:        topod 0.1.0, policy static\n"
            "runtime:      containerd v1.7.24, connected, synchronized\n"
            "containers:   3 in 2 pods; 3 allocations, 1 with exclusive CPUs\n"
            "exclusive:    1\n"
            "shared pool:  0\n"
            "reserved:     0\n"
            "refusals:     0 remembered\n");
  auto json = nlohmann::json::parse(formatStatusJson(status));
  EXPECT_EQ(json["exclusive_cpus"], "1");
  EXPECT_EQ(json["runtime_connected"], true);
}

TEST(ApiFormatTest, TheAllocationsTableHasOneAlignedRowPerContainer) {
  std::vector<AllocationInfo> allocations{AllocationInfo{.pod_uid = "u1",
                                                         .pod_namespace = "default",
                                                         .pod_name = "exclusive",
                                                         .container = "main",
                                                         .container_id = "c1",
                                                         .qos = QosClass::Guaranteed,
                                                         .exclusive_cpus = CpuSet::parse("1").value(),
                                                         .cpus = CpuSet::parse("1").value(),
                                                         .mems = {},
                                                         .memory_bytes = 64ULL << 20,
                                                         .running = true},
                                          AllocationInfo{.pod_uid = "u2",
                                                         .pod_namespace = {},
                                                         .pod_name = {},
                                                         .container = "side\ncar",
                                                         .container_id = {},
                                                         .qos = QosClass::Burstable,
                                                         .exclusive_cpus = {},
                                                         .cpus = CpuSet::parse("0").value(),
                                                         .mems = NodeSet::parse("0").value(),
                                                         .memory_bytes = 0,
                                                         .running = false}};
  EXPECT_EQ(formatAllocationsTable(allocations),
            "POD               CONTAINER QOS        CPUS EXCLUSIVE MEMS MEMORY STATE\n"
            "default/exclusive main      Guaranteed 1    1         all  64Mi   running\n"
            "u2                side\\ncar Burstable  0    -         0    -      stopped\n"
            "2 allocations, 1 with exclusive CPUs\n");
  auto json = nlohmann::json::parse(formatAllocationsJson(allocations));
  ASSERT_EQ(json["allocations"].size(), 2u);
  EXPECT_EQ(json["allocations"][0]["exclusive_cpus"], "1");
  EXPECT_EQ(json["allocations"][1]["container"], "side\ncar") << "JSON carries the name as it is";
}

TEST(ApiFormatTest, ARefusalNamesTheRequestTheResourceAndTheReason) {
  std::string text = formatExplanations({refused()});
  EXPECT_EQ(text,
            "default/big container main: REFUSED\n"
            "  pod uid:     u2\n"
            "  request:     cpu 2 (limit 2), memory 64Mi (limit 64Mi), QoS Guaranteed\n"
            "  refused:     cpu: not enough CPUs available: requested 2, available 1\n"
            "  reason:      SMTAlignmentError\n");
  auto json = nlohmann::json::parse(formatExplanationsJson({refused()}));
  EXPECT_EQ(json["explanations"][0]["admitted"], false);
  EXPECT_EQ(json["explanations"][0]["reason"], "SMTAlignmentError");
}

TEST(ApiFormatTest, AnAdmissionShowsTheCpusAndTheReasoning) {
  ContainerExplanation e = refused();
  e.admitted = true;
  e.reason.clear();
  e.cpus = e.exclusive_cpus = CpuSet::parse("2-3").value();
  e.mems = NodeSet::parse("0").value();
  e.explanation = "topology manager best-effort/container: hints cpu=[0* 1*]; merged NUMA 0 (preferred)";
  std::string text = formatExplanations({e});
  EXPECT_NE(text.find("default/big container main: admitted\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  cpus:        2-3 (exclusive)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  memory:      NUMA 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  why:         topology manager best-effort/container"), std::string::npos) << text;
}

}  // namespace
}  // namespace topod::api
