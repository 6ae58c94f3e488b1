#include "agent/agent.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <utility>

#include "agent/agent_display.h"
#include "agent/nri_mapping.h"
#include "cgroups/cgroup_path.h"
#include "cgroups/container_files.h"
#include "common/text.h"
#include "policies/policy_registry.h"
#include "policies/state_check.h"

namespace topod::agent {

using policies::ContainerKey;
using policies::Placement;
using policies::State;

namespace {

// Counts one CreateContainer in the admission and pinning metrics when it goes out of scope:
// every return path of the event, admitted or refused, is counted once.
class AdmissionRecord {
 public:
  AdmissionRecord(AgentMetrics* metrics, bool pins_cpus, bool pins_memory)
      : metrics_(metrics), pins_cpus_(pins_cpus), pins_memory_(pins_memory) {
    if (metrics_ != nullptr) started_ = metrics_->clock.now();
  }
  ~AdmissionRecord() {
    if (metrics_ == nullptr) return;
    const std::chrono::duration<double, std::milli> took = metrics_->clock.now() - started_;
    metrics_->admission_duration_ms.observe(took.count());
    metrics_->admission_requests.inc();
    if (pins_cpus_) metrics_->cpu_pinning_requests.inc();
    if (pins_memory_) metrics_->memory_pinning_requests.inc();
    if (admitted_) return;
    // A refusal is counted against every manager the container needed: the policies decide
    // CPUs, memory and alignment together and do not say which part could not be met.
    metrics_->admission_errors.inc();
    if (pins_cpus_) metrics_->cpu_pinning_errors.inc();
    if (pins_memory_) metrics_->memory_pinning_errors.inc();
  }
  AdmissionRecord(const AdmissionRecord&) = delete;
  AdmissionRecord& operator=(const AdmissionRecord&) = delete;
  void admitted() { admitted_ = true; }

