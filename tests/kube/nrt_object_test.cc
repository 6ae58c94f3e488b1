#include "kube/nrt_object.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "policies/nrt_view.h"
#include "policies/policy.h"
#include "policies/policy_registry.h"
#include "topology/loaders.h"

namespace topod::kube {
namespace {

using policies::ContainerRequest;
using policies::PodRequest;
using policies::PolicyOptions;
using policies::State;

constexpr uint64_t kGiB = uint64_t{1} << 30;

topology::Topology fixture(const std::string& name) {
  auto t = topology::loadTopology("xml:" + std::string(TOPOD_FIXTURES_DIR) + "/topology/" + name + ".xml");
  EXPECT_TRUE(t.has_value()) << name;
  return std::move(t).value();
}

const topology::ZoneResource& resource(const std::vector<topology::Zone>& zones, int node, const std::string& name) {
  for (const auto& r : zones.at(static_cast<std::size_t>(node)).resources) {
    if (r.name == name) return r;
  }
  static const topology::ZoneResource kNone{};
  ADD_FAILURE() << "no " << name << " on node " << node;
  return kNone;
}

PodRequest guaranteedPod(const std::string& uid, int cpus, uint64_t memory) {
  ContainerRequest c{.name = "c",
                     .cpu_request_millis = 1000LL * cpus,
                     .cpu_limit_millis = 1000LL * cpus,
                     .memory_request_bytes = memory,
                     .memory_limit_bytes = memory};
  PodRequest pod{.uid = uid, .namespace_name = "default", .name = uid};
  pod.containers = {c};
  pod.qos = policies::computeQosClass(pod.containers);
  return pod;
}

PolicyOptions singleNumaStatic(bool memory_manager) {
  PolicyOptions options;
  options.policy = "static";
  options.reserved_cpus = CpuSet{0, 40};
  options.topology_manager.policy = policies::TopologyManagerPolicy::SingleNumaNode;
  if (memory_manager) {
    options.memory_policy = policies::MemoryManagerPolicy::Static;
    options.reserved_memory[0]["memory"] = 2 * kGiB;
  }
  return options;
}

TEST(NrtObjectTest, ObjectShapeFollowsTheV1alpha2Schema) {
  auto t = fixture("intel-2s-2x20c-smt2");
  auto zones = policies::nodeResourceZones(t, State{}, singleNumaStatic(true), CpuSet{0, 40});
  NrtAttributes attributes{.topology_manager_policy = "single-numa-node",
                           .topology_manager_scope = "container",
                           .topology_manager_max_numa_nodes = 8,
                           .pods_fingerprint = "pfp0v001aaaaaaaaaaaaaaaa"};
  auto object = nrtObject("worker-1", zones, attributes);
  EXPECT_EQ(object["apiVersion"], "topology.node.k8s.io/v1alpha2");
  EXPECT_EQ(object["kind"], "NodeResourceTopology");
  EXPECT_EQ(object["metadata"]["name"], "worker-1");
  ASSERT_EQ(object["zones"].size(), 2u);
  const auto& z0 = object["zones"][0];
  EXPECT_EQ(z0["name"], "node-0");
  EXPECT_EQ(z0["type"], "Node");
  EXPECT_EQ(z0["costs"][1], (nlohmann::json{{"name", "node-1"}, {"value", 21}}));
  EXPECT_EQ(z0["resources"][0],
            (nlohmann::json{{"name", "cpu"}, {"capacity", "40"}, {"allocatable", "38"}, {"available", "38"}}));
  EXPECT_EQ(z0["resources"][1]["name"], "memory");
  std::map<std::string, std::string> attrs;
  for (const auto& a : object["attributes"]) attrs[a["name"]] = a["value"];
  EXPECT_EQ(attrs["topologyManagerPolicy"], "single-numa-node");
  EXPECT_EQ(attrs["topologyManagerScope"], "container");
  EXPECT_EQ(attrs["topologyManagerMaxNUMANodes"], "8");
  EXPECT_EQ(attrs["nodeTopologyPodsFingerprint"], "pfp0v001aaaaaaaaaaaaaaaa");
  EXPECT_EQ(attrs["nodeTopologyPodsFingerprintMethod"], "all");
  EXPECT_EQ(nrtPath("worker-1"), "/apis/topology.node.k8s.io/v1alpha2/noderesourcetopologies/worker-1");
}

TEST(NrtObjectTest, SameContentIgnoresMetadata) {
  auto a = nrtObject("n", {}, {});
  auto b = a;
  b["metadata"]["resourceVersion"] = "12";
  b["metadata"]["managedFields"] = nlohmann::json::array();
  EXPECT_TRUE(sameNrtContent(a, b));
  b["attributes"][0]["value"] = "best-effort";
  EXPECT_FALSE(sameNrtContent(a, b));
}

TEST(NrtViewTest, ExclusiveCpusAndPinnedMemoryLowerAvailable) {
  auto t = fixture("intel-2s-2x20c-smt2");
  PolicyOptions options = singleNumaStatic(true);
  auto policy = policies::makePolicy(t, options);
  ASSERT_TRUE(policy) << policy.error().toString();
  State state;
  auto pod = guaranteedPod("p1", 4, 8 * kGiB);
  auto decision = (*policy)->admit(state, pod, pod.containers[0]);
  ASSERT_TRUE(decision) << decision.error().toString();
  state = policies::applyDecision(state, *decision);
  int node = -1;
  for (const auto& numa : t.numaNodes()) {
    if (numa.cpus.contains(decision->allocation.exclusive_cpus.first())) node = numa.id;
  }
  ASSERT_GE(node, 0);
  auto before = policies::nodeResourceZones(t, State{}, options, CpuSet{0, 40});
  auto after = policies::nodeResourceZones(t, state, options, CpuSet{0, 40});
  EXPECT_EQ(resource(after, node, "cpu").available, resource(before, node, "cpu").available - 4);
  EXPECT_EQ(resource(after, node, "memory").available,
            resource(before, node, "memory").available - static_cast<int64_t>(8 * kGiB));
  EXPECT_EQ(resource(after, 1 - node, "cpu").available, resource(before, 1 - node, "cpu").available);
  EXPECT_EQ(resource(after, node, "cpu").allocatable, resource(before, node, "cpu").allocatable);
}

// Under topology-aware the published zones count what that policy admits, not what the kubelet
// policies would: its own reserved-CPU pick, isolated CPUs kept from ordinary pods (memory less
// the huge page pools, as under the kubelet policies). The largest container it admits on one
// node is exactly the largest `available` of any zone, for cpu and for memory.
// Without reserved CPUs (vm-1s-8c-nosmt, reserved 0) the policy keeps one CPU for the shared pool,
// which the zone's `available` says too.
TEST(NrtViewTest, TopologyAwareZonesAreWhatItsAdmissionGives) {
  struct Case {
    std::string fixture;
    std::string resource;
    int reserved = 3;  // an odd count: the pick splits a core
  };
  for (const Case& c :
       {Case{"intel-2s-8c-isolated", "cpu"}, Case{"intel-2s-2x20c-smt2", "cpu"}, Case{"intel-2s-2x20c-smt2", "memory"},
        Case{"amd-epyc-1s-64c-smt2-nps4", "memory"}, Case{"vm-1s-8c-nosmt", "cpu", 0}}) {
    SCOPED_TRACE(c.fixture + " " + c.resource + " reserved " + std::to_string(c.reserved));
    auto t = fixture(c.fixture == "intel-2s-8c-isolated" ? "intel-2s-2x8c-smt2-isolated-offline" : c.fixture);
    PolicyOptions options;
    options.policy = "topology-aware";
    options.reserved_cpu_count = c.reserved;
    options.topology_manager.policy = policies::TopologyManagerPolicy::SingleNumaNode;
    options.reserved_memory[t.numaNodes().front().id]["memory"] = 2 * kGiB;
    auto policy = policies::makePolicy(t, options);
    ASSERT_TRUE(policy) << policy.error().toString();
    auto reserved = policies::resolveReservedCpus(t, options);
    ASSERT_TRUE(reserved) << reserved.error().toString();
    EXPECT_EQ(*reserved, (*policy)->reservedCpus());
    auto zones = policies::nodeResourceZones(t, State{}, options, *reserved);
    int64_t largest = 0;
    for (std::size_t n = 0; n < zones.size(); ++n) {
      if (!t.numaNodes()[n].cpus.empty())
        largest = std::max(largest, resource(zones, static_cast<int>(n), c.resource).available);
    }
    ASSERT_GT(largest, 0);
    auto admits = [&](int64_t amount) {
      auto pod = c.resource == "cpu" ? guaranteedPod("p", static_cast<int>(amount), kGiB)
                                     : guaranteedPod("p", 1, static_cast<uint64_t>(amount));
      return (*policy)->admit(State{}, pod, pod.containers[0]).has_value();
    };
    EXPECT_TRUE(admits(largest)) << largest;
    EXPECT_FALSE(admits(largest + (c.resource == "cpu" ? 1 : int64_t{1} << 20))) << largest;
  }
}

// The scheduler's single-numa-node Filter at container scope, as the plugin applies it to the
// published object: a Guaranteed container fits when one zone has cpu and memory available.
bool filterFits(const std::vector<topology::Zone>& zones, int cpus, uint64_t memory) {
  for (std::size_t n = 0; n < zones.size(); ++n) {
    if (resource(zones, static_cast<int>(n), "cpu").available >= cpus &&
        resource(zones, static_cast<int>(n), "memory").available >= static_cast<int64_t>(memory)) {
      return true;
    }
  }
  return false;
}

// Random pod streams: the published view and topod's own admission agree on every Guaranteed
// container (fits on the scheduler's side exactly when the policy admits it).
TEST(NrtViewTest, SchedulerFilterAgreesWithAdmission) {
  for (bool memory_manager : {false, true}) {
    auto t = fixture("intel-2s-2x20c-smt2");
    PolicyOptions options = singleNumaStatic(memory_manager);
    auto policy = policies::makePolicy(t, options);
    ASSERT_TRUE(policy) << policy.error().toString();
    State state;
    std::mt19937 random(memory_manager ? 11 : 12);
    std::vector<std::string> live;
    int agreed = 0;
    int admitted = 0;
    int releases = 0;
    int steps = 400;
    for (int step = 0; step < steps; ++step) {
      if (!live.empty() && random() % 3 == 0) {
        ++releases;
        std::size_t victim = random() % live.size();
        state = policies::releaseContainer(state, {.pod_uid = live[victim], .container_name = "c"});
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(victim));
        continue;
      }
      int cpus = 1 + static_cast<int>(random() % 12);
      uint64_t memory = (1 + random() % 64) * kGiB;
      auto zones = policies::nodeResourceZones(t, state, options, CpuSet{0, 40});
      bool fits = filterFits(zones, cpus, memory_manager ? memory : 0);
      std::string uid = "p" + std::to_string(step);
      auto pod = guaranteedPod(uid, cpus, memory);
      auto decision = (*policy)->admit(state, pod, pod.containers[0]);
      EXPECT_EQ(fits, decision.has_value())
          << "step " << step << ": " << cpus << " cpus, " << memory / kGiB
          << " GiB; policy: " << (decision ? std::string("admitted") : decision.error().message());
      if (fits == decision.has_value()) ++agreed;
      if (decision) {
        ++admitted;
        state = policies::applyDecision(state, *decision);
        live.push_back(uid);
      }
    }
    EXPECT_GT(admitted, 20) << "the stream exercised admissions";
    EXPECT_LT(admitted, steps) << "and refusals";
    RecordProperty(memory_manager ? "agreed_with_memory_manager" : "agreed", agreed);
    std::printf("agreement (container scope, memory manager %s): %d of %d pods, %d admitted\n",
                memory_manager ? "static" : "none", agreed, steps - releases, admitted);
  }
}

// Pod scope: a Guaranteed pod of 1-3 app containers fits when one zone has the whole pod's cpu
// (the plugin's pod-scope Filter); topod must admit every container of it exactly then.
TEST(NrtViewTest, SchedulerFilterAgreesWithAdmissionAtPodScope) {
  auto t = fixture("intel-2s-2x20c-smt2");
  PolicyOptions options = singleNumaStatic(false);
  options.topology_manager.scope = policies::TopologyManagerScope::Pod;
  auto policy = policies::makePolicy(t, options);
  ASSERT_TRUE(policy) << policy.error().toString();
  State state;
  std::mt19937 random(21);
  std::vector<PodRequest> live;
  int agreed = 0;
  int admitted = 0;
  int releases = 0;
  const int steps = 300;
  for (int step = 0; step < steps; ++step) {
    if (!live.empty() && random() % 3 == 0) {
      ++releases;
      std::size_t victim = random() % live.size();
      for (const auto& c : live[victim].containers) {
        state = policies::releaseContainer(state, {.pod_uid = live[victim].uid, .container_name = c.name});
      }
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(victim));
      continue;
    }
    PodRequest pod{.uid = "p" + std::to_string(step), .namespace_name = "default", .name = "p" + std::to_string(step)};
    int total = 0;
    int count = 1 + static_cast<int>(random() % 3);
    for (int i = 0; i < count; ++i) {
      int cpus = 1 + static_cast<int>(random() % 6);
      total += cpus;
      pod.containers.push_back({.name = "c" + std::to_string(i),
                                .cpu_request_millis = 1000LL * cpus,
                                .cpu_limit_millis = 1000LL * cpus,
                                .memory_request_bytes = kGiB,
                                .memory_limit_bytes = kGiB});
    }
    pod.qos = policies::computeQosClass(pod.containers);
    auto zones = policies::nodeResourceZones(t, state, options, CpuSet{0, 40});
    bool fits = filterFits(zones, total, 0);
    State next = state;
    bool all = true;
    for (const auto& c : pod.containers) {
      auto decision = (*policy)->admit(next, pod, c);
      if (!decision) {
        all = false;
        break;
      }
      next = policies::applyDecision(next, *decision);
    }
    EXPECT_EQ(fits, all) << "step " << step << ": " << count << " containers, " << total << " cpus";
    if (fits == all) ++agreed;
    if (all) {
      ++admitted;
      state = next;
      live.push_back(pod);
    }
  }
  EXPECT_GT(admitted, 20);
  EXPECT_LT(admitted, steps);
  RecordProperty("agreed_pod_scope", agreed);
  std::printf("agreement (pod scope): %d of %d pods, %d admitted\n", agreed, steps - releases, admitted);
}

}  // namespace
}  // namespace topod::kube
