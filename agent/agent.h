// Agent: topod's node daemon logic, without the process around it (run_command.cc owns signals,
// sockets and threads). It receives NRI events (nri::EventHandler), asks the policy, answers with
// adjustments and updates, and checkpoints the State after every change, before answering.
//
// Flow of one CreateContainer: request from the container's spec -> policy.admit() (a refusal is
// returned as the event's error, which fails the creation with the policy's reason) ->
// journal record (Checkpoint) -> state_ updated -> reply = the container's cpus/mems/quota plus an update for
// every other container whose placement changed (shared containers leave CPUs that just became
// exclusive). Releases (StopContainer, RemoveContainer, RemovePodSandbox) return CPUs to the
// shared pool; when no reply can carry the resulting updates they become pending unsolicited
// updates, which the process sends through nri::Plugin::updateContainers from another thread.
//
// Synchronize (every (re)connection) reconciles before any event is served: allocations of
// containers the runtime no longer has are dropped, containers topod does not know are adopted
// through the policy, and every container whose actual cpuset (its cgroup when readable, else what
// the runtime reports) differs from its placement gets an update.
//
// Pages follow cpuset.mems: when topod moves a running container to other NUMA nodes (a resize, a
// shared pool change, adoption after a restart), the container's pages are moved after the runtime
// applied the new cpuset.mems (followPages(), from the process's update thread). On cgroup v1 that
// is what moves them (runc leaves cpuset.memory_migrate off); on v2 the kernel moves them at the
// write already and topod moves what it left (docs/vm.md).
//
// Pod-level CPU quota: the kubelet (1.33+, DisableCPUQuotaWithExclusiveCPUs) gives a pod with
// exclusive CPUs a pod cgroup without a CFS quota; a kubelet that leaves CPUs to topod does not
// know which pods have them and sets the sum of the limits. So after every event that may change
// whether a pod holds exclusive CPUs, the agent removes the pod cgroup's quota (remembering it)
// when the pod has some, and restores it when it no longer has any (docs/policies.md, "Pod-level
// CPU quota"). Through options.cgroups, and, where the pod cgroup is a slice systemd owns (the
// kubelet's systemd driver), through options.units too: systemd writes its own value back at every
// daemon-reload. Failures are logged, never fatal; without systemd the file alone is written.
//
// Thread-safety: every public method may be called from any thread; one mutex serialises them.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_metrics.h"
#include "agent/lost_allocation.h"
#include "cgroups/cgroup_fs.h"
#include "cgroups/page_migration.h"
#include "common/clock.h"
#include "nri/event_handler.h"
#include "policies/policy.h"
#include "state/checkpointed_state.h"
#include "systemd/unit_properties.h"
#include "topology/device_nodes.h"
#include "topology/model.h"

namespace topod::agent {

struct AgentOptions {
  policies::PolicyOptions policy;
  std::string state_dir;
  // Optional: lets Synchronize read the real cpusets to detect drift. Not owned.
  cgroups::CgroupFs* cgroups = nullptr;
  // How the state directory's journal is synced and compacted.
  CheckpointOptions checkpoint;
  // Optional: finds the PCI devices (so the NUMA nodes) behind the device nodes a container is
  // given, for the policies' device alignment. Without it containers carry no devices. Not owned.
  const topology::DeviceNodeResolver* devices = nullptr;
  // Optional: where admissions, pinning requests and drift repairs are counted. Not owned.
  AgentMetrics* metrics = nullptr;
  // Optional, with `cgroups`: moves a container's pages when its NUMA nodes change. Not owned.
  cgroups::PageMover* pages = nullptr;
  // Time for page migration's deadlines; nullptr: the real clock. Not owned.
  const Clock* clock = nullptr;
  // Optional, with `cgroups`: systemd's units, for pod cgroups that are slices systemd owns (the
  // pod-level CPU quota is set on the unit as well as in the file). Not owned.
  systemd::UnitProperties* units = nullptr;
};

// Unsolicited updates handed to the sender, with the generation they were computed at.
struct PendingUpdates {
  std::vector<nri::Update> updates;
  uint64_t generation = 0;
};

class Agent final : public nri::EventHandler {
 public:
  // Builds the policy for `topology` (which must outlive the agent) and restores the checkpoint
  // of options.state_dir (a bad one is moved aside; see Checkpoint). Errors: invalid policy
  // options for this machine, unusable state directory.
  static Result<std::unique_ptr<Agent>> create(const topology::Topology& topology, AgentOptions options);
  // The same with a policy built elsewhere (tests inject fakes).
  static Result<std::unique_ptr<Agent>> create(const topology::Topology& topology, AgentOptions options,
                                               std::unique_ptr<policies::Policy> policy);

