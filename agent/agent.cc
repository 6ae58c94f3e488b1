#include "agent/agent.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <utility>

#include "agent/nri_mapping.h"
#include "cgroups/cgroup_path.h"
#include "cgroups/container_files.h"
#include "policies/policy_registry.h"

namespace topod::agent {

using policies::ContainerKey;
using policies::Placement;
using policies::State;

namespace {

std::string describe(const ContainerKey& key) { return key.pod_uid + "/" + key.container_name; }

}  // namespace

Result<std::unique_ptr<Agent>> Agent::create(const topology::Topology& topology, AgentOptions options) {
  auto policy = policies::makePolicy(topology, options.policy);
  if (!policy.has_value()) return policy.error();
  return create(topology, std::move(options), std::move(*policy));
}

Result<std::unique_ptr<Agent>> Agent::create(const topology::Topology& topology, AgentOptions options,
                                             std::unique_ptr<policies::Policy> policy) {
  std::unique_ptr<Agent> agent(new Agent(topology, std::move(options), std::move(policy)));
  auto loaded = agent->checkpoint_.load(topology, agent->options_.policy, *agent->policy_);
  if (!loaded.has_value()) return loaded.error();
  agent->state_ = std::move(loaded->state);
  agent->startup_report_ = loaded->report;
  return agent;
}

Agent::Agent(const topology::Topology& topology, AgentOptions options, std::unique_ptr<policies::Policy> policy)
    : topology_(topology),
      options_(std::move(options)),
      policy_(std::move(policy)),
      checkpoint_(options_.state_dir, options_.checkpoint),
      all_nodes_(topology.numaNodeIds()) {}

void Agent::onConfigure(const nri::RuntimeInfo& runtime) {
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
    if (id == skip_id) continue;
    Applied desired = desiredFor(known, placements, shared);
    if (known.applied && *known.applied == desired) continue;
    updates.push_back(updateFor(known, desired));
    known.applied = desired;
  }
  if (!updates.empty()) ++generation_;
  stale_ = false;
  return updates;
}

bool Agent::othersMayMoveLocked(const CpuSet& exclusive_before) const {
  return stale_ || state_.totals().exclusive_cpus != exclusive_before;
}

Status Agent::persistLocked(std::vector<policies::StateChange>& changes, const std::string& why) {
  Status saved = checkpoint_.record(changes);
  if (!saved.has_value()) return saved.error().withContext("checkpoint after " + why);
  return okStatus();
}

void Agent::releaseLocked(const std::string& id, const ContainerKey& key, const std::string& why) {
  containers_.erase(id);
  auto owner = ids_.find(key);
  if (owner != ids_.end() && owner->second == id) ids_.erase(owner);
  if (!state_.contains(key)) return;
  std::vector<policies::StateChange> changes{{.key = key, .allocation = std::nullopt}};
  Status saved = persistLocked(changes, "releasing " + describe(key));
  if (!saved.has_value()) {
    // The CPUs are free whatever the disk says; a restart that restores the stale allocation
    // drops it again at Synchronize, where the runtime no longer lists the container.
    spdlog::error("released {} ({}) but could not checkpoint: {}", describe(key), why, saved.error().toString());
  }
  state_.erase(key);
  spdlog::info("released {} ({})", describe(key), why);
}

void Agent::markPendingLocked() { pending_ = true; }

policies::ContainerRequest Agent::requestOf(const nri::Container& container, const nri::LinuxResources& resources,
                                            QosClass qos) const {
  policies::ContainerRequest request = containerRequestOf(container, resources, qos);
  if (options_.devices != nullptr) request.devices = deviceRequestsOf(container, topology_, *options_.devices);
  return request;
}

Result<policies::Decision> Agent::adoptLocked(const State& state, const nri::Pod& pod, const nri::Container& c) const {
  auto request = requestOf(c, c.resources, pod.qos);
  return policy_->admit(state, podRequestOf(pod, request), request);
}