 private:
  AgentMetrics* metrics_;
  const bool pins_cpus_;
  const bool pins_memory_;
  Clock::TimePoint started_{};
  bool admitted_ = false;
};

// The kubelet static policy's rule for exclusive CPUs: a Guaranteed pod's container that asks
// for whole CPUs (an unset request defaults to the limit).
bool asksForExclusiveCpus(QosClass qos, const policies::ContainerRequest& request) {
  constexpr int64_t kMillisPerCpu = 1000;
  const int64_t millis = request.cpu_request_millis != 0 ? request.cpu_request_millis : request.cpu_limit_millis;
  return qos == QosClass::Guaranteed && millis > 0 && millis % kMillisPerCpu == 0;
}

}  // namespace

Result<std::unique_ptr<Agent>> Agent::create(const topology::Topology& topology, AgentOptions options) {
  auto policy = policies::makePolicy(topology, options.policy);
  if (!policy.has_value()) return policy.error();
  return create(topology, std::move(options), std::move(*policy));
}

Result<std::unique_ptr<Agent>> Agent::create(const topology::Topology& topology, AgentOptions options,
                                             std::unique_ptr<policies::Policy> policy) {
  std::unique_ptr<Agent> agent(new Agent(topology, std::move(options), std::move(policy)));
  auto loaded = agent->store_.load(topology, agent->options_.policy, *agent->policy_);
  if (!loaded.has_value()) return loaded.error();
  agent->startup_report_ = loaded->report;
  agent->startup_warning_ = loaded->warning;
  agent->startup_misfit_ = loaded->misfit;
  return agent;
}

Agent::Agent(const topology::Topology& topology, AgentOptions options, std::unique_ptr<policies::Policy> policy)
    : topology_(topology),
      options_(std::move(options)),
      policy_(std::move(policy)),
      store_(options_.state_dir, options_.checkpoint),
      all_nodes_(topology.numaNodeIds()),
      reserved_cpus_(policy_->reservedCpus()) {}

Status Agent::checkDecision(const policies::Decision& decision) const {
  Status valid = policies::checkReservedNotExclusive(decision.key, decision.allocation, reserved_cpus_);
  if (!valid.has_value()) {
    return Error::internal("policy " + std::string(policy_->name()) + " broke a rule: " + valid.error().message());
  }
  return okStatus();
}

void Agent::onConfigure(const nri::RuntimeInfo& runtime) {
  {
    std::unique_lock lock(mutex_);
    runtime_ = runtime;
  }
  spdlog::info("runtime {} {} configured topod (NRI {}, request timeout {} ms)", runtime.name, runtime.version,
               runtime.nri_version.empty() ? "< 0.12" : runtime.nri_version, runtime.request_timeout.count());
}

ContainerKey Agent::keyOf(const nri::Pod& pod, const std::string& container_name) const {
  return ContainerKey{.pod_uid = pod.uid.empty() ? pod.id : pod.uid, .container_name = container_name};
}

Agent::Applied Agent::desiredFor(const Known& known, const std::map<ContainerKey, Placement>& placements,
                                 const CpuSet& shared) const {
  auto it = placements.find(known.key);
  if (it == placements.end()) return Applied{.placement = Placement{.cpus = shared, .mems = {}}, .exclusive = false};
  auto alloc = state_.containers().find(known.key);
  bool exclusive = alloc != state_.containers().end() && !alloc->second.exclusive_cpus.empty();
  return Applied{.placement = it->second, .exclusive = exclusive};
}

nri::Update Agent::updateFor(const Known& known, const Applied& desired) const {
  return nri::Update{.container_id = known.id,
                     .resources = resourcesFor(desired.placement, desired.exclusive, all_nodes_, known.requested),
                     .ignore_failure = false};
}

std::vector<nri::Update> Agent::takeChangedLocked(const std::string& skip_id) {
  std::vector<nri::Update> updates;
  auto placements = policy_->placements(state_);
  CpuSet shared = policy_->sharedCpus(state_);
  for (auto& [id, known] : containers_) {
    if (id == skip_id || !known.running) continue;
    Applied desired = desiredFor(known, placements, shared);
    if (known.applied && *known.applied == desired) continue;
    if (desired.placement.cpus.empty()) {
      // Admission refuses what would empty a pool with members (emptiedContainerLocked); this
      // is the last guard: over NRI an empty cpuset would mean "keep the old, wider one".
      spdlog::error("no CPUs left for {} ({}); its cpuset is left as it is", describe(known.key), id);
      continue;
    }
    updates.push_back(updateFor(known, desired));
    setAppliedLocked(known, desired, true);
  }
  if (!updates.empty()) ++generation_;
  stale_ = false;
  return updates;
}

std::optional<std::string> Agent::emptiedContainerLocked(const std::string& id, const Placement& own,
                                                         bool others_may_move) const {
  if (own.cpus.empty()) return id;
  if (!others_may_move) return std::nullopt;
  auto placements = policy_->placements(state_);
  CpuSet shared = policy_->sharedCpus(state_);
  for (const auto& [other_id, known] : containers_) {
    if (other_id == id || !known.running) continue;
    if (desiredFor(known, placements, shared).placement.cpus.empty()) return other_id;
  }
  return std::nullopt;
}

std::vector<ContainerKey> Agent::stoppedSiblingsLocked(const ContainerKey& key) const {
  std::vector<ContainerKey> stopped;
  auto [first, last] = state_.podContainers(key.pod_uid);
  for (auto it = first; it != last; ++it) {
    if (it->first == key) continue;
    auto owner = ids_.find(it->first);
    if (owner == ids_.end()) continue;  // restored, not seen yet: Synchronize decides
    auto known = containers_.find(owner->second);
    if (known != containers_.end() && !known->second.running) stopped.push_back(it->first);
  }
  return stopped;
}

bool Agent::othersMayMoveLocked(const CpuSet& exclusive_before) const {
  return stale_ || state_.totals().exclusive_cpus != exclusive_before;
}

Status Agent::close() {
  std::lock_guard lock(mutex_);
  return store_.close();
}

void Agent::releaseLocked(const std::string& id, const ContainerKey& key, const std::string& why) {
  containers_.erase(id);
  page_moves_.erase(id);
  explanations_.erase(key);
  auto owner = ids_.find(key);
  if (owner != ids_.end() && owner->second == id) ids_.erase(owner);
  if (!state_.contains(key)) return;
  // The CPUs are free whatever the disk says; a restart that restores the stale allocation
  // drops it again at Synchronize, where the runtime no longer lists the container.
  Status saved = store_.commit({{.key = key, .allocation = std::nullopt}}, CheckpointedState::OnFailure::ApplyAnyway);
  if (!saved.has_value()) {
    spdlog::error("released {} ({}) but could not checkpoint: {}", describe(key), why, saved.error().toString());
  }
  spdlog::info("released {} ({})", describe(key), why);
}

void Agent::forgetAttemptLocked(const std::string& id) {
  containers_.erase(id);
  page_moves_.erase(id);
}

void Agent::markPendingLocked() {
  pending_ = true;
}

void Agent::recordRefusalLocked(const nri::Pod& pod, const nri::Container& container, const ContainerKey& key,
                                const policies::ContainerRequest& request, QosClass qos, const Error& error) {
  std::erase_if(refusals_, [&](const Refusal& r) { return r.key == key; });
  if (refusals_.size() >= kMaxRefusals) refusals_.pop_front();
  refusals_.push_back(Refusal{.key = key,
                              .pod_namespace = pod.namespace_name,
                              .pod_name = pod.name,
                              .container_id = container.id,
                              .request = request,
                              .qos = qos,
                              .message = error.message(),
                              .reason = error.reason()});
}

policies::ContainerRequest Agent::requestOf(const nri::Container& container, const nri::LinuxResources& resources,
                                            QosClass qos) const {
  policies::ContainerRequest request = containerRequestOf(container, resources, qos);
  if (options_.devices != nullptr) request.devices = deviceRequestsOf(container, topology_, *options_.devices);
  return request;
}

Result<policies::Decision> Agent::adoptLocked(const State& state, const nri::Pod& pod, QosClass qos,
                                              const nri::Container& c) const {
  auto request = requestOf(c, c.resources, qos);
  auto decision = policy_->admit(state, podRequestOf(pod, qos, request), request);
  if (decision.has_value()) TOPOD_RETURN_IF_ERROR(checkDecision(*decision));
  return decision;
}

Result<std::vector<nri::Update>> Agent::onSynchronize(const std::vector<nri::Pod>& pods,
                                                      const std::vector<nri::Container>& containers) {
  std::unique_lock lock(mutex_);
  // The pods of this Synchronize (the plugin keeps the pod cache events are resolved with), and
  // their QoS classes: a pod without a cgroup parent takes its class from its first container.
  std::map<std::string, const nri::Pod*> pod_by_id;
  for (const nri::Pod& pod : pods) pod_by_id[pod.id] = &pod;
  std::map<std::string, const nri::Container*> first_container;
  for (const nri::Container& c : containers) first_container.emplace(c.pod_id, &c);
  auto qosOf = [&](const nri::Pod& pod) {
    auto first = first_container.find(pod.id);
    return qosClassOf(pod, first == first_container.end() ? nullptr : first->second);
  };
  containers_.clear();
  ids_.clear();

  // The runtime is the source of truth for what exists.
  std::vector<const nri::Container*> live;
  std::vector<const nri::Container*> stopped;
  // Keys the runtime still has a container for, running or stopped: a stopped one keeps its
  // allocation for its next attempt (onStopContainer).
  std::set<ContainerKey> present_keys;
  for (const nri::Container& c : containers) {
    auto pod = pod_by_id.find(c.pod_id);
    if (pod == pod_by_id.end()) {
      spdlog::warn("synchronize: container {} ({}) names unknown pod {}; ignored", escapeForDisplay(c.id),
                   escapeForDisplay(c.name), escapeForDisplay(c.pod_id));
      continue;
    }
    (c.state == nri::ContainerState::Stopped ? stopped : live).push_back(&c);
    present_keys.insert(keyOf(*pod->second, c.name));
  }
  // One draft, committed at once in the order it was built: any prefix of these changes is a
  // State this loop passed through.
  auto draft = store_.draft();
  std::vector<ContainerKey> gone;
  for (const auto& [key, allocation] : state_.containers()) {
    (void)allocation;
    if (present_keys.count(key) == 0) gone.push_back(key);
  }
  int dropped = 0;
  for (const ContainerKey& key : gone) {
    draft.erase(key);
    explanations_.erase(key);
    ++dropped;
    spdlog::info("synchronize: dropped the allocation of {}: the runtime no longer has it", describe(key));
  }
  // Adopt in a stable order so that the same runtime state always yields the same allocations.
  std::sort(live.begin(), live.end(), [&](const nri::Container* a, const nri::Container* b) {
    return std::pair(keyOf(*pod_by_id.at(a->pod_id), a->name), a->id) <
           std::pair(keyOf(*pod_by_id.at(b->pod_id), b->name), b->id);
  });
  int adopted = 0;
  for (const nri::Container* c : live) {
    const nri::Pod& pod = *pod_by_id.at(c->pod_id);
    ContainerKey key = keyOf(pod, c->name);
    containers_[c->id] = Known{.id = c->id,
                               .pod_id = c->pod_id,
                               .key = key,
                               .pod_namespace = pod.namespace_name,
                               .pod_name = pod.name,
                               .cgroups_path = c->cgroups_path,
                               .requested = c->resources,
                               .applied = std::nullopt};
    ids_[key] = c->id;
    if (draft.state().contains(key)) continue;
    auto decision = adoptLocked(draft.state(), pod, qosOf(pod), *c);
    if (!decision.has_value()) {
      spdlog::warn("synchronize: cannot adopt {} ({}): {}; it runs in the shared pool", describe(key),
                   escapeForDisplay(c->id), escapeForDisplay(decision.error().message()));
      if (lost_notifier_) {
        lost_notifier_(LostAllocation{.pod_namespace = pod.namespace_name,
                                      .pod_name = pod.name,
                                      .pod_uid = pod.uid,
                                      .container = c->name,
                                      .reason = startup_misfit_ ? LostAllocationReason::CpusShrunk
                                                                : LostAllocationReason::NotHonouredAfterRestart,
                                      .why = decision.error().message()});
      }
      continue;
    }
    draft.put(decision->key, decision->allocation);
    explanations_[decision->key] = "adopted at Synchronize: " + decision->explanation;
    ++adopted;
    spdlog::info("synchronize: adopted {}: {}", describe(key), escapeForDisplay(decision->explanation));
  }
  Status committed = draft.commit();
  if (!committed.has_value()) return committed.error().withContext("checkpoint after synchronize");
  // Stopped attempts of containers that keep an allocation; a running attempt owns its key.
  std::sort(stopped.begin(), stopped.end(),
            [](const nri::Container* a, const nri::Container* b) { return a->id < b->id; });
  for (const nri::Container* c : stopped) {
    const nri::Pod& pod = *pod_by_id.at(c->pod_id);
    ContainerKey key = keyOf(pod, c->name);
    if (!state_.contains(key)) continue;
    containers_[c->id] = Known{.id = c->id,
                               .pod_id = c->pod_id,
                               .key = key,
                               .pod_namespace = pod.namespace_name,
                               .pod_name = pod.name,
                               .cgroups_path = c->cgroups_path,
                               .requested = c->resources,
                               .applied = std::nullopt,
                               .running = false};
    ids_.emplace(key, c->id);
  }

  // Re-apply every placement whose actual cpuset drifted (or is unknown).
  std::vector<nri::Update> updates;
  auto placements = policy_->placements(state_);
  CpuSet shared = policy_->sharedCpus(state_);
  std::map<std::string, const nri::Container*> by_id;
  for (const nri::Container* c : live) by_id[c->id] = c;
  int drifted = 0;
  for (auto& [id, known] : containers_) {
    if (!known.running) continue;
    Applied desired = desiredFor(known, placements, shared);
    const nri::Container& c = *by_id[id];
    std::optional<CpuSet> actual = c.resources.cpuset_cpus;
    if (options_.cgroups != nullptr) {
      auto path = cgroups::cgroupPathOf(known.cgroups_path);
      if (path.has_value()) {
        auto cpus = cgroups::readCpus(*options_.cgroups, *path);
        if (cpus.has_value()) actual = *cpus;
      }
    }
    bool quota_ok = !desired.exclusive || (c.resources.cpu_quota && *c.resources.cpu_quota < 0);
    if (desired.placement.cpus.empty()) {
      // Never sent: an empty cpuset means "no change" over NRI.
      spdlog::error("synchronize: no CPUs left for {} ({}); its cpuset is left as it is", describe(known.key),
                    escapeForDisplay(id));
      continue;
    }
    if (!actual || *actual != desired.placement.cpus || !quota_ok) {
      updates.push_back(updateFor(known, desired));
      ++drifted;
    }
    // Its pages may be anywhere: it may have run unpinned, or elsewhere, while topod was away.
    setAppliedLocked(known, desired, true);
  }
  if (options_.metrics != nullptr) options_.metrics->drift_repairs.inc(static_cast<uint64_t>(drifted));
  // Pod-level quotas: pods gone are forgotten, the others get what their exclusivity implies.
  std::set<std::string> pod_uids;
  for (const nri::Pod& pod : pods) {
    pod_uids.insert(pod.uid.empty() ? pod.id : pod.uid);
    syncPodQuotaLocked(pod);
  }
  std::erase_if(removed_pod_quotas_, [&](const auto& entry) { return pod_uids.count(entry.first) == 0; });
  synchronized_ = true;
  pending_ = false;
  stale_ = false;
  ++generation_;
  spdlog::info(
      "synchronized with the runtime: {} pods, {} running containers ({} stopped); adopted {}, dropped {}, "
      "{} cpusets re-applied",
      pods.size(), live.size(), stopped.size(), adopted, dropped, drifted);
  return updates;
}

Result<nri::CreateReply> Agent::onCreateContainer(const nri::Pod& pod, const nri::Container& container) {
  // Outside the lock: finding the container's devices reads sysfs and depends on no state.
  const QosClass qos = qosClassOf(pod, &container);
  const policies::ContainerRequest request = requestOf(container, container.resources, qos);
  AdmissionRecord record(
      options_.metrics, options_.policy.policy != "none" && asksForExclusiveCpus(qos, request),
      options_.policy.memory_policy == policies::MemoryManagerPolicy::Static && qos == QosClass::Guaranteed);
  std::unique_lock lock(mutex_);
  ContainerKey key = keyOf(pod, container.name);
  const CpuSet exclusive_before = state_.totals().exclusive_cpus;
  // A new attempt of a container (a restart: same pod, same name, new id) inherits the
  // allocation of the earlier one, as the kubelet keeps a container's CPUs until its pod goes:
  // the earlier attempt, stopped or about to be, owns nothing from now on, and its own
  // Stop/Remove events leave the allocation alone.
  auto previous_id = ids_.find(key);
  if (previous_id != ids_.end() && previous_id->second != container.id) {
    forgetAttemptLocked(previous_id->second);
    ids_.erase(previous_id);
  }
  const policies::ContainerAllocation* held = state_.find(key);
  std::optional<policies::ContainerAllocation> previous;
  if (held != nullptr) previous = *held;
  // The decision is made on a draft of the State (state_ is the draft's State while it lives): a
  // refused container leaves it as it was, an admitted one is journaled before it is kept.
  auto draft = store_.draft();
  // A new container of the pod reuses what its stopped siblings (completed init containers)
  // held: they are taken out for the decision and released with it.
  std::vector<ContainerKey> siblings;
  if (!previous) {
    siblings = stoppedSiblingsLocked(key);
    for (const ContainerKey& sibling : siblings) draft.erase(sibling);
  }

  auto pod_request = podRequestOf(pod, qos, request);
  Result<policies::Decision> decision = Error::internal("no decision");
  if (previous) {
    // Same request: the same CPUs and nodes. A changed one is a resize; if the held allocation
    // cannot grow into it, the container is placed afresh as a new one would be.
    decision = policy_->resize(state_, pod_request, request);
    if (!decision.has_value()) {
      draft.erase(key);
      decision = policy_->admit(state_, pod_request, request);
    }
  } else {
    decision = policy_->admit(state_, pod_request, request);
  }
  if (decision.has_value()) {
    Status valid = checkDecision(*decision);
    if (!valid.has_value()) decision = valid.error();
  }
  if (!decision.has_value()) {
    draft.rollback();
    recordRefusalLocked(pod, container, key, request, qos, decision.error());
    // Policies quote pod and container names: escaped like every name from the runtime.
    const std::string why = escapeForDisplay(decision.error().message());
    spdlog::warn("refused {} ({}): {}", describe(key), escapeForDisplay(container.id), why);
    return Error(decision.error().code(), "topod refused container " + describe(key) + ": " + why);
  }
  draft.put(decision->key, decision->allocation);
  const bool others_may_move = othersMayMoveLocked(exclusive_before);
  if (auto emptied = emptiedContainerLocked(container.id, decision->placement, others_may_move)) {
    draft.rollback();
    std::string who = *emptied == container.id ? "it" : "container " + describe(containers_.at(*emptied).key);
    std::string message = "topod refused container " + describe(key) + ": admitting it would leave " + who +
                          " without any CPU (its shared pool would be empty)";
    recordRefusalLocked(pod, container, key, request, qos,
                        Error::resourceExhausted("cpu: admitting it would leave " + who +
                                                 " without any CPU (its shared pool would be empty)"));
    spdlog::warn("{}", message);
    return Error::resourceExhausted(message);
  }
  Status committed = draft.commit();
  if (!committed.has_value()) {
    Error error = committed.error().withContext("checkpoint after admitting " + describe(key));
    spdlog::error("refused {}: {}", describe(key), error.toString());
    return error;
  }
  explanations_[decision->key] = decision->explanation;
  for (const ContainerKey& sibling : siblings) {
    explanations_.erase(sibling);
    auto owner = ids_.find(sibling);
    if (owner != ids_.end()) {
      forgetAttemptLocked(owner->second);
      ids_.erase(owner);
    }
    spdlog::info("released {} (stopped; its pod's new container {} reuses what it held)", describe(sibling),
                 describe(key));
  }
  bool exclusive = !decision->allocation.exclusive_cpus.empty();
  Known known{.id = container.id,
              .pod_id = pod.id,
              .key = key,
              .pod_namespace = pod.namespace_name,
              .pod_name = pod.name,
              .cgroups_path = container.cgroups_path,
              .requested = container.resources,
              .applied = Applied{.placement = decision->placement, .exclusive = exclusive}};
  nri::CreateReply reply;
  reply.adjustment.resources = resourcesFor(decision->placement, exclusive, all_nodes_, container.resources);
  containers_[container.id] = std::move(known);
  ids_[key] = container.id;
  if (others_may_move) reply.updates = takeChangedLocked(container.id);
  // A new attempt with another CPU limit is a resize by restart (the kubelet's RestartContainer
  // resize policy; in place, the policies refuse a move between exclusive and shared CPUs).
  auto removed_quota = removed_pod_quotas_.find(key.pod_uid);
  if (removed_quota != removed_pod_quotas_.end() && previous &&
      previous->request.cpu_limit_millis != request.cpu_limit_millis) {
    removed_quota->second.limits_changed = true;
  }
  syncPodQuotaLocked(pod);
  spdlog::info("admitted {} ({}){}: cpus {}{}, {} other containers updated; {}", describe(key),
               escapeForDisplay(container.id), previous ? " again, as a new attempt" : "",
               decision->placement.cpus.toString(), exclusive ? " exclusive" : " shared", reply.updates.size(),
               escapeForDisplay(decision->explanation));
  record.admitted();
  return reply;
}

Result<std::vector<nri::Update>> Agent::onUpdateContainer(const nri::Pod& pod, const nri::Container& container,
                                                          const nri::LinuxResources& requested) {
  // Outside the lock, as in onCreateContainer.
  const QosClass qos = qosClassOf(pod, &container);
  policies::ContainerRequest request = requestOf(container, requested, qos);
  std::unique_lock lock(mutex_);
  ContainerKey key = keyOf(pod, container.name);
  auto owner = ids_.find(key);
  if (owner != ids_.end() && owner->second != container.id && containers_.count(owner->second) != 0) {
    // An earlier attempt of a container that has a newer one: the allocation is the newer one's.
    spdlog::warn("update of {} ({}) ignored: {} is that container's current attempt", describe(key),
                 escapeForDisplay(container.id), escapeForDisplay(owner->second));
    return std::vector<nri::Update>{};
  }
  const CpuSet exclusive_before = state_.totals().exclusive_cpus;
  const policies::ContainerAllocation* held = state_.find(key);
  std::optional<policies::ContainerAllocation> previous;
  if (held != nullptr) previous = *held;
  // Devices do not change in a resize; an update that does not list them keeps those admitted.
  if (previous && request.devices.empty()) request.devices = previous->request.devices;
  auto pod_request = podRequestOf(pod, qos, request);
  auto decision =
      previous ? policy_->resize(state_, pod_request, request) : policy_->admit(state_, pod_request, request);
  if (decision.has_value()) {
    Status valid = checkDecision(*decision);
    if (!valid.has_value()) decision = valid.error();
  }
  if (!decision.has_value()) {
    recordRefusalLocked(pod, container, key, request, qos, decision.error().withContext("resize"));
    const std::string why = escapeForDisplay(decision.error().message());
    spdlog::warn("refused resize of {} ({}): {}; the old allocation stays", describe(key),
                 escapeForDisplay(container.id), why);
    syncPodQuotaLocked(pod);  // the kubelet may have set the pod's new quota before asking
    return Error(decision.error().code(), "topod refused resize of " + describe(key) + ": " + why);
  }
  auto draft = store_.draft();
  draft.put(decision->key, decision->allocation);
  const bool others_may_move = othersMayMoveLocked(exclusive_before);
  if (auto emptied = emptiedContainerLocked(container.id, decision->placement, others_may_move)) {
    draft.rollback();
    std::string who = *emptied == container.id ? "it" : "container " + describe(containers_.at(*emptied).key);
    std::string message = "topod refused resize of " + describe(key) + ": it would leave " + who +
                          " without any CPU (its shared pool would be empty); the old allocation stays";
    spdlog::warn("{}", message);
    return Error::resourceExhausted(message);
  }
  Status committed = draft.commit();
  if (!committed.has_value()) return committed.error().withContext("checkpoint after resizing " + describe(key));
  explanations_[decision->key] = decision->explanation;
  Known& known = containers_[container.id];
  auto removed_quota = removed_pod_quotas_.find(key.pod_uid);
  if (removed_quota != removed_pod_quotas_.end() &&
      (known.requested.cpu_quota != requested.cpu_quota || known.requested.cpu_period != requested.cpu_period)) {
    removed_quota->second.limits_changed = true;
  }
  known.id = container.id;
  known.pod_id = pod.id;
  known.key = key;
  known.pod_namespace = pod.namespace_name;
  known.pod_name = pod.name;
  known.cgroups_path = container.cgroups_path;
  known.requested = requested;
  ids_[key] = container.id;
  bool exclusive = !decision->allocation.exclusive_cpus.empty();
  // A container first seen here may have run anywhere; a resized one may change nodes.
  setAppliedLocked(known, Applied{.placement = decision->placement, .exclusive = exclusive}, true);
  std::vector<nri::Update> updates{updateFor(known, *known.applied)};
  std::vector<nri::Update> others;
  if (others_may_move) others = takeChangedLocked(container.id);
  updates.insert(updates.end(), others.begin(), others.end());
  syncPodQuotaLocked(pod);
  spdlog::info("{} {} ({}): cpus {}{}, {} other containers updated; {}",
               previous ? "resized" : "admitted, first seen at UpdateContainer,", describe(key),
               escapeForDisplay(container.id), decision->placement.cpus.toString(),
               exclusive ? " exclusive" : " shared", others.size(), escapeForDisplay(decision->explanation));
  return updates;
}

Result<std::vector<nri::Update>> Agent::onStopContainer(const nri::Pod& pod, const nri::Container& container) {
  std::unique_lock lock(mutex_);
  auto known = containers_.find(container.id);
  if (known == containers_.end()) return std::vector<nri::Update>{};
  ContainerKey key = keyOf(pod, container.name);
  auto owner = ids_.find(key);
  if (owner == ids_.end() || owner->second != container.id) {
    // An earlier attempt stopping after its replacement was created: nothing of it is held.
    forgetAttemptLocked(container.id);
    return std::vector<nri::Update>{};
  }
  // The allocation stays until the pod goes (RemovePodSandbox), the container is removed for
  // good (RemoveContainer), or its pod admits a new container that reuses it.
  known->second.running = false;
  known->second.applied.reset();
  spdlog::info("{} ({}) stopped; its allocation is kept for its next attempt", describe(key),
               escapeForDisplay(container.id));
  return std::vector<nri::Update>{};
}

Status Agent::onRemoveContainer(const nri::Pod& pod, const nri::Container& container) {
  std::function<void()> notify;
  {
    std::unique_lock lock(mutex_);
    auto known = containers_.find(container.id);
    if (known == containers_.end()) return okStatus();
    ContainerKey key = keyOf(pod, container.name);
    auto owner = ids_.find(key);
    if (owner == ids_.end() || owner->second != container.id) {
      forgetAttemptLocked(container.id);
      return okStatus();
    }
    // Another stopped attempt of the same container that the runtime still lists (seen at
    // Synchronize) takes the allocation over: the kubelet may start the next one from it.
    for (const auto& [id, other] : containers_) {
      if (id != container.id && other.key == key) {
        owner->second = id;
        forgetAttemptLocked(container.id);
        return okStatus();
      }
    }
    const CpuSet exclusive_before = state_.totals().exclusive_cpus;
    releaseLocked(container.id, key, "container removed");
    syncPodQuotaLocked(pod);
    if (!othersMayMoveLocked(exclusive_before)) return okStatus();
    markPendingLocked();
    notify = pending_notifier_;
  }
  if (notify) notify();
  return okStatus();
}

Status Agent::onRemovePodSandbox(const nri::Pod& pod) {
  std::function<void()> notify;
  {
    std::unique_lock lock(mutex_);
    const CpuSet exclusive_before = state_.totals().exclusive_cpus;
    // The pod's containers are found through their keys (pod UID first), not by a scan of every
    // container; only those of this sandbox go (a recreated sandbox of the same pod keeps its own).
    const std::string uid = pod.uid.empty() ? pod.id : pod.uid;
    std::vector<std::pair<std::string, ContainerKey>> gone;
    for (auto it = ids_.lower_bound(ContainerKey{uid, ""}); it != ids_.end() && it->first.pod_uid == uid; ++it) {
      auto known = containers_.find(it->second);
      if (known != containers_.end() && known->second.pod_id == pod.id) gone.emplace_back(it->second, it->first);
    }
    for (const auto& [id, key] : gone) releaseLocked(id, key, "pod removed");
    // Earlier attempts of the pod's containers that are still remembered.
    std::erase_if(containers_, [&](const auto& entry) { return entry.second.pod_id == pod.id; });
    // Allocations of the pod that no container topod knows by id holds (restored, not yet synced).
    std::vector<ContainerKey> orphans;
    auto [first, last] = state_.podContainers(uid);
    for (auto it = first; it != last; ++it) {
      if (ids_.count(it->first) == 0) orphans.push_back(it->first);
    }
    for (const auto& key : orphans) releaseLocked("", key, "pod removed");
    removed_pod_quotas_.erase(uid);  // its cgroup goes with it
    if (!othersMayMoveLocked(exclusive_before)) return okStatus();
    markPendingLocked();
    notify = pending_notifier_;
  }
  if (notify) notify();
  return okStatus();
}

void Agent::setPendingNotifier(std::function<void()> notify) {
  std::unique_lock lock(mutex_);
  pending_notifier_ = std::move(notify);
}

void Agent::setLostAllocationNotifier(std::function<void(const LostAllocation&)> notify) {
  std::unique_lock lock(mutex_);
  lost_notifier_ = std::move(notify);
}

PendingUpdates Agent::takePendingUpdates() {
  std::unique_lock lock(mutex_);
  PendingUpdates pending;
  if (!pending_ || !synchronized_) return pending;
  pending_ = false;
  pending.updates = takeChangedLocked("");
  pending.generation = generation_;
  return pending;
}

void Agent::unsolicitedDone(const PendingUpdates& sent, const std::vector<nri::Update>& failed) {
  std::function<void()> notify;
  {
    std::unique_lock lock(mutex_);
    // A failed update is retried with the next change (re-queuing it at once could spin on a
    // container the runtime is about to report gone).
    for (const nri::Update& update : failed) {
      auto it = containers_.find(update.container_id);
      if (it != containers_.end()) it->second.applied.reset();
    }
    if (!failed.empty()) stale_ = true;
    // An event answered while these were in flight may have sent newer values that ours then
    // overwrote in the runtime: send the current values once more.
    if (generation_ == sent.generation) return;
    for (const nri::Update& update : sent.updates) {
      auto it = containers_.find(update.container_id);
      if (it != containers_.end()) it->second.applied.reset();
    }
    stale_ = true;
    markPendingLocked();
    notify = pending_notifier_;
  }
  if (notify) notify();
}

}  // namespace topod::agent