  // Folds the journal into state.json at a clean stop (Checkpoint::close); call once the runtime
  // sends nothing more. An error leaves the journal for the next start to replay.
  Status close();
  // What start-up found (checkpoint restored / moved aside / absent), for the log.
  const std::string& startupReport() const { return startup_report_; }
  // Whether start-up lost or skipped something (the report is then a warning).
  bool startupReportIsWarning() const { return startup_warning_; }

  // nri::EventHandler
  void onConfigure(const nri::RuntimeInfo& runtime) override;
  Result<std::vector<nri::Update>> onSynchronize(const std::vector<nri::Pod>& pods,
                                                 const std::vector<nri::Container>& containers) override;
  Result<nri::CreateReply> onCreateContainer(const nri::Pod& pod, const nri::Container& container) override;
  Result<std::vector<nri::Update>> onUpdateContainer(const nri::Pod& pod, const nri::Container& container,
                                                     const nri::LinuxResources& requested) override;
  Result<std::vector<nri::Update>> onStopContainer(const nri::Pod& pod, const nri::Container& container) override;
  Status onRemovePodSandbox(const nri::Pod& pod) override;
  Status onRemoveContainer(const nri::Pod& pod, const nri::Container& container) override;

  // Called (outside the lock) whenever unsolicited updates become pending. Set before serving.
  void setPendingNotifier(std::function<void()> notify);
  // Called, under the agent's lock (so it must only queue), for every running container whose
  // allocation a Synchronize could not re-make: it runs in the shared pool now. Set before serving.
  void setLostAllocationNotifier(std::function<void(const LostAllocation&)> notify);
  // The updates no reply carried; marks them as applied.
  PendingUpdates takePendingUpdates();
  // After sending: updates the runtime did not apply, or that an event may have overtaken while
  // they were in flight (generation moved on), are re-queued with their then-current values.
  void unsolicitedDone(const PendingUpdates& sent, const std::vector<nri::Update>& failed);

  // Moves the pages of containers whose NUMA nodes changed, once the runtime shows the new
  // cpuset.mems in their cgroup, spending at most about `budget` (one process's migration is not
  // interruptible). Logs each outcome. A container whose cgroup still shows other nodes after
  // kPageApplyWait is given up on, with a warning. Call outside the NRI path.
  void followPages(Clock::Duration budget);
  // Whether followPages() has containers waiting (the caller polls while it does).
  bool pagesPending() const;
  static constexpr std::chrono::seconds kPageApplyWait{30};

  policies::State state() const;
  std::size_t containerCount() const;
  bool synchronized() const;
  // CPU counts of the pools now (the metrics' gauges read them at each scrape).
  struct Pools {
    std::size_t exclusive_cpus = 0;
    std::size_t shared_cpus = 0;
  };
  Pools pools() const;
  // Compactions of the checkpoint completed since start.
  uint64_t compactions() const;
  // Why the agent cannot record changes (its checkpoint refuses them), or empty: for /healthz.
  std::string healthProblem() const;

