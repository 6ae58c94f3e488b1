// Placement-quality benchmark (issue 4 item 10): replays seeded random pod traces on several
// machine shapes through the kubelet's placement (static CPU manager + topology manager,
// best-effort and single-numa-node) and through topod's topology-aware policy, and prints, per
// trace, how many Guaranteed pods were admitted and how many of them were NUMA-aligned; on small
// machines also the best possible aligned count (exhaustive search over the whole trace).
// Output is a Markdown table; docs/policies/placement-quality.md holds a copy.
#include <cstdio>
#include <string>
#include <vector>

#include "bench/placement_quality/kubelet_baseline.h"
#include "bench/placement_quality/replay.h"
#include "bench/placement_quality/traces.h"
#include "policies/policy_registry.h"
#include "tests/policies/topology_aware/shapes.h"

namespace {

using topod::CpuSet;
using topod::policies::testing::ShapeSpec;

struct Machine {
  std::string label;
  ShapeSpec shape;
  topod::bench::TraceShape trace;
  bool small = false;  // small enough for the exhaustive optimum
};

constexpr uint64_t kMemoryPerNode = uint64_t{256} << 30;  // not the binding constraint here
constexpr unsigned kSeeds = 5;

std::vector<Machine> machines() {
  topod::bench::TraceShape big{.sizes = {1, 2, 2, 3, 4, 4, 6, 8, 10, 12, 16}};
  topod::bench::TraceShape small{.events = 18, .remove_probability = 0.25, .burstable_share = 0.3,
                                 .gpu_share = 0.5, .sizes = {1, 2, 3, 4, 6}};
  auto shape = [](ShapeSpec s) {
    s.memory_per_node = kMemoryPerNode;
    return s;
  };
  return {
      {"2-socket SMT, 2x16c/32t", shape({.name = "a", .packages = 2, .cores_per_l3 = 16}), big},
      {"AMD-style, 2 NUMA x 4 L3 x 4c, SMT", shape({.name = "b", .nodes_per_package = 2, .l3_per_node = 4, .cores_per_l3 = 4}), big},
      {"SNC-2, 2 sockets x 2 NUMA x 12c, SMT", shape({.name = "c", .packages = 2, .nodes_per_package = 2, .cores_per_l3 = 12}), big},
      {"GPU server, 2x24c SMT, 4 GPUs/socket", shape({.name = "d", .packages = 2, .cores_per_l3 = 24, .gpus_per_node = 4}), big},
      {"4-socket, 4x8c SMT", shape({.name = "e", .packages = 4, .cores_per_l3 = 8}), big},
      {"small: 2 NUMA x 4c, SMT", shape({.name = "f", .packages = 2, .cores_per_l3 = 4}), small, true},
      {"small: 4 NUMA x 2c, SMT, 1 GPU/NUMA", shape({.name = "g", .packages = 4, .cores_per_l3 = 2, .gpus_per_node = 1}), small, true},
  };
}

std::string cell(const topod::bench::Counts& c) {
  return std::to_string(c.guaranteed_admitted) + " / " + std::to_string(c.guaranteed_aligned);
}

}  // namespace

int runTable(bool scheduler_filter) {
  std::printf("| machine | seed | pods G / B | G adm / aligned: kubelet best-effort | kubelet single-numa | "
              "topology-aware | optimum | aligned containers (G+B): kubelet best-effort / single-numa / "
              "topology-aware | topology-aware vs best kubelet |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  int traces = 0, at_least = 0, strictly = 0, g_at_least = 0, g_strictly = 0;
  int total_ta = 0, total_kubelet = 0, g_total_ta = 0, g_total_kubelet = 0;
  for (const Machine& machine : machines()) {
    topod::topology::Topology topology = topod::policies::testing::buildShape(machine.shape);
    CpuSet reserved = topology.siblingsOf(0);  // the kubelet needs reserved CPUs; both get the same
    topod::policies::PolicyOptions options;
    options.policy = "topology-aware";
    options.reserved_cpus = reserved;
    auto policy = topod::policies::makePolicy(topology, options);
    if (!policy.has_value()) {
      std::fprintf(stderr, "%s: %s\n", machine.label.c_str(), policy.error().toString().c_str());
      return 1;
    }
    topod::bench::KubeletBaseline best_effort(topology, reserved, false);
    topod::bench::KubeletBaseline single_numa(topology, reserved, true);
    topod::bench::TraceShape trace_shape = machine.trace;
    if (scheduler_filter) trace_shape.allocatable_cpus = (topology.onlineCpus() - reserved).size();
    for (unsigned seed = 1; seed <= kSeeds; ++seed) {
      auto trace = topod::bench::makeTrace(topology, trace_shape, seed);
      auto ta = topod::bench::replayPolicy(topology, **policy, trace);
      auto kb = topod::bench::replayKubelet(topology, best_effort, trace);
      auto ks = topod::bench::replayKubelet(topology, single_numa, trace);
      int best_kubelet = std::max(kb.alignedContainers(), ks.alignedContainers());
      int delta = ta.alignedContainers() - best_kubelet;
      int g_best = std::max(kb.guaranteed_aligned, ks.guaranteed_aligned);
      std::string optimum = machine.small ? std::to_string(topod::bench::optimumAligned(topology, reserved, trace)) : "-";
      std::printf("| %s | %u | %d / %d | %s | %s | %s | %s | %d / %d / %d | %+d (%+.0f%%) |\n", machine.label.c_str(),
                  seed, ta.guaranteed_offered, ta.burstable_offered, cell(kb).c_str(), cell(ks).c_str(),
                  cell(ta).c_str(), optimum.c_str(), kb.alignedContainers(), ks.alignedContainers(),
                  ta.alignedContainers(), delta, best_kubelet > 0 ? 100.0 * delta / best_kubelet : 0.0);
      ++traces;
      at_least += delta >= 0 ? 1 : 0;
      strictly += delta > 0 ? 1 : 0;
      g_at_least += ta.guaranteed_aligned >= g_best ? 1 : 0;
      g_strictly += ta.guaranteed_aligned > g_best ? 1 : 0;
      total_ta += ta.alignedContainers();
      total_kubelet += best_kubelet;
      g_total_ta += ta.guaranteed_aligned;
      g_total_kubelet += g_best;
    }
  }
  auto pct = [](int a, int b) { return b > 0 ? 100.0 * (a - b) / b : 0.0; };
  std::printf("\nTraces: %d. Aligned containers (G+B): topology-aware >= best kubelet on %d, strictly more on %d; "
              "total %d vs %d (%+.1f%%).\n",
              traces, at_least, strictly, total_ta, total_kubelet, pct(total_ta, total_kubelet));
  std::printf("Guaranteed only: topology-aware >= best kubelet on %d, strictly more on %d; total %d vs %d (%+.1f%%).\n",
              g_at_least, g_strictly, g_total_ta, g_total_kubelet, pct(g_total_ta, g_total_kubelet));
  return 0;
}

int main() {
  std::printf("## Scheduler-filtered traces (pods offered only while their CPU requests fit the node)\n\n");
  if (runTable(true) != 0) return 1;
  std::printf("\n## Overloaded traces (every pod offered; the node refuses what does not fit)\n\n");
  return runTable(false);
}
