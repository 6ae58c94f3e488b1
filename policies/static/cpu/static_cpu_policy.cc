#include "policies/static/cpu/static_cpu_policy.h"

#include <string>
#include <utility>

#include "policies/static/cpu/cpu_allocator.h"

namespace topod::policies::cpu {

namespace {

constexpr std::string_view kSmtAlignmentPrefix = "SMT Alignment Error:";

Error bothOptions(std::string_view a, std::string_view b) {
  return Error::invalidArgument("static policy options " + std::string(a) + " and " + std::string(b) +
                                " can not be used at the same time");
}

Result<bool> parseBool(const std::string& name, const std::string& value) {
  // strconv.ParseBool's accepted spellings.
  for (const char* yes : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (value == yes) return true;
  }
  for (const char* no : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (value == no) return false;
  }
  return Error::invalidArgument("bad value for option \"" + name + "\": strconv.ParseBool: parsing \"" + value +
                                "\": invalid syntax");
}

bool isInit(const ContainerRequest& c) {
  return c.kind == ContainerKind::Init;
}

}  // namespace

Result<StaticCpuOptions> parseStaticCpuOptions(const std::map<std::string, std::string>& options) {
  StaticCpuOptions parsed;
  for (const auto& [name, value] : options) {
    bool* field = nullptr;
    if (name == kFullPcpusOnlyOption) field = &parsed.full_pcpus_only;
    if (name == kDistributeCpusAcrossNumaOption) field = &parsed.distribute_cpus_across_numa;
    if (name == kAlignBySocketOption) field = &parsed.align_by_socket;
    if (name == kDistributeCpusAcrossCoresOption) field = &parsed.distribute_cpus_across_cores;
    if (name == kStrictCpuReservationOption) field = &parsed.strict_cpu_reservation;
    if (name == kPreferAlignCpusByUncoreCacheOption) field = &parsed.prefer_align_cpus_by_uncorecache;
    if (field == nullptr) return Error::invalidArgument("unknown CPU Manager Policy option: \"" + name + "\"");
    auto flag = parseBool(name, value);
    if (!flag.has_value()) return flag.error();
    *field = *flag;
  }
  return parsed;
}

Status validateStaticCpuOptions(const StaticCpuOptions& options, const KubeletCpuTopology& topo,
                                TopologyManagerPolicy topology_manager_policy) {
  if (options.full_pcpus_only && options.distribute_cpus_across_cores) {
    return bothOptions(kFullPcpusOnlyOption, kDistributeCpusAcrossCoresOption);
  }
  if (options.distribute_cpus_across_numa && options.distribute_cpus_across_cores) {
    return bothOptions(kDistributeCpusAcrossNumaOption, kDistributeCpusAcrossCoresOption);
  }
  if (options.prefer_align_cpus_by_uncorecache && options.distribute_cpus_across_cores) {
    return bothOptions(kPreferAlignCpusByUncoreCacheOption, kDistributeCpusAcrossCoresOption);
  }
  if (options.prefer_align_cpus_by_uncorecache && options.distribute_cpus_across_numa) {
    return bothOptions(kPreferAlignCpusByUncoreCacheOption, kDistributeCpusAcrossNumaOption);
  }
  if (options.align_by_socket) {
    if (topology_manager_policy == TopologyManagerPolicy::SingleNumaNode) {
      // The kubelet's message, typo included, so log scrapers keep matching.
      return Error::invalidArgument("Topolgy manager single-numa-node policy is incompatible with CPUManager " +
                                    std::string(kAlignBySocketOption) + " policy option");
    }
    if (topo.numSockets() > topo.numNumaNodes()) {
      return Error::invalidArgument(
          "Align by socket is not compatible with hardware where number of sockets are more than number of NUMA");
    }
  }
  return okStatus();
}

Result<StaticCpuPolicy> StaticCpuPolicy::create(const topology::Topology& topology, const PolicyOptions& options) {
  return create(KubeletCpuTopology::fromTopology(topology), options);
}

Result<StaticCpuPolicy> StaticCpuPolicy::create(KubeletCpuTopology topology, const PolicyOptions& options) {
  TOPOD_RETURN_IF_ERROR(validateStaticCpuOptions(options.cpu, topology, options.topology_manager.policy));
  StaticCpuPolicy policy(std::move(topology), options.cpu);
  const CpuSet& all = policy.topo_.cpus();
  if (!options.reserved_cpus.empty()) {
    if (!options.reserved_cpus.isSubsetOf(all)) {
      return Error::invalidArgument("[cpumanager] reserved CPUs " + options.reserved_cpus.toString() +
                                    " are not all online (online: " + all.toString() + ")");
    }
    policy.reserved_ = options.reserved_cpus;
  } else if (options.reserved_cpu_count > 0) {
    // The kubelet picks the count with the policy's own take-by-topology.
    auto reserved = policy.takeByTopology(all, options.reserved_cpu_count);
    if (reserved.has_value()) policy.reserved_ = *reserved;
  }
  // A count given next to a list must agree with it; a count alone must be satisfiable.
  const int wanted = options.reserved_cpu_count > 0 ? options.reserved_cpu_count : options.reserved_cpus.size();
  if (policy.reserved_.size() != wanted) {
    return Error::invalidArgument("[cpumanager] unable to reserve the required amount of CPUs (size of " +
                                  policy.reserved_.toString() + " did not equal " + std::to_string(wanted) + ")");
  }
  for (int cpu : policy.reserved_) policy.reserved_physical_ |= policy.topo_.cpusInCore(policy.topo_.coreOf(cpu));
  return policy;
}

int StaticCpuPolicy::guaranteedCpus(const PodRequest& pod, const ContainerRequest& container) const {
  if (pod.qos != QosClass::Guaranteed) return 0;
  // Guaranteed means request == limit; a request left unset defaults to the limit.
  const int64_t millis = container.cpu_request_millis != 0 ? container.cpu_request_millis : container.cpu_limit_millis;
  constexpr int64_t kMillisPerCpu = 1000;
  if (millis <= 0 || millis % kMillisPerCpu != 0) return 0;
  return static_cast<int>(millis / kMillisPerCpu);
}

int StaticCpuPolicy::podGuaranteedCpus(const PodRequest& pod) const {
  int by_init = 0;
  int by_sidecars = 0;
  int by_apps = 0;
  for (const ContainerRequest& c : pod.containers) {
    if (c.cpu_request_millis == 0 && c.cpu_limit_millis == 0) continue;
    const int cpus = guaranteedCpus(pod, c);
    switch (c.kind) {
      case ContainerKind::Sidecar: by_sidecars += cpus; break;
      case ContainerKind::Init:
        // An init container runs next to the sidecars started before it.
        if (by_sidecars + cpus > by_init) by_init = by_sidecars + cpus;
        break;
      case ContainerKind::App: by_apps += cpus; break;
    }
  }
  const int long_running = by_apps + by_sidecars;
  return by_init > long_running ? by_init : long_running;
}

CpuSet StaticCpuPolicy::sharedPool(const State& state) const {
  CpuSet pool = topo_.cpus() - state.totals().exclusive_cpus;
  if (options_.strict_cpu_reservation) pool -= reserved_;
  return pool;
}

CpuSet StaticCpuPolicy::availableCpus(const State& state) const {
  return sharedPool(state) - reserved_;
}

CpuSet StaticCpuPolicy::reusableCpus(const State& state, const std::string& pod_uid) const {
  CpuSet from_init;
  CpuSet held_by_others;
  auto [first, last] = state.podContainers(pod_uid);
  for (auto it = first; it != last; ++it) {
    const ContainerAllocation& allocation = it->second;
    if (isInit(allocation.request)) {
      from_init |= allocation.exclusive_cpus;
    } else {
      held_by_others |= allocation.exclusive_cpus;
    }
  }
  return from_init - held_by_others;
}

Result<CpuSet> StaticCpuPolicy::takeByTopology(const CpuSet& available, int num_cpus) const {
  const CpuSortingStrategy strategy =
      options_.distribute_cpus_across_cores ? CpuSortingStrategy::Spread : CpuSortingStrategy::Packed;
  if (options_.distribute_cpus_across_numa) {
    const int group = options_.full_pcpus_only ? cpuGroupSize() : 1;
    return takeByTopologyNumaDistributed(topo_, available, num_cpus, group, strategy);
  }
  return takeByTopologyNumaPacked(topo_, available, num_cpus, strategy, options_.prefer_align_cpus_by_uncorecache);
}

Status StaticCpuPolicy::checkSmtAlignment(const State& state, int num_cpus, bool already_placed) const {
  if (!options_.full_pcpus_only) return okStatus();
  const int per_core = cpuGroupSize();
  if (per_core > 0 && num_cpus % per_core != 0) {
    return Error::invalidArgument(std::string(kSmtAlignmentPrefix) + " requested " + std::to_string(num_cpus) +
                                  " cpus not multiple cpus per core = " + std::to_string(per_core))
        .withReason(kSmtAlignmentErrorReason);
  }
  if (already_placed) return okStatus();
  // Siblings of reserved CPUs never count: a whole-core request must not land on them.
  const int available_physical = (sharedPool(state) - reserved_physical_).size();
  if (num_cpus > available_physical) {
    return Error::resourceExhausted(
               std::string(kSmtAlignmentPrefix) +
               " not enough free physical CPUs: available physical CPUs = " + std::to_string(available_physical) +
               ", requested CPUs = " + std::to_string(num_cpus) + ", CPUs per core = " + std::to_string(per_core))
        .withReason(kSmtAlignmentErrorReason);
  }
  return okStatus();
}

CpuSet StaticCpuPolicy::alignedCpus(const NodeSet& affinity, const CpuSet& allocatable) const {
  CpuSet aligned;
  if (options_.align_by_socket) {
    // align-by-socket widens the NUMA hint to the sockets those nodes belong to.
    CpuSet sockets_cpus;
    for (int cpu : topo_.cpusInNumaNodes(affinity)) sockets_cpus |= topo_.cpusInSocket(topo_.socketOf(cpu));
    return allocatable & sockets_cpus;
  }
  return allocatable & topo_.cpusInNumaNodes(affinity);
}

Result<CpuSet> StaticCpuPolicy::allocateCpus(const State& state, int num_cpus, const NodeSet& affinity,
                                             const CpuSet& reusable) const {
  const CpuSet allocatable = availableCpus(state) | reusable;
  CpuSet result;
  if (!affinity.empty()) {
    const CpuSet aligned = alignedCpus(affinity, allocatable);
    const int from_aligned = aligned.size() < num_cpus ? aligned.size() : num_cpus;
    auto taken = takeByTopology(aligned, from_aligned);
    if (!taken.has_value()) return taken.error();
    result = *taken;
  }
  auto rest = takeByTopology(allocatable - result, num_cpus - result.size());
  if (!rest.has_value()) return rest.error();
  return result | *rest;
}

Status StaticCpuPolicy::allocate(const State& state, const PodRequest& pod, const ContainerRequest& container,
                                 const TopologyHint& affinity, ContainerAllocation& allocation) const {
  const int num_cpus = guaranteedCpus(pod, container);
  allocation.exclusive_cpus.clear();
  if (num_cpus == 0) return okStatus();
  // A container already placed (a restart, a retried create) keeps its CPUs; full-pcpus-only
  // then only checks the request shape, its own CPUs need not be free.
  auto existing = state.containers().find(ContainerKey{pod.uid, container.name});
  if (existing != state.containers().end() && !existing->second.exclusive_cpus.empty()) {
    TOPOD_RETURN_IF_ERROR(checkSmtAlignment(state, num_cpus, /*already_placed=*/true));
    allocation.exclusive_cpus = existing->second.exclusive_cpus;
    return okStatus();
  }
  TOPOD_RETURN_IF_ERROR(checkSmtAlignment(state, num_cpus, /*already_placed=*/false));
  auto cpus = allocateCpus(state, num_cpus, affinity.affinity, reusableCpus(state, pod.uid));
  if (!cpus.has_value()) {
    return Error(cpus.error().code(), "cannot allocate " + std::to_string(num_cpus) + " exclusive CPUs to " +
                                          pod.namespace_name + "/" + pod.name + "/" + container.name + ": " +
                                          cpus.error().message());
  }
  allocation.exclusive_cpus = *cpus;
  return okStatus();
}

std::string StaticCpuPolicy::whyTheseCpus(const State& state, const PodRequest& pod, const ContainerRequest& container,
                                          const NodeSet& affinity, const CpuSet& chosen) const {
  auto existing = state.containers().find(ContainerKey{pod.uid, container.name});
  if (existing != state.containers().end() && existing->second.exclusive_cpus == chosen) {
    return "kept: the container already held them (a restart or a retried create keeps its CPUs)";
  }
  std::string why;
  const CpuSet reusable = reusableCpus(state, pod.uid);
  const CpuSet reused = chosen & reusable;
  if (!reused.empty()) why += "reuses " + reused.toString() + ", freed by the pod's init containers; ";
  const CpuSet allocatable = availableCpus(state) | reusable;
  if (affinity.empty()) {
    why += "no NUMA affinity: taken from all " + std::to_string(allocatable.size()) + " free CPUs";
  } else {
    const CpuSet aligned = alignedCpus(affinity, allocatable);
    why += "taken from the " + std::to_string(aligned.size()) + " free CPUs of " +
           (options_.align_by_socket ? "the sockets of NUMA " : "NUMA ") + affinity.toString() +
           " (the merged affinity)";
    const CpuSet outside = chosen - aligned;
    if (!outside.empty()) why += "; they were too few, so " + outside.toString() + " came from outside it";
  }
  why += "; rule: the kubelet's take-by-topology";
  if (options_.distribute_cpus_across_numa) {
    why += " (distribute-cpus-across-numa): spread evenly over the fewest NUMA nodes";
    if (options_.full_pcpus_only) why += " in whole cores";
    why += ", each node's share taken packed";
  } else if (options_.distribute_cpus_across_cores) {
    why +=
        " (distribute-cpus-across-cores): whole NUMA nodes or sockets while the request fills one, then one "
        "thread per core, sockets with the fewest free CPUs first";
  } else {
    why += ", packed: whole NUMA nodes or sockets while the request fills one, ";
    if (options_.prefer_align_cpus_by_uncorecache) why += "then whole uncore caches, ";
    why +=
        "then whole cores, then single CPUs; each time from the node, socket and core with the fewest free "
        "CPUs (so emptier ones stay whole for bigger requests), lowest id on a tie";
  }
  return why;
}

}  // namespace topod::policies::cpu
