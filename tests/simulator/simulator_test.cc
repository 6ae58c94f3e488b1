#include "simulator/simulator.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policies/none_policy.h"
#include "state/state_json.h"
#include "tests/policies/engine/engine_topologies.h"

namespace topod::policies {
namespace {

using testing::twoNuma16Cpus;

// A deliberately simple pinning policy for driving the simulator: Guaranteed containers with
// whole CPUs get the lowest free CPUs (never CPU 0, the reserved one), everything else the
// shared pool; it refuses what does not fit, and resizes by growing or shrinking in place.
class LowestFreePolicy final : public Policy {
 public:
  explicit LowestFreePolicy(const topology::Topology& topology) : online_(topology.onlineCpus()) {}
  std::string_view name() const override { return "lowest-free"; }

  Result<Decision> admit(const State& state, const PodRequest& pod, const ContainerRequest& c) const override {
    return place(state, pod, c, CpuSet{});
  }
  Result<Decision> resize(const State& state, const PodRequest& pod, const ContainerRequest& c) const override {
    const ContainerAllocation& old = state.containers().at({.pod_uid = pod.uid, .container_name = c.name});
    State without = releaseContainer(state, {.pod_uid = pod.uid, .container_name = c.name});
    return place(without, pod, c, old.exclusive_cpus);
  }
  std::map<ContainerKey, Placement> placements(const State& state) const override {
    std::map<ContainerKey, Placement> out;
    for (const auto& [key, a] : state.containers()) {
      out[key] = Placement{.cpus = a.exclusive_cpus.empty() ? sharedCpus(state) : a.exclusive_cpus, .mems = {}};
    }
    return out;
  }
  CpuSet reservedCpus() const override { return {}; }
  CpuSet sharedCpus(const State& state) const override {
    CpuSet shared = online_;
    for (const auto& [key, a] : state.containers()) shared -= a.exclusive_cpus;
    return shared;
  }

 private:
  Result<Decision> place(const State& state, const PodRequest& pod, const ContainerRequest& c, CpuSet keep) const {
    Decision d{
        .key = {.pod_uid = pod.uid, .container_name = c.name}, .allocation = {}, .placement = {}, .explanation = {}};
    d.allocation.request = c;
    d.allocation.qos = pod.qos;
    int want = pod.qos == QosClass::Guaranteed && c.cpu_request_millis % 1000 == 0
                   ? static_cast<int>(c.cpu_request_millis / 1000)
                   : 0;
    CpuSet free = sharedCpus(state) - CpuSet{0};
    CpuSet cpus;
    for (int cpu : keep) {
      if (cpus.size() < want) cpus.insert(cpu);
    }
    for (int cpu : free) {
      if (cpus.size() < want && !cpus.contains(cpu)) cpus.insert(cpu);
    }
    if (cpus.size() < want) return Error::resourceExhausted("not enough free CPUs for " + c.name);
    d.allocation.exclusive_cpus = cpus;
    State next = applyDecision(state, d);
    d.placement.cpus = want > 0 ? cpus : sharedCpus(next);
    d.explanation = want > 0 ? "lowest free CPUs" : "shared pool";
    return d;
  }
  CpuSet online_;
};

std::vector<std::string> run(const Policy& policy, const State& initial, const std::string& trace_text,
                             SimulationResult* result = nullptr) {
  PolicyOptions options;
  options.reserved_cpus = CpuSet{0};
  topology::Topology topology = twoNuma16Cpus();
  auto trace = parseTrace(trace_text, "t");
  EXPECT_TRUE(trace.has_value()) << trace.error().toString();
  std::vector<std::string> lines;
  auto simulated =
      simulate(topology, options, policy, initial, *trace, [&](const std::string& l) { lines.push_back(l); });
  EXPECT_TRUE(simulated.has_value()) << simulated.error().toString();
  if (result != nullptr && simulated.has_value()) *result = *simulated;
  return lines;
}

const char* kGuaranteedPod =
    R"({"op":"add","pod":{"uid":"p1"},"containers":[{"name":"a","limits":{"cpu":"4","memory":"1Gi"}},)"
    R"({"name":"b","limits":{"cpu":"2","memory":"1Gi"}}]})";

TEST(SimulatorTest, PrintsOneLinePerDecisionAndASummary) {
  topology::Topology topology = twoNuma16Cpus();
  LowestFreePolicy policy(topology);
  SimulationResult result;
  auto lines = run(policy, State{},
                   std::string(kGuaranteedPod) + "\n" +
                       R"({"op":"add","pod":{"uid":"p2"},"containers":[{"name":"web","requests":{"cpu":"100m"}}]})",
                   &result);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0],
            R"({"line":1,"op":"add","pod":"p1","container":"a","result":"admitted","cpus":"1-4","exclusive":true,)"
            R"("mems":"","memory":{},"numa_affinity":"0","numa_aligned":true,"explanation":"lowest free CPUs"})");
  EXPECT_EQ(lines[1],
            R"({"line":1,"op":"add","pod":"p1","container":"b","result":"admitted","cpus":"5-6","exclusive":true,)"
            R"("mems":"","memory":{},"numa_affinity":"0","numa_aligned":true,"explanation":"lowest free CPUs"})");
  EXPECT_EQ(
      lines[2],
      R"({"line":2,"op":"add","pod":"p2","container":"web","result":"admitted","cpus":"0,7-15","exclusive":false,)"
      R"("mems":"","memory":{},"numa_affinity":"0-1","numa_aligned":false,"explanation":"shared pool"})");
  // Free = shared pool minus reserved CPU 0: CPU 7 on node 0 (its sibling 6 is exclusive), 8-15 on node 1.
  EXPECT_EQ(
      lines[3],
      R"({"summary":{"events":2,"admitted":3,"rejected":0,"numa_aligned":2,"exclusive":2,"resized":0,)"
      R"("resize_refused":0,"removed":0,"errors":0,"containers":3,"free_cpus":9,"free_cpus_per_numa":{"0":1,"1":8},)"
      R"("free_cpus_on_partial_cores":1,"fragmentation":0.111}})");
  EXPECT_EQ(result.final_state.containers().size(), 3u);
  EXPECT_EQ(result.summary.admitted, 3);
}

