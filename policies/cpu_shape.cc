#include "policies/cpu_shape.h"

#include <map>

namespace topod::policies {
namespace {

// Lists at most this many cores by name; a 64-CPU allocation names the counts only.
constexpr int kNamedCores = 8;

std::string plural(int count, const char* one, const char* many) {
  return std::to_string(count) + " " + (count == 1 ? one : many);
}

}  // namespace

std::string describeCpuShape(const topology::Topology& topology, const CpuSet& cpus) {
  if (cpus.empty()) return "no CPUs";
  std::string out = plural(cpus.size(), "CPU", "CPUs") + " " + cpus.toString();
  const CpuSet known = cpus & topology.onlineCpus();
  std::map<int, CpuSet> by_core;  // dense core index -> the CPUs of it in the set
  NodeSet numa;
  NodeSet packages;
  NodeSet l3;
  for (int cpu : known.toVector()) {
    by_core[topology.coreOf(cpu).index].insert(cpu);
    numa.insert(topology.numaOf(cpu));
    packages.insert(topology.packageOf(cpu));
    if (topology.l3Of(cpu) >= 0) l3.insert(topology.l3Of(cpu));
  }
  std::string whole;
  std::string partial;
  int whole_count = 0;
  int partial_threads = 0;
  int named = 0;
  for (const auto& [core, held] : by_core) {
    const CpuSet& siblings = topology.cores()[static_cast<std::size_t>(core)].cpus;
    const bool is_whole = held == siblings;
    std::string& list = is_whole ? whole : partial;
    if (named < kNamedCores) {
      if (!list.empty()) list += ", ";
      list += is_whole ? siblings.toString() : held.toString() + " of core " + siblings.toString();
      ++named;
    }
    if (is_whole) {
      ++whole_count;
    } else {
      partial_threads += held.size();
    }
  }
  out += ": ";
  if (whole_count > 0) out += plural(whole_count, "whole core", "whole cores") + " (" + whole + ")";
  if (partial_threads > 0) {
    if (whole_count > 0) out += " and ";
    out += plural(partial_threads, "thread", "threads") + " of partly held cores (" + partial + ")";
  }
  if (named < static_cast<int>(by_core.size())) out += ", ...";
  out += "; NUMA " + std::string(numa.size() == 1 ? "node " : "nodes ") + numa.toString();
  out += "; " + std::string(packages.size() == 1 ? "package " : "packages ") + packages.toString();
  if (!l3.empty()) out += "; L3 " + std::string(l3.size() == 1 ? "group " : "groups ") + l3.toString();
  const CpuSet unknown = cpus - known;
  if (!unknown.empty()) out += "; not online here: " + unknown.toString();
  return out;
}

}  // namespace topod::policies
