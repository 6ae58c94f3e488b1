// Placement-quality benchmark (issue 4 item 10): replays seeded random pod traces on several
// machine shapes through the registered "static" policy (the kubelet's CPU manager + topology
// manager, best-effort and single-numa-node) and through topod's "topology-aware" policy, and
// prints, per trace, how many Guaranteed pods were admitted and how many of them were
// NUMA-aligned, and how many containers (Guaranteed + Burstable) were aligned; on small machines
// also the best possible aligned Guaranteed count (exhaustive search over the whole trace).
// Output is a Markdown table; docs/policies/placement-quality.md holds a copy.
//
// Flags: --diff prints only the traces where topology-aware aligns fewer Guaranteed containers
// than the kubelet under the same setting (for studying losses); --summary only the per-machine
// summary; --seeds N replays N seeds per machine (default 5, the table in the docs).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench/placement_quality/replay.h"
#include "bench/placement_quality/traces.h"
#include "policies/policy_registry.h"
#include "tests/policies/topology_aware/shapes.h"

namespace {

using topod::CpuSet;
using topod::bench::Counts;
using topod::policies::testing::ShapeSpec;

struct Machine {
  std::string label;
  ShapeSpec shape;
  topod::bench::TraceShape trace;
  bool small = false;  // small enough for the exhaustive optimum
};

constexpr uint64_t kMemoryPerNode = uint64_t{256} << 30;  // not the binding constraint here

std::vector<Machine> machines() {
  topod::bench::TraceShape big{.sizes = {1, 2, 2, 3, 4, 4, 6, 8, 10, 12, 16}};
  topod::bench::TraceShape small{
      .events = 18, .remove_probability = 0.25, .burstable_share = 0.3, .gpu_share = 0.5, .sizes = {1, 2, 3, 4, 6}};
  auto shape = [](ShapeSpec s) {
    s.memory_per_node = kMemoryPerNode;
    return s;
  };
  return {
      {"2-socket SMT, 2x16c/32t", shape({.name = "a", .packages = 2, .cores_per_l3 = 16}), big},
      {"AMD-style, 2 NUMA x 4 L3 x 4c, SMT",
       shape({.name = "b", .nodes_per_package = 2, .l3_per_node = 4, .cores_per_l3 = 4}), big},
      {"SNC-2, 2 sockets x 2 NUMA x 12c, SMT",
       shape({.name = "c", .packages = 2, .nodes_per_package = 2, .cores_per_l3 = 12}), big},
      {"GPU server, 2x24c SMT, 4 GPUs/socket",
       shape({.name = "d", .packages = 2, .cores_per_l3 = 24, .gpus_per_node = 4}), big},
      {"4-socket, 4x8c SMT", shape({.name = "e", .packages = 4, .cores_per_l3 = 8}), big},
      {"small: 2 NUMA x 4c, SMT", shape({.name = "f", .packages = 2, .cores_per_l3 = 4}), small, true},
      {"small: 4 NUMA x 2c, SMT, 1 GPU/NUMA",
       shape({.name = "g", .packages = 4, .cores_per_l3 = 2, .gpus_per_node = 1}), small, true},
  };
}

// The policies compared, built through the registry exactly as the agent builds them, under two
// topology manager settings (container scope both): best-effort (the kubelet default when a
// topology manager is on: a container that fits no single NUMA node is admitted across several)
// and single-numa-node (such a container is refused). The kubelet is the registered "static"
// policy: static CPU manager, memory manager None (the kubelet default). topology-aware reads the
// same topology manager setting as its admission rule. Reserved CPUs: the SMT siblings of CPU 0,
// for every policy.
struct Setting {
  std::string label;
  topod::policies::TopologyManagerPolicy manager;
  std::unique_ptr<topod::policies::Policy> kubelet;
  std::unique_ptr<topod::policies::Policy> topology_aware;
};

topod::Result<std::unique_ptr<topod::policies::Policy>> build(const topod::topology::Topology& topology,
                                                              const CpuSet& reserved, const std::string& name,
                                                              topod::policies::TopologyManagerPolicy manager) {
  topod::policies::PolicyOptions options;
  options.policy = name;
  options.reserved_cpus = reserved;
  options.topology_manager.policy = manager;
  options.topology_manager.scope = topod::policies::TopologyManagerScope::Container;
  return topod::policies::makePolicy(topology, options);
}

topod::Result<std::vector<Setting>> settings(const topod::topology::Topology& topology, const CpuSet& reserved) {
  using topod::policies::TopologyManagerPolicy;
  std::vector<Setting> out;
  for (auto [label, manager] : {std::pair{"best-effort", TopologyManagerPolicy::BestEffort},
                                std::pair{"single-numa-node", TopologyManagerPolicy::SingleNumaNode}}) {
    auto kubelet = build(topology, reserved, "static", manager);
    if (!kubelet.has_value()) return kubelet.error();
    auto ta = build(topology, reserved, "topology-aware", manager);
    if (!ta.has_value()) return ta.error();
    out.push_back({label, manager, std::move(*kubelet), std::move(*ta)});
  }
  return out;
}

std::string cell(const Counts& c) {
  return std::to_string(c.guaranteed_admitted) + " / " + std::to_string(c.guaranteed_aligned);
}

std::string delta(int ours, int theirs) {
  char text[48];
  std::snprintf(text, sizeof text, "%+d (%+.0f%%)", ours - theirs, theirs > 0 ? 100.0 * (ours - theirs) / theirs : 0.0);
  return text;
}

double pct(int a, int b) {
  return b > 0 ? 100.0 * (a - b) / b : 0.0;
}

struct Totals {
  int traces = 0;
  int at_least = 0, strictly = 0;
  int ours = 0, theirs = 0;
  void add(int a, int b) {
    ++traces;
    at_least += a >= b ? 1 : 0;
    strictly += a > b ? 1 : 0;
    ours += a;
    theirs += b;
  }
  std::string summary() const {
    char text[160];
    std::snprintf(text, sizeof text, ">= on %d of %d traces, strictly more on %d; total %d vs %d (%+.1f%%)", at_least,
                  traces, strictly, ours, theirs, pct(ours, theirs));
    return text;
  }
};

struct Flags {
  bool diff_only = false;     // only the traces where topology-aware aligns fewer Guaranteed containers
  bool summary_only = false;  // only the per-machine summary
  unsigned seeds = 5;
};

// Per machine (and over all machines): topology-aware against the kubelet, same setting.
struct MachineTotals {
  std::string label;
  Totals g_be, g_snn, all_be, all_snn, cpus_be, cpus_snn;
  int optimum = -1;   // sum over the traces; small machines only
  int best_ours = 0;  // sum over the traces of the better topology-aware setting
};

std::string ratio(const Totals& t) {
  char text[96];
  std::snprintf(text, sizeof text, "%d / %d (%+.1f%%), >= on %d/%d, > on %d", t.theirs, t.ours, pct(t.ours, t.theirs),
                t.at_least, t.traces, t.strictly);
  return text;
}

int runTable(bool scheduler_filter, const Flags& flags) {
  if (!flags.summary_only) {
    std::printf(
        "| machine | seed | pods G / B | G adm / aligned, best-effort: kubelet | topology-aware | "
        "single-numa-node: kubelet | topology-aware | G optimum | G aligned, topology-aware vs kubelet: "
        "best-effort | single-numa-node | aligned G+B, best-effort: kubelet / topology-aware | "
        "single-numa-node: kubelet / topology-aware |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  }
  std::vector<MachineTotals> per_machine;
  MachineTotals all{.label = "all machines"};
  for (const Machine& machine : machines()) {
    MachineTotals mine{.label = machine.label};
    if (machine.small) mine.optimum = 0;
    topod::topology::Topology topology = topod::policies::testing::buildShape(machine.shape);
    CpuSet reserved = topology.siblingsOf(0);  // the kubelet needs reserved CPUs; all get the same
    auto compared = settings(topology, reserved);
    if (!compared.has_value()) {
      std::fprintf(stderr, "%s: %s\n", machine.label.c_str(), compared.error().toString().c_str());
      return 1;
    }
    topod::bench::TraceShape trace_shape = machine.trace;
    if (scheduler_filter) trace_shape.allocatable_cpus = (topology.onlineCpus() - reserved).size();
    for (unsigned seed = 1; seed <= flags.seeds; ++seed) {
      auto trace = topod::bench::makeTrace(topology, trace_shape, seed);
      std::vector<Counts> kubelet, ours;
      for (const Setting& setting : *compared) {
        kubelet.push_back(topod::bench::replayPolicy(topology, *setting.kubelet, trace));
        ours.push_back(topod::bench::replayPolicy(topology, *setting.topology_aware, trace));
      }
      const Counts &kb = kubelet[0], &ks = kubelet[1], &tb = ours[0], &ts = ours[1];
      int optimum = machine.small ? topod::bench::optimumAligned(topology, reserved, trace) : -1;
      for (MachineTotals* t : {&mine, &all}) {
        t->g_be.add(tb.guaranteed_aligned, kb.guaranteed_aligned);
        t->g_snn.add(ts.guaranteed_aligned, ks.guaranteed_aligned);
        t->all_be.add(tb.alignedContainers(), kb.alignedContainers());
        t->all_snn.add(ts.alignedContainers(), ks.alignedContainers());
        t->cpus_be.add(tb.guaranteed_aligned_cpus, kb.guaranteed_aligned_cpus);
        t->cpus_snn.add(ts.guaranteed_aligned_cpus, ks.guaranteed_aligned_cpus);
      }
      if (machine.small) {
        mine.optimum += optimum;
        mine.best_ours += std::max(tb.guaranteed_aligned, ts.guaranteed_aligned);
      }
      if (flags.summary_only) continue;
      if (flags.diff_only && tb.guaranteed_aligned >= kb.guaranteed_aligned &&
          ts.guaranteed_aligned >= ks.guaranteed_aligned) {
        continue;
      }
      std::printf("| %s | %u | %d / %d | %s | %s | %s | %s | %s | %s | %s | %d / %d | %d / %d |\n",
                  machine.label.c_str(), seed, tb.guaranteed_offered, tb.burstable_offered, cell(kb).c_str(),
                  cell(tb).c_str(), cell(ks).c_str(), cell(ts).c_str(),
                  machine.small ? std::to_string(optimum).c_str() : "-",
                  delta(tb.guaranteed_aligned, kb.guaranteed_aligned).c_str(),
                  delta(ts.guaranteed_aligned, ks.guaranteed_aligned).c_str(), kb.alignedContainers(),
                  tb.alignedContainers(), ks.alignedContainers(), ts.alignedContainers());
    }
    per_machine.push_back(mine);
  }
  per_machine.push_back(all);
  std::printf(
      "\nPer machine, %u seeds each; each cell: kubelet / topology-aware (difference), then on how many "
      "traces topology-aware is >= and >.\n\n",
      flags.seeds);
  std::printf(
      "| machine | G aligned, best-effort | G aligned, single-numa-node | CPUs of aligned G, best-effort | "
      "CPUs of aligned G, single-numa-node | aligned G+B, best-effort | aligned G+B, single-numa-node | "
      "G optimum / topology-aware (better setting) |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const MachineTotals& t : per_machine) {
    std::string optimum = t.optimum >= 0 ? std::to_string(t.optimum) + " / " + std::to_string(t.best_ours) : "-";
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", t.label.c_str(), ratio(t.g_be).c_str(),
                ratio(t.g_snn).c_str(), ratio(t.cpus_be).c_str(), ratio(t.cpus_snn).c_str(), ratio(t.all_be).c_str(),
                ratio(t.all_snn).c_str(), optimum.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--diff") {
      flags.diff_only = true;
    } else if (arg == "--summary") {
      flags.summary_only = true;
    } else if (arg == "--seeds" && i + 1 < argc) {
      flags.seeds = static_cast<unsigned>(std::max(1, std::atoi(argv[++i])));
    } else {
      std::fprintf(stderr, "usage: placement_quality_bench [--diff] [--summary] [--seeds N]\n");
      return 2;
    }
  }
  std::printf("## Scheduler-filtered traces (pods offered only while their CPU requests fit the node)\n\n");
  if (runTable(true, flags) != 0) return 1;
  std::printf("\n## Overloaded traces (every pod offered; the node refuses what does not fit)\n\n");
  return runTable(false, flags);
}