TEST(SimulatorTest, RefusedContainerRollsBackItsPod) {
  topology::Topology topology = twoNuma16Cpus();
  LowestFreePolicy policy(topology);
  SimulationResult result;
  auto lines =
      run(policy, State{},
          R"({"op":"add","pod":{"uid":"p1"},"containers":[{"name":"a","limits":{"cpu":"10","memory":"1Gi"}},)"
          R"({"name":"b","limits":{"cpu":"10","memory":"1Gi"}},{"name":"c","limits":{"cpu":"1","memory":"1Gi"}}]})",
          &result);
  ASSERT_EQ(lines.size(), 3u);  // c is never attempted
  EXPECT_NE(lines[0].find(R"("container":"a","result":"rolled_back")"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("reason":"pod rejected: container b was refused")"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(R"("container":"b","result":"rejected","reason":"not enough free CPUs for b")"),
            std::string::npos)
      << lines[1];
  EXPECT_TRUE(result.final_state.containers().empty());
  EXPECT_EQ(result.summary.rejected, 2);
  EXPECT_EQ(result.summary.admitted, 0);
  EXPECT_EQ(result.summary.free_cpus, 15);
  EXPECT_DOUBLE_EQ(result.summary.fragmentation, 1.0 - 8.0 / 15.0);
}

TEST(SimulatorTest, ResizeGrowsOrIsRefusedKeepingTheOldAllocation) {
  topology::Topology topology = twoNuma16Cpus();
  LowestFreePolicy policy(topology);
  SimulationResult result;
  auto lines =
      run(policy, State{},
          std::string(kGuaranteedPod) + "\n" + R"({"op":"resize","pod":"p1","container":"b","limits":{"cpu":"3"}})" +
              "\n" + R"({"op":"resize","pod":"p1","container":"b","limits":{"cpu":"40"}})",
          &result);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_NE(lines[2].find(R"("result":"resized","cpus":"5-7")"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find(R"("result":"refused","reason":"not enough free CPUs for b","cpus":"5-7")"),
            std::string::npos)
      << lines[3];
  const ContainerAllocation& b = result.final_state.containers().at({.pod_uid = "p1", .container_name = "b"});
  EXPECT_EQ(b.exclusive_cpus, (CpuSet{5, 6, 7}));
  EXPECT_EQ(b.request.cpu_limit_millis, 3000);
  EXPECT_EQ(result.summary.resized, 1);
  EXPECT_EQ(result.summary.resize_refused, 1);
}

TEST(SimulatorTest, RemoveReleasesAndUnknownNamesAreErrorLines) {
  topology::Topology topology = twoNuma16Cpus();
  LowestFreePolicy policy(topology);
  SimulationResult result;
  auto lines =
      run(policy, State{},
          std::string(kGuaranteedPod) + "\n" + kGuaranteedPod + "\n" + R"({"op":"remove","pod":"p1","container":"a"})" +
              "\n" + R"({"op":"resize","pod":"p1","container":"a","limits":{"cpu":"1"}})" + "\n" +
              R"({"op":"remove","pod":"p9"})" + "\n" + R"({"op":"remove","pod":"p1"})" + "\n" +
              R"({"op":"remove","pod":"p1"})",
          &result);
  ASSERT_EQ(lines.size(), 9u);
  EXPECT_NE(lines[2].find(R"("result":"error","reason":"pod p1 already exists")"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[3], R"({"line":3,"op":"remove","pod":"p1","container":"a","result":"removed","removed":["a"]})");
  EXPECT_NE(lines[4].find(R"("reason":"pod p1 has no container a")"), std::string::npos) << lines[4];
  EXPECT_NE(lines[5].find(R"("reason":"no pod p9")"), std::string::npos) << lines[5];
  EXPECT_EQ(lines[6], R"({"line":6,"op":"remove","pod":"p1","result":"removed","removed":["b"]})");
  EXPECT_NE(lines[7].find(R"("reason":"no pod p1")"), std::string::npos) << lines[7];
  EXPECT_TRUE(result.final_state.containers().empty());
  EXPECT_EQ(result.summary.errors, 4);
  EXPECT_EQ(result.summary.removed, 2);
}

TEST(SimulatorTest, InitialStatePinsExistingContainers) {
  topology::Topology topology = twoNuma16Cpus();
  LowestFreePolicy policy(topology);
  auto initial = parseState(
      R"({"version":1,"containers":[{"pod_uid":"old","container":"db","qos":"Guaranteed","exclusive_cpus":"1-4",)"
      R"("request":{"cpu_request_millis":4000,"cpu_limit_millis":4000,"memory_limit_bytes":1073741824}}]})",
      "s.json", StateChecksum::Optional);
  ASSERT_TRUE(initial.has_value()) << initial.error().toString();
  SimulationResult result;
  auto lines =
      run(policy, *initial,
          std::string(kGuaranteedPod) + "\n" + R"({"op":"resize","pod":"old","container":"db","limits":{"cpu":"2"}})" +
              "\n" + R"({"op":"remove","pod":"old"})",
          &result);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_NE(lines[0].find(R"("cpus":"5-8")"), std::string::npos) << lines[0];
  EXPECT_NE(lines[2].find(R"("container":"db","result":"resized","cpus":"1-2")"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find(R"("removed":["db"])"), std::string::npos) << lines[3];
}

TEST(SimulatorTest, InitialStateThatDoesNotFitIsRefused) {
  topology::Topology topology = twoNuma16Cpus();
  NonePolicy policy(topology);
  PolicyOptions options;
  options.reserved_cpus = CpuSet{0};
  State initial;
  initial.put({.pod_uid = "p", .container_name = "c"}, ContainerAllocation{.exclusive_cpus = CpuSet{0, 99}});
  int emitted = 0;
  auto result = simulate(topology, options, policy, initial, {}, [&](const std::string&) { ++emitted; });
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::FailedPrecondition);
  EXPECT_NE(result.error().message().find("p/c: exclusive CPUs 99 are not online"), std::string::npos);
  EXPECT_NE(result.error().message().find("p/c: exclusive CPUs 0 are reserved"), std::string::npos);
  EXPECT_NE(result.error().message().find("none: shared pool contains exclusive CPUs 0"), std::string::npos);
  EXPECT_EQ(emitted, 0);
}

TEST(SimulatorTest, NonePolicyAdmitsEverythingShared) {
  topology::Topology topology = twoNuma16Cpus();
  NonePolicy policy(topology);
  SimulationResult result;
  auto lines = run(policy, State{}, kGuaranteedPod, &result);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find(R"("cpus":"0-15","exclusive":false)"), std::string::npos) << lines[0];
  EXPECT_EQ(result.summary.admitted, 2);
  EXPECT_EQ(result.summary.numa_aligned, 0);
  EXPECT_EQ(result.summary.free_cpus, 15);
}

}  // namespace
}  // namespace topod::policies
