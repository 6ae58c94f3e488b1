// Decision latency of the policies (issue 4 item 10, issue 17 item 10): p50/p99 of
// Policy::admit() on 512-PU machines of 8, 16, 32 and 64 NUMA nodes already holding 0, 1,000
// and 5,000 containers. Targets: p99 < 50 us with 5,000 containers on 8 nodes; Guaranteed
// admission p99 < 100 us on 64 nodes. Prints one table row per (machine, policy, containers),
// the same percentiles for the Guaranteed and the Burstable samples alone (their costs differ by
// orders of magnitude, so the mixed p50 says little), and the cost of placements() and
// sharedCpus(), which the agent calls after every change.
//
//   build/bench/policy_latency_bench [--samples N] [--policy NAME] [--containers N] [--numa N] [--fill]
//
// --numa picks one machine (8, 16, 32 or 64 NUMA nodes; default: all four, in that order). The
// static policy runs twice: with the memory manager off (its default) and with the Static
// memory manager ("static+memory"), so that every hint provider is timed. The topology
// manager's max_allowable_numa_nodes is raised to the machine's node count.
//
// The existing containers are placed by the policy itself, as the agent would: one in ten is a
// Guaranteed 2-CPU container, the rest Burstable with 250m. Guaranteed ones stop while 64
// exclusive CPUs are still free, so that every Guaranteed sample is admitted (a refusal is cheap
// and would flatter the figure); with --fill they take exclusive CPUs while they last, as the
// first version of this bench did (at 5,000 containers every Guaranteed sample is then refused).
// Each sample times one admit() of a new container (alternating Guaranteed 2-CPU and Burstable
// 500m) against that State; the decision is not applied, so every sample sees the same State.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "policies/policy_registry.h"
#include "topology/model.h"

namespace {

using topod::CpuSet;
using namespace topod::policies;

constexpr uint64_t kGiB = 1ULL << 30;

// 512 PUs in `packages` packages of `nodes_per_package` NUMA nodes each, 2 threads per core; one
// L3 per NUMA node, 1 TiB of memory split evenly over the nodes, SLIT distances 10 local / 12
// same package / 32 remote package. CPU numbering as Linux does on such machines: first threads
// 0-255, their siblings 256-511. 8 nodes: 2 x 4 x 32 cores (the machine of issue 4); 16: 4 x 4
// x 16; 32: 8 x 4 x 8 (sub-NUMA clustering on 8 sockets); 64: 8 x 8 x 4.
topod::topology::Topology machine512(int packages, int nodes_per_package) {
  topod::topology::TopologyBuilder b;
  const int nodes = packages * nodes_per_package;
  constexpr int kCores = 256;
  const int cores_per_node = kCores / nodes;
  for (int core = 0; core < kCores; ++core) {
    int node = core / cores_per_node;
    for (int thread = 0; thread < 2; ++thread) {
      b.addCpu({.id = core + thread * kCores,
                .package = node / nodes_per_package,
                .die = 0,
                .core_id = core % (kCores / packages),
                .l3 = node,
                .numa = node});
    }
  }
  std::vector<std::vector<int>> distances(static_cast<std::size_t>(nodes),
                                          std::vector<int>(static_cast<std::size_t>(nodes)));
  for (int i = 0; i < nodes; ++i) {
    b.addNumaNode({.id = i,
                   .memory_bytes = 1024 * kGiB / static_cast<uint64_t>(nodes),
                   .hugepages = {},
                   .kind = topod::topology::MemoryKind::Dram});
    for (int j = 0; j < nodes; ++j) {
      distances[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)] =
          i == j ? 10 : (i / nodes_per_package == j / nodes_per_package ? 12 : 32);
    }
  }
  b.setDistances(distances);
  return b.build().value();
}

topod::topology::Topology machineWithNodes(int nodes) {
  switch (nodes) {
    case 16: return machine512(4, 4);
    case 32: return machine512(8, 4);
    case 64: return machine512(8, 8);
    default: return machine512(2, 4);
  }
}

