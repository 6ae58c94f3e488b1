// Random admit / resize / remove sequences on every standard shape, with and without reserved and
// isolated CPUs; the invariants are checked after every step, and refusals must leave no trace.
#include <gtest/gtest.h>

#include <random>

#include "policies/state_check.h"
#include "policies/topology_aware/topology_aware_policy.h"
#include "tests/policies/kubelet_topologies.h"
#include "tests/policies/topology_aware/invariants.h"
#include "tests/policies/topology_aware/requests.h"
#include "tests/policies/topology_aware/shapes.h"
#include "topology/loaders.h"

namespace topod::policies {
namespace {

using testing::kGiB;

struct SequenceCase {
  std::string name;
  topology::Topology topology;
  PolicyOptions options;
};

std::vector<std::pair<std::string, std::string>> syntheticMachines() {
  return {{"SyntheticTwoPackagesTwoNumaTwoL3", "pack:2 numa:2 l3:2 core:4 pu:2"},
          {"SyntheticOnePackageFourNuma", "pack:1 numa:4 core:6 pu:2"}};
}

TEST(RandomSequenceMachinesTest, SyntheticMachinesLoad) {
  for (const auto& [name, description] : syntheticMachines()) {
    auto loaded = topology::loadTopology("synthetic:" + description);
    EXPECT_TRUE(loaded.has_value()) << name << ": " << loaded.error().toString();
  }
}

std::vector<SequenceCase> sequenceCases() {
  std::vector<SequenceCase> cases;
  for (testing::ShapeSpec shape : testing::standardShapes()) {
    shape.hugepages_2m_per_node = 1024;
    topology::Topology plain = testing::buildShape(shape);
    cases.push_back({shape.name + "NoReserved", plain, {}});
    cases.push_back({shape.name + "TwoReserved", plain, {.reserved_cpu_count = 2}});
    cases.push_back(
        {shape.name + "StrictReserved", plain, {.cpu = {.strict_cpu_reservation = true}, .reserved_cpu_count = 1}});
    testing::ShapeSpec isolated = shape;
    isolated.isolated = CpuSet{2, 3};
    cases.push_back({shape.name + "Isolated", testing::buildShape(isolated), {.reserved_cpu_count = 1}});
  }
  // The kubelet's own test machines (shared fixtures of the CPU manager tests).
  cases.push_back({"KubeletSingleSocketHT", topod::testing::topoSingleSocketHT(), {.reserved_cpu_count = 1}});
  cases.push_back({"KubeletDualSocketHT", topod::testing::topoDualSocketHT(), {.reserved_cpu_count = 2}});
  cases.push_back({"KubeletTripleSocketHT", topod::testing::topoTripleSocketHT(), {.reserved_cpu_count = 2}});
  cases.push_back({"KubeletDualSocketNoHT", topod::testing::topoDualSocketNoHT(), {.reserved_cpu_count = 1}});
  cases.push_back({"KubeletQuadSocketFourWayHT", topod::testing::topoQuadSocketFourWayHT(), {.reserved_cpu_count = 4}});
  cases.push_back({"KubeletDualSocketMultiNumaPerSocketHT",
                   topod::testing::topoDualSocketMultiNumaPerSocketHT(),
                   {.reserved_cpu_count = 2}});
  cases.push_back({"KubeletMultiSocketPerNuma",
                   topod::testing::fakeTopoMultiSocketDualSocketPerNumaHT(),
                   {.reserved_cpu_count = 2}});
  cases.push_back({"KubeletUncoreSingleSocketMultiNuma",
                   topod::testing::topoUncoreSingleSocketMultiNuma(),
                   {.reserved_cpu_count = 2}});
  cases.push_back({"KubeletUncoreDualSocketNoSMT", topod::testing::topoUncoreDualSocketNoSMT(), {}});
  // hwloc synthetic machines through the topology loaders.
  // A description that fails to load is kept out here and reported by SyntheticMachinesLoad.
  for (const auto& [name, description] : syntheticMachines()) {
    auto loaded = topology::loadTopology("synthetic:" + description);
    if (loaded.has_value()) cases.push_back({name, *loaded, {.reserved_cpu_count = 2}});
  }
  return cases;
}

class RandomSequenceTest : public ::testing::TestWithParam<SequenceCase> {};

ContainerRequest randomContainer(std::mt19937& rng, int max_node) {
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<int> cpus(1, 12);
  std::uniform_int_distribution<int> gib(1, 24);
  std::uniform_int_distribution<int> node(-1, max_node);
  std::vector<DeviceRequest> devices;
  if (kind(rng) < 3) devices.push_back(testing::gpuOn(node(rng)));
  ContainerRequest c;
  switch (kind(rng) % 5) {
    case 0:
    case 1:
    case 2: c = testing::guaranteed("c", cpus(rng) * 1000, static_cast<uint64_t>(gib(rng)) * kGiB, devices); break;
    case 3: c = testing::burstable("c", cpus(rng) * 250, static_cast<uint64_t>(gib(rng)) * kGiB, devices); break;
    default: c = testing::bestEffort("c"); break;
  }
  if (kind(rng) == 0) c.hugepages[testing::kHugepage2M] = static_cast<uint64_t>(gib(rng)) * (64ULL << 20);
  return c;
}

TEST_P(RandomSequenceTest, InvariantsHoldAfterEveryStep) {
  const SequenceCase& row = GetParam();
  const topology::Topology& topology = row.topology;
  auto created = TopologyAwarePolicy::create(topology, row.options);
  ASSERT_TRUE(created.has_value()) << created.error().toString();
  const TopologyAwarePolicy& policy = **created;
  int max_node = topology.numaNodes().back().id;
  constexpr int kSeeds = 4;
  constexpr int kSteps = 150;
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937 rng(static_cast<unsigned>(seed));
    State state;
    std::map<std::string, PodRequest> pods;
    int next_uid = 0;
    int admitted = 0;
    for (int step = 0; step < kSteps; ++step) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " step " + std::to_string(step));
      std::uniform_int_distribution<int> op(0, 9);
      int what = op(rng);
      if (what < 6 || pods.empty()) {
        ContainerRequest c = randomContainer(rng, max_node);
        std::map<std::string, std::string> annotations;
        if (!topology.isolatedCpus().empty() && op(rng) == 0) {
          annotations[std::string(kIsolatedCpusAnnotation)] = "true";
        }
        PodRequest pod = testing::podOf("p" + std::to_string(next_uid++), {c}, annotations);
        auto decision = policy.admit(state, pod, c);
        if (!decision.has_value()) continue;  // the state passed in is const: nothing to undo
        ++admitted;
        state = applyDecision(state, *decision);
        pods[pod.uid] = pod;
      } else {
        auto it = pods.begin();
        std::advance(it, std::uniform_int_distribution<std::size_t>(0, pods.size() - 1)(rng));
        if (what < 8) {
          ContainerRequest resized = it->second.containers[0];
          int64_t factor = std::uniform_int_distribution<int>(1, 3)(rng);
          bool grow = op(rng) < 5;
          resized.cpu_request_millis = grow
                                           ? resized.cpu_request_millis * factor
                                           : std::max<int64_t>(1000, resized.cpu_request_millis / factor / 1000 * 1000);
          resized.cpu_limit_millis = resized.cpu_limit_millis == 0
                                         ? 0
                                         : (it->second.qos == QosClass::Guaranteed ? resized.cpu_request_millis
                                                                                   : 2 * resized.cpu_request_millis);
          if (resized.cpu_request_millis == 0) resized.cpu_limit_millis = 0;
          auto decision = policy.resize(state, it->second, resized);
          if (decision.has_value()) {
            state = applyDecision(state, *decision);
            it->second.containers[0] = resized;
          }
        } else {
          state = releaseContainer(state, {it->first, "c"});
          pods.erase(it);
        }
      }
      std::vector<std::string> problems = testing::invariantViolations(topology, policy, state);
      ASSERT_EQ(problems, std::vector<std::string>{});
      // The engine's checker, which every policy's States must pass as well.
      StateCheckOptions check{.policy = &policy, .resolved_reserved_cpus = policy.pools().reserved};
      ASSERT_EQ(checkState(topology, row.options, state, check), std::vector<std::string>{});
    }
    EXPECT_GT(admitted, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, RandomSequenceTest, ::testing::ValuesIn(sequenceCases()),
                         [](const ::testing::TestParamInfo<SequenceCase>& row_info) { return row_info.param.name; });

}  // namespace
}  // namespace topod::policies