Result<std::vector<nri::Update>> Agent::onSynchronize(const std::vector<nri::Pod>& pods,
                                                      const std::vector<nri::Container>& containers) {
  std::unique_lock lock(mutex_);
  pods_.clear();
  for (const nri::Pod& pod : pods) pods_[pod.id] = pod;
  containers_.clear();
  ids_.clear();

  // The runtime is the source of truth for what exists.
  std::vector<const nri::Container*> live;
  std::set<ContainerKey> live_keys;
  for (const nri::Container& c : containers) {
    if (c.state == nri::ContainerState::Stopped) continue;
    auto pod = pods_.find(c.pod_id);
    if (pod == pods_.end()) {
      spdlog::warn("synchronize: container {} ({}) names unknown pod {}; ignored", c.id, c.name, c.pod_id);
      continue;
    }
    live.push_back(&c);
    live_keys.insert(keyOf(pod->second, c.name));
  }
  // Built on a copy (Synchronize is rare) and committed at once, in the order it was built: any
  // prefix of these changes is a State this loop passed through.
  State next = state_;
  std::vector<policies::StateChange> changes;
  int dropped = 0;
  for (const auto& [key, allocation] : state_.containers()) {
    (void)allocation;
    if (live_keys.count(key) != 0) continue;
    next.erase(key);
    changes.push_back({.key = key, .allocation = std::nullopt});
    ++dropped;
    spdlog::info("synchronize: dropped the allocation of {}: the runtime no longer has it", describe(key));
  }
  // Adopt in a stable order so that the same runtime state always yields the same allocations.
  std::sort(live.begin(), live.end(), [&](const nri::Container* a, const nri::Container* b) {
    return std::pair(keyOf(pods_[a->pod_id], a->name), a->id) < std::pair(keyOf(pods_[b->pod_id], b->name), b->id);
  });
  int adopted = 0;
  for (const nri::Container* c : live) {
    const nri::Pod& pod = pods_[c->pod_id];
    ContainerKey key = keyOf(pod, c->name);
    containers_[c->id] = Known{.id = c->id, .pod_id = c->pod_id, .key = key, .cgroups_path = c->cgroups_path,
                               .requested = c->resources, .applied = std::nullopt};
    ids_[key] = c->id;
    if (next.containers().count(key) != 0) continue;
    auto decision = adoptLocked(next, pod, *c);
    if (!decision.has_value()) {
      spdlog::warn("synchronize: cannot adopt {} ({}): {}; it runs in the shared pool", describe(key), c->id,
                   decision.error().message());
      continue;
    }
    next.put(decision->key, decision->allocation);
    changes.push_back({.key = decision->key, .allocation = decision->allocation});
    ++adopted;
    spdlog::info("synchronize: adopted {}: {}", describe(key), decision->explanation);
  }
  if (!changes.empty()) {
    Status committed = persistLocked(changes, "synchronize");
    if (!committed.has_value()) return committed.error();
    state_ = std::move(next);
  }

  // Re-apply every placement whose actual cpuset drifted (or is unknown).
  std::vector<nri::Update> updates;
  auto placements = policy_->placements(state_);
  CpuSet shared = policy_->sharedCpus(state_);
  std::map<std::string, const nri::Container*> by_id;
  for (const nri::Container* c : live) by_id[c->id] = c;
  int drifted = 0;
  for (auto& [id, known] : containers_) {
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
    if (!actual || *actual != desired.placement.cpus || !quota_ok) {
      updates.push_back(updateFor(known, desired));
      ++drifted;
    }
    known.applied = desired;
  }
  synchronized_ = true;
  pending_ = false;
  stale_ = false;
  ++generation_;
  spdlog::info("synchronized with the runtime: {} pods, {} containers; adopted {}, dropped {}, {} cpusets re-applied",
               pods.size(), live.size(), adopted, dropped, drifted);
  return updates;
}

Result<nri::CreateReply> Agent::onCreateContainer(const nri::Pod& pod, const nri::Container& container) {
  // Outside the lock: finding the container's devices reads sysfs and depends on no state.
  const policies::ContainerRequest request = requestOf(container, container.resources, pod.qos);
  std::unique_lock lock(mutex_);
  pods_[pod.id] = pod;
  ContainerKey key = keyOf(pod, container.name);
  const CpuSet exclusive_before = state_.totals().exclusive_cpus;
  // A restarted container reuses its name (and so its key) under a new id: the old allocation
  // goes first, as the kubelet removes the old container's assignment.
  auto previous_id = ids_.find(key);
  if (previous_id != ids_.end() && previous_id->second != container.id) {
    containers_.erase(previous_id->second);
    ids_.erase(previous_id);
  }
  // Decided on state_ itself (no copy of every allocation on the NRI path): the old allocation
  // is taken out for the decision and put back when nothing is committed.
  std::optional<policies::ContainerAllocation> previous;
  if (const policies::ContainerAllocation* old = state_.find(key)) {
    previous = *old;
    state_.erase(key);
  }
  auto restore = [&] {
    if (previous) state_.put(key, std::move(*previous));
  };

  auto decision = policy_->admit(state_, podRequestOf(pod, request), request);
  if (!decision.has_value()) {
    restore();
    spdlog::warn("refused {} ({}): {}", describe(key), container.id, decision.error().message());
    return Error(decision.error().code(), "topod refused container " + describe(key) + ": " + decision.error().message());
  }
  std::vector<policies::StateChange> changes{{.key = decision->key, .allocation = decision->allocation}};
  Status committed = persistLocked(changes, "admitting " + describe(key));
  if (!committed.has_value()) {
    restore();
    spdlog::error("refused {}: {}", describe(key), committed.error().toString());
    return committed.error();
  }
  state_.put(decision->key, decision->allocation);
  bool exclusive = !decision->allocation.exclusive_cpus.empty();
  Known known{.id = container.id, .pod_id = pod.id, .key = key, .cgroups_path = container.cgroups_path,
              .requested = container.resources,
              .applied = Applied{.placement = decision->placement, .exclusive = exclusive}};
  nri::CreateReply reply;
  reply.adjustment.resources = resourcesFor(decision->placement, exclusive, all_nodes_, container.resources);
  containers_[container.id] = std::move(known);
  ids_[key] = container.id;
  if (othersMayMoveLocked(exclusive_before)) reply.updates = takeChangedLocked(container.id);
  spdlog::info("admitted {} ({}): cpus {}{}, {} other containers updated; {}", describe(key), container.id,
               decision->placement.cpus.toString(), exclusive ? " exclusive" : " shared", reply.updates.size(),
               decision->explanation);
  return reply;
}

