// The kubelet's static CPU manager policy (pkg/kubelet/cm/cpumanager/policy_static.go), as a
// pure HintProvider named "cpu" that the kubelet-compatible engine composes with the memory
// manager and the topology manager. Everything is derived from the State it is handed; nothing
// is remembered between calls.
//
// Pools (the kubelet's type comment, in topod's terms):
//   - reserved:  CPUs never given to a container exclusively: the explicit reserved list, or the
//                reserved count taken by take-by-topology from all CPUs at construction (with
//                the policy's own options, exactly like the kubelet, e.g. {0,4} for 2 CPUs on a
//                4-core SMT-2 machine).
//   - exclusive: the CPUs held by containers that get exclusive CPUs (ContainerAllocation::
//                exclusive_cpus in the State).
//   - shared:    sharedPool(state) = online CPUs - exclusive CPUs of every container
//                (- reserved CPUs under strict-cpu-reservation). Every container without
//                exclusive CPUs runs here (the kubelet's "default cpuset").
//   - assignable: availableCpus(state) = shared - reserved: what exclusive allocations take from.
//
// Who is exclusive (guaranteedCpus): a container of a Guaranteed pod whose CPU request is a whole
// number of CPUs gets that many exclusive CPUs; everything else is shared.
//
// Invariants: no exclusive CPU is reserved; exclusive sets of different pods never overlap;
// shared pool and exclusive CPUs partition the online CPUs (minus reserved with strict
// reservation). Exception, as in the kubelet: the CPUs of a pod's (non-restartable) init
// containers stay recorded for them while the pod's later containers reuse them.
//
// Init-container reuse (the kubelet's cpusToReuse, derived from the State): the reusable CPUs of
// a pod are the exclusive CPUs of its init containers minus those of its app and sidecar
// containers. Later containers of the same pod may take them on top of availableCpus. Sidecars
// (restartable init containers) run alongside the app containers, so their CPUs are never
// reusable. Difference from the kubelet: the kubelet forgets a pod's reusable CPUs as soon as
// another pod allocates in between; deriving them from the State keeps them, which only ever
// reuses CPUs the pod itself still holds.
//
// Resize (issue 4 item 6). The kubelet of v1.33/v1.34 refuses in-place CPU resize of containers
// with exclusive CPUs; newer kubelets (alpha gate InPlacePodVerticalScalingExclusiveCPUs) grow by
// keeping every CPU and adding CPUs close to them, and shrink by keeping the CPUs allocated at
// admission. topod supports resize with these rules:
//   - grow: keeps every current CPU and adds new ones with the kubelet's resize accumulator
//     (takeByTopologyNumaPackedForResize: NUMA nodes, sockets, uncore caches and cores the
//     container already uses come first, whole cores before single threads); the kubelet's own
//     resize rows are ported. With distribute-cpus-across-numa the packed resize is used too
//     (the kubelet's distributed resize variant is not ported).
//   - shrink: the State keeps no admission baseline, so topod keeps CPUs on the NUMA nodes where
//     the container holds most CPUs (fewest NUMA nodes), whole cores first, and releases the rest.
//   - shared <-> exclusive (a Guaranteed container moving to or from a whole-CPU request): a
//     fresh allocation, or all CPUs released to the shared pool.
//   - refused (Error, old allocation untouched): not enough free CPUs to grow, a full-pcpus-only
//     request that is not whole cores (SMTAlignmentError), or a container not in the State.
//
// Options (StaticCpuOptions, the kubelet's --cpu-manager-policy-options): full-pcpus-only
// (requests must be whole cores: SMTAlignmentError otherwise), distribute-cpus-across-numa,
// align-by-socket (hints and alignment widen NUMA affinity to whole sockets),
// distribute-cpus-across-cores, strict-cpu-reservation, prefer-align-cpus-by-uncorecache.
// Incompatible combinations are refused at construction with the kubelet's messages.
//
// Thread-safety: immutable after create(); all methods are const and reentrant.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/cpuset.h"
#include "common/result.h"
#include "policies/policy_options.h"
#include "policies/request.h"
#include "policies/state.h"
#include "policies/static/cpu/cpu_accumulator.h"
#include "policies/static/cpu/kubelet_cpu_topology.h"
#include "policies/static/topology_hint.h"
#include "topology/model.h"

namespace topod::policies::cpu {

inline constexpr std::string_view kCpuResource = kResourceCpu;
// The admission reason the kubelet reports for full-pcpus-only violations; Error::reason() of
// the errors this policy returns for them.
inline constexpr std::string_view kSmtAlignmentErrorReason = "SMTAlignmentError";

// The kubelet's option names.
inline constexpr std::string_view kFullPcpusOnlyOption = "full-pcpus-only";
inline constexpr std::string_view kDistributeCpusAcrossNumaOption = "distribute-cpus-across-numa";
inline constexpr std::string_view kAlignBySocketOption = "align-by-socket";
inline constexpr std::string_view kDistributeCpusAcrossCoresOption = "distribute-cpus-across-cores";
inline constexpr std::string_view kStrictCpuReservationOption = "strict-cpu-reservation";
inline constexpr std::string_view kPreferAlignCpusByUncoreCacheOption = "prefer-align-cpus-by-uncorecache";

// Parses the kubelet's option map ({"full-pcpus-only": "true", ...}). Unknown names and values
// that are not booleans are errors with the kubelet's wording.
Result<StaticCpuOptions> parseStaticCpuOptions(const std::map<std::string, std::string>& options);

// The kubelet's checks of option combinations and of the options against the machine and the
// topology manager policy. InvalidArgument with the kubelet's message. The one check: the policy
// runs it when created, validatePolicyOptions (policy_registry.h) for every policy and config.
Status validateStaticCpuOptions(const StaticCpuOptions& options, const KubeletCpuTopology& topo,
                                TopologyManagerPolicy topology_manager_policy);

class StaticCpuPolicy final : public HintProvider {
 public:
  // Validates the options, resolves the reserved CPUs (explicit list, else the count picked by
  // take-by-topology). Like the kubelet's NewStaticPolicy it accepts zero reserved CPUs; the
  // kubelet's "at least one" rule belongs to configuration validation.
  static Result<StaticCpuPolicy> create(const topology::Topology& topology, const PolicyOptions& options);
  // Same on a kubelet view with explicit ids (the kubelet's test topologies).
  static Result<StaticCpuPolicy> create(KubeletCpuTopology topology, const PolicyOptions& options);