// The existing containers ask for 128 MiB each, so 5,000 of them (625 GiB) fit the machine's
// 1 TiB and the samples (256 MiB) are admitted rather than refused for memory.
ContainerRequest container(const std::string& name, int64_t cpu_millis, bool guaranteed, uint64_t memory = kGiB / 4) {
  ContainerRequest c;
  c.name = name;
  c.cpu_request_millis = cpu_millis;
  c.memory_request_bytes = memory;
  if (guaranteed) {
    c.cpu_limit_millis = cpu_millis;
    c.memory_limit_bytes = memory;
  }
  return c;
}

PodRequest pod(const std::string& uid, const ContainerRequest& c, bool guaranteed) {
  return PodRequest{.uid = uid,
                    .namespace_name = "bench",
                    .name = uid,
                    .qos = guaranteed ? topod::QosClass::Guaranteed : topod::QosClass::Burstable,
                    .annotations = {},
                    .containers = {c}};
}

// Exclusive CPUs left free for the samples unless --fill: a quarter of a package.
constexpr int kKeepFreeCpus = 64;

// Fills the State in place (applyDecision copies the State; the agent commits one at a time).
int populate(const Policy& policy, State& state, int count, int exclusive_capacity) {
  int exclusive = 0;
  int exclusive_cpus = 0;
  for (int i = 0; i < count; ++i) {
    bool guaranteed = i % 10 == 0 && exclusive_cpus + 2 <= exclusive_capacity;
    ContainerRequest c = container("c", guaranteed ? 2000 : 250, guaranteed, kGiB / 8);
    PodRequest p = pod("existing-" + std::to_string(i), c, guaranteed);
    auto decision = policy.admit(state, p, c);
    if (!decision.has_value()) {
      // Out of exclusive CPUs: the rest become Burstable, as a full node would see.
      c = container("c", 250, false, kGiB / 8);
      p = pod(p.uid, c, false);
      decision = policy.admit(state, p, c);
    }
    if (!decision.has_value()) {
      std::fprintf(stderr, "populate: %s\n", decision.error().toString().c_str());
      std::exit(1);
    }
    if (!decision->allocation.exclusive_cpus.empty()) ++exclusive;
    exclusive_cpus += decision->allocation.exclusive_cpus.size();
    state.put(decision->key, decision->allocation);
  }
  return exclusive;
}