Result<std::vector<nri::Update>> Agent::onUpdateContainer(const nri::Pod& pod, const nri::Container& container,
                                                          const nri::LinuxResources& requested) {
  // Outside the lock, as in onCreateContainer.
  policies::ContainerRequest request = requestOf(container, requested, pod.qos);
  std::unique_lock lock(mutex_);
  ContainerKey key = keyOf(pod, container.name);
  const CpuSet exclusive_before = state_.totals().exclusive_cpus;
  bool known_allocation = state_.contains(key);
  // Devices do not change in a resize; an update that does not list them keeps those admitted.
  if (known_allocation && request.devices.empty()) request.devices = state_.containers().at(key).request.devices;
  auto pod_request = podRequestOf(pod, request);
  auto decision = known_allocation ? policy_->resize(state_, pod_request, request)
                                   : policy_->admit(state_, pod_request, request);
  if (!decision.has_value()) {
    spdlog::warn("refused resize of {} ({}): {}; the old allocation stays", describe(key), container.id,
                 decision.error().message());
    return Error(decision.error().code(), "topod refused resize of " + describe(key) + ": " + decision.error().message());
  }
  std::vector<policies::StateChange> changes{{.key = decision->key, .allocation = decision->allocation}};
  Status committed = persistLocked(changes, "resizing " + describe(key));
  if (!committed.has_value()) return committed.error();
  state_.put(decision->key, decision->allocation);
  Known& known = containers_[container.id];
  known.id = container.id;
  known.pod_id = pod.id;
  known.key = key;
  known.cgroups_path = container.cgroups_path;
  known.requested = requested;
  ids_[key] = container.id;
  bool exclusive = !decision->allocation.exclusive_cpus.empty();
  known.applied = Applied{.placement = decision->placement, .exclusive = exclusive};
  std::vector<nri::Update> updates{updateFor(known, *known.applied)};
  std::vector<nri::Update> others;
  if (othersMayMoveLocked(exclusive_before)) others = takeChangedLocked(container.id);
  updates.insert(updates.end(), others.begin(), others.end());
  spdlog::info("{} {} ({}): cpus {}{}, {} other containers updated; {}",
               known_allocation ? "resized" : "admitted, first seen at UpdateContainer,", describe(key), container.id,
               decision->placement.cpus.toString(), exclusive ? " exclusive" : " shared", others.size(),
               decision->explanation);
  return updates;
}

Result<std::vector<nri::Update>> Agent::onStopContainer(const nri::Pod& pod, const nri::Container& container) {
  std::unique_lock lock(mutex_);
  const CpuSet exclusive_before = state_.totals().exclusive_cpus;
  releaseLocked(container.id, keyOf(pod, container.name), "container stopped");
  if (!othersMayMoveLocked(exclusive_before)) return std::vector<nri::Update>{};
  return takeChangedLocked("");
}

Status Agent::onRunPodSandbox(const nri::Pod& pod) {
  std::unique_lock lock(mutex_);
  pods_[pod.id] = pod;
  return okStatus();
}

Status Agent::onRemoveContainer(const nri::Pod& pod, const nri::Container& container) {
  std::function<void()> notify;
  {
    std::unique_lock lock(mutex_);
    if (containers_.count(container.id) == 0) return okStatus();
    const CpuSet exclusive_before = state_.totals().exclusive_cpus;
    releaseLocked(container.id, keyOf(pod, container.name), "container removed");
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
    // Allocations of the pod that no container topod knows by id holds (restored, not yet synced).
    std::vector<ContainerKey> orphans;
    auto [first, last] = state_.podContainers(uid);
    for (auto it = first; it != last; ++it) {
      if (ids_.count(it->first) == 0) orphans.push_back(it->first);
    }
    for (const auto& key : orphans) releaseLocked("", key, "pod removed");
    pods_.erase(pod.id);
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

State Agent::state() const {
  std::unique_lock lock(mutex_);
  return state_;
}

std::size_t Agent::containerCount() const {
  std::unique_lock lock(mutex_);
  return containers_.size();
}

bool Agent::synchronized() const {
  std::unique_lock lock(mutex_);
  return synchronized_;
}

}  // namespace topod::agent