  // What the local API shows (agent/api_backend.h), copied under the lock.
  struct ContainerInfo {
    std::string id;
    policies::ContainerKey key;
    std::string pod_namespace;
    std::string pod_name;
    bool running = false;
  };
  // A container the policy (or the agent's own checks) refused at creation or resize.
  struct Refusal {
    policies::ContainerKey key;
    std::string pod_namespace;
    std::string pod_name;
    std::string container_id;
    policies::ContainerRequest request;
    QosClass qos = QosClass::BestEffort;
    std::string message;  // the policy's reason, as the runtime was told
    std::string reason;   // the policy's stable reason code, when it gave one
  };
  // The last refusals kept for `topod explain`; the runtime retries a refused container with
  // backoff, so a container's newer refusal replaces its older one.
  static constexpr std::size_t kMaxRefusals = 64;
  struct View {
    bool synchronized = false;
    std::optional<nri::RuntimeInfo> runtime;  // from the last Configure
    std::string policy;
    policies::State state;
    std::map<policies::ContainerKey, policies::Placement> placements;
    CpuSet shared_cpus;
    CpuSet reserved_cpus;
    std::vector<ContainerInfo> containers;
    // The policy's explanation of each allocation made since start (restored ones have none).
    std::map<policies::ContainerKey, std::string> explanations;
    std::vector<Refusal> refusals;  // oldest first
  };
  View view() const;
  // The machine the agent places on (for explanations of restored allocations).
  const topology::Topology& topology() const { return topology_; }
  // What the policy would decide for `pod`: its containers admitted in order on a copy of the
  // live State (each decision applied to the copy before the next; a regular init container's
  // allocation is released before the next container, as if it had completed). Changes nothing. Error
  // (InvalidArgument): the pod's UID holds allocations already (a what-if is for a new pod).
  Result<std::vector<Result<policies::Decision>>> whatIf(const policies::PodRequest& pod) const;

 private:
  struct Applied {
    policies::Placement placement;
    bool exclusive = false;
    friend bool operator==(const Applied&, const Applied&) = default;
  };
  struct Known {
    std::string id;
    std::string pod_id;
    policies::ContainerKey key;
    std::string pod_namespace;
    std::string pod_name;
    std::string cgroups_path;
    nri::LinuxResources requested;   // what the kubelet asked for (quota restored from it)
    std::optional<Applied> applied;  // what topod last told the runtime
    // False once stopped: the allocation stays for the container's next attempt (as the
    // kubelet keeps a container's CPUs until its pod goes), but no update is sent to it.
    bool running = true;
  };

  // A pod whose cgroup's CFS quota topod removed, and what to restore.
  struct RemovedPodQuota {
    std::string cgroup;                     // inside the hierarchy (cgroups::podCgroupPathOf)
    std::optional<int64_t> saved_quota_us;  // the quota before (nullopt: there was none)
    uint64_t period_us = 0;                 // the pod cgroup's period
    bool limits_changed = false;            // a container's CPU limit was resized since
    std::optional<std::string> unit;        // the systemd slice that owns the cgroup, if any
    bool unit_cleared = false;              // systemd was told "no quota" (else retried at events)
  };

  Agent(const topology::Topology& topology, AgentOptions options, std::unique_ptr<policies::Policy> policy);

  // Makes the pod cgroup's quota what the kubelet would give it: none while the pod holds
  // exclusive CPUs (re-read at each event: a resize makes the kubelet write it again), else the
  // quota it had (or, when a container's CPU limit was resized since, the sum the kubelet
  // computes for the new limits). Logs failures.
  void syncPodQuotaLocked(const nri::Pod& pod);
  // The pod quota removed through systemd as well (a slice whose unit holds a quota, e.g. one
  // topod cleared only in the file before a restart); what the unit held, when it was more.
  void clearUnitQuotaLocked(const std::string& who, RemovedPodQuota& record);
  // Sets the quota of the unit that owns a pod cgroup (none: nothing to do). Error with
  // systemd::kNoBusReason when the agent has no bus.
  Status setUnitQuotaLocked(const std::optional<std::string>& unit, const systemd::UnitCpuQuota& quota);
  // kubeletPodCpuQuota over the pod's running containers that topod knows.
  std::optional<int64_t> podContainersQuotaLocked(const std::string& pod_uid, uint64_t period_us) const;

