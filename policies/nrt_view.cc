#include "policies/nrt_view.h"

#include <algorithm>

#include "policies/static/cpu/static_cpu_policy.h"
#include "policies/topology_aware/node_usage.h"

namespace topod::policies {
namespace {

int64_t toInt64(uint64_t value) {
  return value > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(value);
}

// topology-aware keeps one CPU of the shared pool for itself when no reserved CPU is in that pool
// (none reserved, or strict-cpu-reservation): an exclusive container may take every free CPU of
// its node only while another node still has one (TopologyAwarePolicy::admitExclusive). So on
// each zone at most (all zones' free CPUs - 1) are available.
void keepOneSharedCpu(const topology::Topology& topology, const PolicyOptions& options, const CpuSet& reserved_cpus,
                      std::vector<topology::Zone>& zones) {
  const CpuSet shared_universe = topology.onlineCpus() - topology.isolatedCpus();
  if (!options.cpu.strict_cpu_reservation && reserved_cpus.intersects(shared_universe)) return;
  std::vector<topology::ZoneResource*> cpus;
  int64_t free = 0;
  for (topology::Zone& zone : zones) {
    for (topology::ZoneResource& resource : zone.resources) {
      if (resource.name != "cpu") continue;
      cpus.push_back(&resource);
      free += resource.available;
    }
  }
  const int64_t most = std::max<int64_t>(0, free - 1);
  for (topology::ZoneResource* resource : cpus) resource->available = std::min(resource->available, most);
}

}  // namespace

Result<CpuSet> resolveReservedCpus(const topology::Topology& topology, const PolicyOptions& options) {
  if (!options.reserved_cpus.empty() || options.reserved_cpu_count <= 0) return options.reserved_cpus;
  if (options.policy == "topology-aware") {
    // Its own pick (whole cores from the lowest node up), which need not be the static one's.
    auto pools = topology_aware::makePools(topology, options);
    if (!pools) return pools.error();
    return pools->reserved;
  }
  auto cpu = cpu::StaticCpuPolicy::create(topology, options);
  if (!cpu) return cpu.error();
  return cpu->reservedCpus();
}

std::vector<topology::Zone> nodeResourceZones(const topology::Topology& topology, const State& state,
                                              const PolicyOptions& options, const CpuSet& reserved_cpus,
                                              const topology::ZoneSummaryOptions& names) {
  const bool topology_aware = options.policy == "topology-aware";
  topology::ZoneSummaryOptions summary = names;
  summary.reserved_cpus = reserved_cpus;
  // topology-aware gives isolated (isolcpus=) CPUs only to pods that ask for them by annotation,
  // never to an ordinary Guaranteed container: not allocatable for the scheduler.
  if (topology_aware) summary.reserved_cpus |= topology.isolatedCpus();
  summary.reserved.clear();
  summary.used.clear();
  for (const auto& [node, resources] : options.reserved_memory) {
    for (const auto& [resource, bytes] : resources) summary.reserved[node][resource] += toInt64(bytes);
  }
  const StateTotals& totals = state.totals();
  for (const topology::NumaNode& node : topology.numaNodes()) {
    // The kernel carves huge pages out of the node's memory: not allocatable as "memory". Both
    // policies subtract them (policies/static/memory/machine_state.cc, topology_aware::makePools),
    // so what they admit is what is published.
    int64_t hugepage_bytes = 0;
    for (const auto& [size, pages] : node.hugepages) hugepage_bytes += toInt64(size * pages);
    if (hugepage_bytes > 0) summary.reserved[node.id]["memory"] += hugepage_bytes;
  }
  for (const topology::NumaNode& node : topology.numaNodes()) {
    int held = (totals.exclusive_cpus & node.cpus).size();
    if (held > 0) summary.used[node.id]["cpu"] = held;
  }
  const NumaMemory* charged = nullptr;
  if (topology_aware) {
    charged = &totals.memory;
  } else if (options.memory_policy == MemoryManagerPolicy::Static) {
    charged = &totals.pinned_memory;
  }
  if (charged != nullptr) {
    for (const auto& [node, resources] : *charged) {
      for (const auto& [resource, bytes] : resources) summary.used[node][resource] += toInt64(bytes);
    }
  }
  for (const auto& [key, allocation] : state.containers()) {
    for (const DeviceRequest& device : allocation.request.devices) {
      if (device.numa >= 0) ++summary.used[device.numa][device.resource];
    }
  }
  std::vector<topology::Zone> zones = topology::summarizeZones(topology, summary);
  if (topology_aware) keepOneSharedCpu(topology, options, reserved_cpus, zones);
  return zones;
}

}  // namespace topod::policies
