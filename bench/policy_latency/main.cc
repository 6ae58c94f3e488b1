// Decision latency of the policies (issue 4 item 10): p50/p99 of Policy::admit() on a
// 2-socket, 8-NUMA, 512-PU machine already holding 0, 1,000 and 5,000 containers.
// Target: p99 < 50 us with 5,000 containers. Prints one table row per (policy, containers).
//
//   build/bench/policy_latency_bench [--samples N]
//
// The existing containers are placed by the policy itself, as the agent would: one in ten is a
// Guaranteed 2-CPU container (exclusive CPUs while they last), the rest Burstable with 250m.
// Each sample times one admit() of a new container (alternating Guaranteed 2-CPU and Burstable
// 500m) against that State; the decision is not applied, so every sample sees the same State.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "policies/policy_registry.h"
#include "topology/model.h"

namespace {

using topod::CpuSet;
using namespace topod::policies;

constexpr uint64_t kGiB = 1ULL << 30;

// 2 packages x 4 NUMA nodes x 32 cores x 2 threads = 512 PUs; one L3 per NUMA node, 128 GiB per
// node, SLIT distances 10 local / 12 same package / 32 remote package. CPU numbering as Linux
// does on such machines: first threads 0-255, their siblings 256-511.
topod::topology::Topology machine512() {
  topod::topology::TopologyBuilder b;
  constexpr int kNodes = 8;
  constexpr int kCoresPerNode = 32;
  constexpr int kCores = kNodes * kCoresPerNode;
  for (int core = 0; core < kCores; ++core) {
    int node = core / kCoresPerNode;
    for (int thread = 0; thread < 2; ++thread) {
      b.addCpu({.id = core + thread * kCores, .package = node / 4, .die = 0, .core_id = core % 128, .l3 = node,
                .numa = node});
    }
  }
  std::vector<std::vector<int>> distances(kNodes, std::vector<int>(kNodes));
  for (int i = 0; i < kNodes; ++i) {
    b.addNumaNode({.id = i, .memory_bytes = 128 * kGiB, .hugepages = {}, .kind = topod::topology::MemoryKind::Dram});
    for (int j = 0; j < kNodes; ++j) distances[i][j] = i == j ? 10 : (i / 4 == j / 4 ? 12 : 32);
  }
  b.setDistances(distances);
  return b.build().value();
}

ContainerRequest container(const std::string& name, int64_t cpu_millis, bool guaranteed) {
  ContainerRequest c;
  c.name = name;
  c.cpu_request_millis = cpu_millis;
  c.memory_request_bytes = kGiB / 4;
  if (guaranteed) {
    c.cpu_limit_millis = cpu_millis;
    c.memory_limit_bytes = kGiB / 4;
  }
  return c;
}

PodRequest pod(const std::string& uid, const ContainerRequest& c, bool guaranteed) {
  return PodRequest{.uid = uid, .namespace_name = "bench", .name = uid,
                    .qos = guaranteed ? topod::QosClass::Guaranteed : topod::QosClass::Burstable, .annotations = {},
                    .containers = {c}};
}

// Fills the State in place (applyDecision copies the State; the agent commits one at a time).
int populate(const Policy& policy, State& state, int count) {
  int exclusive = 0;
  for (int i = 0; i < count; ++i) {
    bool guaranteed = i % 10 == 0;
    ContainerRequest c = container("c", guaranteed ? 2000 : 250, guaranteed);
    PodRequest p = pod("existing-" + std::to_string(i), c, guaranteed);
    auto decision = policy.admit(state, p, c);
    if (!decision.has_value()) {
      // Out of exclusive CPUs: the rest become Burstable, as a full node would see.
      c = container("c", 250, false);
      p = pod(p.uid, c, false);
      decision = policy.admit(state, p, c);
    }
    if (!decision.has_value()) {
      std::fprintf(stderr, "populate: %s\n", decision.error().toString().c_str());
      std::exit(1);
    }
    if (!decision->allocation.exclusive_cpus.empty()) ++exclusive;
    state.put(decision->key, decision->allocation);
  }
  return exclusive;
}

double percentile(std::vector<double>& sorted, double p) {
  std::size_t index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

}  // namespace

int main(int argc, char** argv) {
  int samples = 2000;
  if (argc == 3 && std::string(argv[1]) == "--samples") samples = std::max(10, std::atoi(argv[2]));
  const topod::topology::Topology topology = machine512();
  std::printf("machine: %d PUs, %zu NUMA nodes, %zu packages; %d samples per row\n", topology.onlineCpus().size(),
              topology.numaNodes().size(), topology.packages().size(), samples);
  std::printf("%-16s %10s %10s %10s %10s %10s\n", "policy", "containers", "exclusive", "p50_us", "p99_us", "max_us");
  for (const PolicyInfo& info : knownPolicies()) {
    PolicyOptions options;
    options.policy = std::string(info.name);
    options.reserved_cpus = CpuSet{0, 256};
    auto policy = makePolicy(topology, options);
    if (!policy.has_value()) {
      std::fprintf(stderr, "%s: %s\n", std::string(info.name).c_str(), policy.error().toString().c_str());
      return 1;
    }
    for (int count : {0, 1000, 5000}) {
      State state;
      int exclusive = populate(**policy, state, count);
      std::vector<double> micros;
      micros.reserve(static_cast<std::size_t>(samples));
      for (int i = 0; i < samples; ++i) {
        bool guaranteed = i % 2 == 0;
        ContainerRequest c = container("new", guaranteed ? 2000 : 500, guaranteed);
        PodRequest p = pod("new-" + std::to_string(i), c, guaranteed);
        auto start = std::chrono::steady_clock::now();
        auto decision = (*policy)->admit(state, p, c);
        auto end = std::chrono::steady_clock::now();
        if (!decision.has_value() && guaranteed && exclusive == 0) {
          std::fprintf(stderr, "%s: admit failed: %s\n", std::string(info.name).c_str(),
                       decision.error().toString().c_str());
          return 1;
        }
        micros.push_back(std::chrono::duration<double, std::micro>(end - start).count());
      }
      std::sort(micros.begin(), micros.end());
      std::printf("%-16s %10d %10d %10.1f %10.1f %10.1f\n", std::string(info.name).c_str(), count, exclusive,
                  percentile(micros, 0.50), percentile(micros, 0.99), micros.back());
      std::fflush(stdout);
    }
  }
  return 0;
}