  policies::ContainerKey keyOf(const nri::Pod& pod, const std::string& container_name) const;
  // The policies' view of the container: its resources (`resources`) and devices. Reads only
  // immutable members, so events call it before taking the lock.
  policies::ContainerRequest requestOf(const nri::Container& container, const nri::LinuxResources& resources,
                                       QosClass qos) const;
  // Where a known container should run in state_ (the shared pool when unmanaged).
  Applied desiredFor(const Known& known, const std::map<policies::ContainerKey, policies::Placement>& placements,
                     const CpuSet& shared) const;
  nri::Update updateFor(const Known& known, const Applied& desired) const;
  // Updates for every known container (but `skip_id`) whose applied placement is not the desired
  // one; marks them applied. O(containers): called only when othersMayMoveLocked().
  std::vector<nri::Update> takeChangedLocked(const std::string& skip_id);
  // After a change to one container: whether any other may have to move. The Policy contract
  // (policy.h) makes a container's placement depend only on its own allocation and the union of
  // exclusive CPUs, so a change that leaves that union alone moves nobody else, unless an earlier
  // update failed and must be retried (stale_).
  bool othersMayMoveLocked(const CpuSet& exclusive_before) const;
  // Releases `key` (if allocated) and forgets container `id`; checkpoint errors are logged, the
  // in-memory release stands (the CPUs are free whatever the disk says).
  void releaseLocked(const std::string& id, const policies::ContainerKey& key, const std::string& why);
  // Forgets container `id`, which is not (or no longer) the attempt that owns its key.
  void forgetAttemptLocked(const std::string& id);
  // The pod's allocations other than `key` whose container has stopped: init containers that
  // ran to completion (NRI cannot tell them from app containers), whose resources the pod's
  // next containers reuse, as the kubelet's policies reuse them. Released when a new container
  // of the pod is admitted.
  std::vector<policies::ContainerKey> stoppedSiblingsLocked(const policies::ContainerKey& key) const;
  // After a decision is put into state_: the first running container that the placements would
  // leave without any CPU (an empty cpuset means "no change" over NRI, so it would keep its old,
  // wider affinity and overlap exclusive CPUs). `id` is the container being decided for.
  std::optional<std::string> emptiedContainerLocked(const std::string& id, const policies::Placement& own,
                                                    bool others_may_move) const;
  void markPendingLocked();
  // Records `desired` as what the runtime was told for `known`; queues a page move when its NUMA
  // nodes narrowed or changed (or were unknown before: `previous` empty for an adopted container).
  void setAppliedLocked(Known& known, const Applied& desired, bool pages_may_be_elsewhere);
  void recordRefusalLocked(const nri::Pod& pod, const nri::Container& container, const policies::ContainerKey& key,
                           const policies::ContainerRequest& request, QosClass qos, const Error& error);
  // Every decision, whichever path made it, passes the same rules before it is applied: no
  // reserved CPU is exclusive (policies::checkReservedNotExclusive).
  Status checkDecision(const policies::Decision& decision) const;
  Result<policies::Decision> adoptLocked(const policies::State& state, const nri::Pod& pod, QosClass qos,
                                         const nri::Container& c) const;

  const topology::Topology& topology_;
  AgentOptions options_;
  std::unique_ptr<policies::Policy> policy_;
  // The State and its checkpoint: every change is journaled, then applied (state/checkpointed_state.h).
  CheckpointedState store_;
  NodeSet all_nodes_;
  CpuSet reserved_cpus_;  // policy_->reservedCpus()
  std::string startup_report_;
  bool startup_warning_ = false;
  bool startup_misfit_ = false;  // the checkpoint did not fit this configuration (LoadedState::misfit)

  mutable std::mutex mutex_;
  // Read-only view of store_'s State; changes go through store_.commit() or a draft.
  const policies::State& state_ = store_.state();
  std::map<std::string, Known> containers_;                    // by runtime container id
  std::map<policies::ContainerKey, std::string> ids_;          // allocation key -> container id
  std::map<std::string, RemovedPodQuota> removed_pod_quotas_;  // by pod UID
  bool synchronized_ = false;
  bool pending_ = false;
  bool stale_ = false;  // some container's applied placement is unknown (a failed update)
  uint64_t generation_ = 0;
  std::function<void()> pending_notifier_;
  std::function<void(const LostAllocation&)> lost_notifier_;
  struct PageMove {
    std::string cgroups_path;
    NodeSet mems;
    Clock::TimePoint since;
  };
  std::map<std::string, PageMove> page_moves_;  // by container id
  std::optional<nri::RuntimeInfo> runtime_;
  std::map<policies::ContainerKey, std::string> explanations_;  // keys of state_ only
  std::deque<Refusal> refusals_;                                // at most kMaxRefusals
};

}  // namespace topod::agent