double percentile(const std::vector<double>& sorted, double p) {
  std::size_t index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

void printRow(const std::string& label, int count, int exclusive, std::vector<double> micros, int admitted = -1) {
  std::sort(micros.begin(), micros.end());
  std::string admitted_text = admitted < 0 ? "-" : std::to_string(admitted);
  std::printf("%-30s %10d %10d %10.1f %10.1f %10.1f %9s\n", label.c_str(), count, exclusive, percentile(micros, 0.50),
              percentile(micros, 0.99), micros.back(), admitted_text.c_str());
}

template <typename Fn>
double microsOf(Fn&& fn) {
  auto start = std::chrono::steady_clock::now();
  fn();
  auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::micro>(end - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int samples = 2000;
  std::string only_policy;
  int only_count = -1;
  int only_numa = -1;
  bool fill = false;
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (flag != "--fill" && i + 1 >= argc) flag = "";  // a flag without its value
    if (flag == "--samples") {
      samples = std::max(10, std::atoi(argv[i + 1]));
    } else if (flag == "--policy") {
      only_policy = argv[i + 1];
    } else if (flag == "--containers") {
      only_count = std::atoi(argv[i + 1]);
    } else if (flag == "--numa") {
      only_numa = std::atoi(argv[i + 1]);
    } else if (flag == "--fill") {
      fill = true;
      --i;  // takes no value
    } else {
      std::fprintf(stderr, "usage: %s [--samples N] [--policy NAME] [--containers N] [--numa 8|16|32|64] [--fill]\n",
                   argv[0]);
      return 2;
    }
  }
  std::printf("%-30s %10s %10s %10s %10s %10s %9s\n", "policy", "containers", "exclusive", "p50_us", "p99_us", "max_us",
              "admitted");
  // The machine's own noise: a fixed computation of about the size of a decision, timed like
  // one. Its p99 above its p50 is what interrupts and other tenants add to every row below.
  {
    std::vector<double> calibration;
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < samples; ++i) {
      calibration.push_back(microsOf([&] {
        for (int step = 0; step < 5000; ++step) {  // xorshift64: no memory traffic, no branches to mispredict
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
        }
      }));
    }
    if (x == 0) std::printf("(calibration sink)\n");
    printRow("calibration (fixed work)", 0, 0, calibration);
  }
  for (int numa : {8, 16, 32, 64}) {
    if (only_numa >= 0 && numa != only_numa) continue;
    const topod::topology::Topology topology = machineWithNodes(numa);
    std::printf("machine: %d PUs, %zu NUMA nodes, %zu packages; %d samples per row\n", topology.onlineCpus().size(),
                topology.numaNodes().size(), topology.packages().size(), samples);
    std::fflush(stdout);
    // The static policy with the memory manager off, then with the Static memory manager.
    std::vector<std::pair<std::string, bool>> variants;
    for (const PolicyInfo& info : knownPolicies()) {
      variants.emplace_back(std::string(info.name), false);
      if (info.name == "static") variants.emplace_back(std::string(info.name), true);
    }
    for (const auto& [name, memory_static] : variants) {
      if (!only_policy.empty() && name != only_policy) continue;
      PolicyOptions options;
      options.policy = name;
      options.reserved_cpus = CpuSet{0, 256};
      options.topology_manager.max_allowable_numa_nodes = std::max(8, numa);
      if (memory_static) {
        options.memory_policy = MemoryManagerPolicy::Static;
        options.reserved_memory[0]["memory"] = kGiB;
      }
      const std::string label = memory_static ? name + "+memory" : name;
      auto policy = makePolicy(topology, options);
      if (!policy.has_value()) {
        std::fprintf(stderr, "%s: %s\n", label.c_str(), policy.error().toString().c_str());
        return 1;
      }
      for (int count : {0, 1000, 5000}) {
        if (only_count >= 0 && count != only_count) continue;
        State state;
        const int exclusive_capacity =
            (topology.onlineCpus() - options.reserved_cpus).size() - (fill ? 0 : kKeepFreeCpus);
        int exclusive = populate(**policy, state, count, exclusive_capacity);
        std::vector<double> all;
        std::vector<double> by_kind[2];  // [0] Burstable, [1] Guaranteed
        int admitted[2] = {0, 0};
        all.reserve(static_cast<std::size_t>(samples));
        for (int i = 0; i < samples; ++i) {
          bool guaranteed = i % 2 == 0;
          ContainerRequest c = container("new", guaranteed ? 2000 : 500, guaranteed);
          PodRequest p = pod("new-" + std::to_string(i), c, guaranteed);
          topod::Result<Decision> decision = topod::Error::internal("not run");
          double micros = microsOf([&] { decision = (*policy)->admit(state, p, c); });
          if (!decision.has_value() && guaranteed && exclusive == 0) {
            std::fprintf(stderr, "%s: admit failed: %s\n", label.c_str(), decision.error().toString().c_str());
            return 1;
          }
          all.push_back(micros);
          by_kind[guaranteed ? 1 : 0].push_back(micros);
          if (decision.has_value()) ++admitted[guaranteed ? 1 : 0];
        }
        printRow(label, count, exclusive, all, admitted[0] + admitted[1]);
        printRow("  " + label + " G", count, exclusive, by_kind[1], admitted[1]);
        printRow("  " + label + " B", count, exclusive, by_kind[0], admitted[0]);
        // The agent's view after a change: fewer samples, these cost O(containers) by contract.
        const int view_samples = std::max(10, samples / 10);
        std::vector<double> placements;
        std::vector<double> shared;
        std::size_t sink = 0;
        for (int i = 0; i < view_samples; ++i) {
          placements.push_back(microsOf([&] { sink += (*policy)->placements(state).size(); }));
          shared.push_back(microsOf([&] { sink += static_cast<std::size_t>((*policy)->sharedCpus(state).size()); }));
        }
        if (sink == 0 && count > 0) std::fprintf(stderr, "%s: placements() returned nothing\n", label.c_str());
        printRow("  " + label + " placements()", count, exclusive, placements);
        printRow("  " + label + " sharedCpus()", count, exclusive, shared);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