  std::string_view name() const override { return kCpuResource; }
  ResourceHints containerHints(const State& state, const PodRequest& pod,
                               const ContainerRequest& container) const override;
  ResourceHints podHints(const State& state, const PodRequest& pod) const override;
  ResourceHints podHintsWithoutPod(const State& state, const PodRequest& pod) const override;
  // Writes allocation.exclusive_cpus: empty for shared containers, the CPUs the container already
  // holds when it is in the State, else a fresh kubelet-compatible allocation within the hint.
  Status allocate(const State& state, const PodRequest& pod, const ContainerRequest& container,
                  const TopologyHint& affinity, ContainerAllocation& allocation) const override;

  // ---- Pure building blocks for the engine ------------------------------------------------
  // Exclusive CPUs the container gets: its whole-CPU request in a Guaranteed pod, else 0.
  int guaranteedCpus(const PodRequest& pod, const ContainerRequest& container) const;
  bool isExclusive(const PodRequest& pod, const ContainerRequest& container) const {
    return guaranteedCpus(pod, container) > 0;
  }
  // The pod's exclusive CPU demand for pod-scope hints: max(largest init container (plus the
  // sidecars started before it), sum of app containers + sidecars).
  int podGuaranteedCpus(const PodRequest& pod) const;
  CpuSet sharedPool(const State& state) const;
  CpuSet availableCpus(const State& state) const;
  CpuSet reusableCpus(const State& state, const std::string& pod_uid) const;
  const CpuSet& reservedCpus() const { return reserved_; }
  // Reserved CPUs and their SMT siblings: full-pcpus-only never counts them as free cores.
  const CpuSet& reservedPhysicalCpus() const { return reserved_physical_; }
  const StaticCpuOptions& options() const { return options_; }
  const KubeletCpuTopology& kubeletTopology() const { return topo_; }
  int cpuGroupSize() const { return topo_.cpusPerCore(); }

  // take-by-topology with this policy's options (packed/spread/uncore or NUMA-distributed).
  Result<CpuSet> takeByTopology(const CpuSet& available, int num_cpus) const;
  // The kubelet's generateCPUTopologyHints: one hint per NUMA mask whose CPUs (available plus
  // reusable, where every reusable CPU must be in the mask) cover the request; preferred =
  // narrowest possible mask (or socket-aligned with align-by-socket).
  // Beyond topology_manager::kExhaustiveMaskNodes NUMA nodes the same rules run over the runs of
  // consecutive node ids, and only the narrowest fitting runs and the all-nodes mask are listed.
  std::vector<TopologyHint> generateCpuTopologyHints(const CpuSet& available, const CpuSet& reusable,
                                                     int request) const;
  // The kubelet's allocateCPUs: first within the NUMA affinity (widened to sockets with
  // align-by-socket), then anywhere. Empty affinity: no constraint.
  Result<CpuSet> allocateCpus(const State& state, int num_cpus, const NodeSet& affinity, const CpuSet& reusable) const;
  // In-place resize of the container's exclusive CPUs to what `resized` asks; the State is not
  // changed and on error the old allocation stays valid. See "Resize" above.
  Result<CpuSet> resizeExclusiveCpus(const State& state, const PodRequest& pod, const ContainerRequest& resized) const;

  // Why allocate() gave `chosen` to the container, in words for `topod explain`: kept from its
  // earlier allocation, reused from the pod's init containers, taken within the merged NUMA
  // affinity (or beyond it), and the take-by-topology rule of these options. `state` is the
  // State allocate() saw.
  std::string whyTheseCpus(const State& state, const PodRequest& pod, const ContainerRequest& container,
                           const NodeSet& affinity, const CpuSet& chosen) const;

  // full-pcpus-only admission checks (SMTAlignmentError): the request is whole cores and, unless
  // the container already holds its CPUs, enough free whole cores remain.
  Status checkSmtAlignment(const State& state, int num_cpus, bool already_placed) const;

 private:
  StaticCpuPolicy(KubeletCpuTopology topo, StaticCpuOptions options) : topo_(std::move(topo)), options_(options) {}
  bool isHintSocketAligned(const NodeSet& affinity, int min_affinity_size) const;
  // generateCpuTopologyHints() on more than kExhaustiveMaskNodes nodes; per node (in `ids` order):
  // its CPUs, its available CPUs, whether it holds a reusable CPU.
  std::vector<TopologyHint> boundedCpuTopologyHints(const std::vector<int>& ids, const std::vector<int>& cpus_in,
                                                    const std::vector<int>& available_in,
                                                    const std::vector<bool>& holds_reusable, bool reusable_placeable,
                                                    int reusable_count, int request) const;
  CpuSet alignedCpus(const NodeSet& affinity, const CpuSet& allocatable) const;

  KubeletCpuTopology topo_;
  StaticCpuOptions options_;
  CpuSet reserved_;
  CpuSet reserved_physical_;
};

}  // namespace topod::policies::cpu
