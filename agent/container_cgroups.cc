// The Agent's work on cgroups beyond what NRI carries (agent.h): the pod-level CPU quota of pods
// that hold exclusive CPUs, and pages that follow a container's new cpuset.mems. Both run under
// the agent's lock except the page moves themselves, which followPages() does outside it.
#include <spdlog/spdlog.h>

#include <set>
#include <vector>

#include "agent/agent.h"
#include "agent/agent_display.h"
#include "agent/nri_mapping.h"
#include "cgroups/cgroup_path.h"
#include "cgroups/container_files.h"
#include "cgroups/page_migration.h"
#include "common/text.h"
#include "systemd/unit_properties.h"

namespace topod::agent {

using policies::ContainerKey;

std::optional<int64_t> Agent::podContainersQuotaLocked(const std::string& pod_uid, uint64_t period_us) const {
  std::vector<nri::LinuxResources> requested;
  for (auto it = ids_.lower_bound(ContainerKey{pod_uid, ""}); it != ids_.end() && it->first.pod_uid == pod_uid; ++it) {
    auto known = containers_.find(it->second);
    if (known != containers_.end() && known->second.running) requested.push_back(known->second.requested);
  }
  return kubeletPodCpuQuota(requested, period_us);
}

namespace {

// The path a pod quota change took, for the log: the file, and the unit when systemd owns the
// pod cgroup.
std::string pathText(const std::optional<std::string>& unit, const Status& via_unit) {
  if (!unit) return "the cgroup file";
  if (via_unit.has_value()) return "systemd unit " + escapeForDisplay(*unit) + " and the cgroup file";
  return "the cgroup file only (systemd unit " + escapeForDisplay(*unit) + ": " +
         escapeForDisplay(via_unit.error().toString()) + ")";
}

}  // namespace

Status Agent::setUnitQuotaLocked(const std::optional<std::string>& unit, const systemd::UnitCpuQuota& quota) {
  if (!unit) return okStatus();
  if (options_.units == nullptr) {
    return Error::unavailable("no systemd bus; a daemon-reload writes the unit's own quota back")
        .withReason(systemd::kNoBusReason);
  }
  return options_.units->setCpuQuota(*unit, quota);
}

void Agent::clearUnitQuotaLocked(const std::string& who, RemovedPodQuota& record) {
  if (options_.units == nullptr || !record.unit || record.unit_cleared) return;
  auto held = options_.units->cpuQuota(*record.unit);
  if (!held.has_value()) {
    // A slice systemd does not know is no unit's to restore; other failures: the next event.
    record.unit_cleared = held.error().reason() == systemd::kNoSuchUnitReason;
    return;
  }
  if (!held->per_sec_us) {
    record.unit_cleared = true;
    return;
  }
  Status set = options_.units->setCpuQuota(*record.unit, systemd::UnitCpuQuota{});
  if (!set.has_value()) return;
  record.unit_cleared = true;
  const auto quota_us = static_cast<int64_t>(*held->per_sec_us * record.period_us / 1000000);
  if (!record.saved_quota_us) record.saved_quota_us = quota_us;
  spdlog::info(
      "{} has exclusive CPUs: removed the pod-level CPU quota that systemd unit {} still held ({} us per {} us), "
      "which a daemon-reload would have written back",
      who, escapeForDisplay(*record.unit), quota_us, record.period_us);
}

void Agent::syncPodQuotaLocked(const nri::Pod& pod) {
  if (options_.cgroups == nullptr) return;
  const std::string uid = pod.uid.empty() ? pod.id : pod.uid;
  bool exclusive = false;
  auto [first, last] = state_.podContainers(uid);
  for (auto it = first; it != last; ++it) exclusive = exclusive || !it->second.exclusive_cpus.empty();
  auto removed = removed_pod_quotas_.find(uid);
  if (!exclusive && removed == removed_pod_quotas_.end()) return;
  cgroups::CgroupFs& fs = *options_.cgroups;
  const std::string who = "pod " + escapeForDisplay(uid);
  if (exclusive) {
    // Read every time: a kubelet that resizes the pod writes the pod cgroup's quota again.
    std::string cgroup;
    if (removed != removed_pod_quotas_.end()) {
      cgroup = removed->second.cgroup;
    } else {
      if (pod.cgroup_parent.empty()) return;  // the runtime names no pod cgroup
      auto path = cgroups::podCgroupPathOf(pod.cgroup_parent);
      if (!path.has_value()) {
        spdlog::warn("{} has exclusive CPUs but its pod-level CPU quota stays: {}", who,
                     escapeForDisplay(path.error().message()));
        return;
      }
      cgroup = *path;
    }
    auto current = cgroups::readCpuQuota(fs, cgroup);
    if (!current.has_value()) {
      spdlog::warn("{} has exclusive CPUs but its pod-level CPU quota stays: {}", who,
                   escapeForDisplay(current.error().toString()));
      return;
    }
    if (current->quota_us < 0) {
      if (removed == removed_pod_quotas_.end()) {
        removed = removed_pod_quotas_
                      .emplace(uid, RemovedPodQuota{.cgroup = cgroup,
                                                    .saved_quota_us = std::nullopt,
                                                    .period_us = current->period_us,
                                                    .unit = systemd::sliceUnitOf(cgroup)})
                      .first;
      }
      // The file says none; systemd may still hold a quota it would write back.
      clearUnitQuotaLocked(who, removed->second);
      return;
    }
    Status written =
        cgroups::writeCpuQuota(fs, cgroup, cgroups::CpuQuota{.quota_us = -1, .period_us = current->period_us});
    if (!written.has_value()) {
      spdlog::warn(
          "{} has exclusive CPUs but its pod-level CPU quota ({} us per {} us) could not be removed: {}; "
          "retried at the pod's next event",
          who, current->quota_us, current->period_us, escapeForDisplay(written.error().toString()));
      return;
    }
    // What the kubelet wrote last holds its latest limits.
    RemovedPodQuota record{.cgroup = cgroup,
                           .saved_quota_us = current->quota_us,
                           .period_us = current->period_us,
                           .unit = systemd::sliceUnitOf(cgroup)};
    // The file first (in effect at once), then the unit, so that a daemon-reload keeps it.
    Status via_unit = setUnitQuotaLocked(record.unit, systemd::UnitCpuQuota{});
    record.unit_cleared = via_unit.has_value() || via_unit.error().reason() == systemd::kNoSuchUnitReason;
    if (!record.unit_cleared && options_.units != nullptr) {
      spdlog::warn(
          "{} has exclusive CPUs: removed its pod-level CPU quota ({} us per {} us) from {} through {}; "
          "retried at the pod's next event",
          who, current->quota_us, current->period_us, escapeForDisplay(cgroup), pathText(record.unit, via_unit));
    } else {
      spdlog::info(
          "{} has exclusive CPUs: removed its pod-level CPU quota ({} us per {} us) from {} through {}, as the "
          "kubelet does with DisableCPUQuotaWithExclusiveCPUs",
          who, current->quota_us, current->period_us, escapeForDisplay(cgroup), pathText(record.unit, via_unit));
    }
    removed_pod_quotas_[uid] = std::move(record);
    return;
  }
  RemovedPodQuota record = std::move(removed->second);
  removed_pod_quotas_.erase(removed);
  // The quota it had (the kubelet's, over every container of the pod's spec, overhead included),
  // unless a resize changed a limit since: then the sum the kubelet computes for the new limits.
  std::optional<int64_t> restore = record.saved_quota_us;
  if (!restore || record.limits_changed) {
    if (auto sum = podContainersQuotaLocked(uid, record.period_us)) restore = sum;
  }
  if (!restore) {
    spdlog::info("{} no longer has exclusive CPUs; it had no pod-level CPU quota to restore", who);
    return;
  }
  // The unit first, then the file, as the kubelet's systemd driver (runc) does: systemd keeps the
  // quota in steps of 10 ms per second, so the file gets the exact value last.
  Status via_unit = setUnitQuotaLocked(
      record.unit, systemd::UnitCpuQuota{.per_sec_us = systemd::cpuQuotaPerSecUs(*restore, record.period_us),
                                         .period_us = record.period_us == systemd::kDefaultCpuPeriodUs
                                                          ? std::nullopt
                                                          : std::optional(record.period_us)});
  Status written =
      cgroups::writeCpuQuota(fs, record.cgroup, cgroups::CpuQuota{.quota_us = *restore, .period_us = record.period_us});
  if (!written.has_value()) {
    if (written.error().code() == ErrorCode::NotFound) return;  // the pod cgroup is gone with the pod
    spdlog::warn(
        "{} no longer has exclusive CPUs but its pod-level CPU quota ({} us per {} us) could not be "
        "restored: {}; it runs without one",
        who, *restore, record.period_us, escapeForDisplay(written.error().toString()));
    return;
  }
  if (!via_unit.has_value() && options_.units != nullptr) {
    spdlog::warn("{} no longer has exclusive CPUs: restored its pod-level CPU quota, {} us per {} us, through {}", who,
                 *restore, record.period_us, pathText(record.unit, via_unit));
    return;
  }
  spdlog::info("{} no longer has exclusive CPUs: restored its pod-level CPU quota, {} us per {} us, through {}", who,
               *restore, record.period_us, pathText(record.unit, via_unit));
}

void Agent::setAppliedLocked(Known& known, const Applied& desired, bool pages_may_be_elsewhere) {
  std::optional<Applied> previous = known.applied;
  known.applied = desired;
  if (options_.pages == nullptr || options_.cgroups == nullptr || !pages_may_be_elsewhere) return;
  const NodeSet& to = desired.placement.mems;
  // Unrestricted (every node): wherever the pages are, they may stay.
  if (to.empty() || all_nodes_.isSubsetOf(to)) {
    page_moves_.erase(known.id);
    return;
  }
  // Already confined to nodes it keeps: nothing to move.
  if (previous && !previous->placement.mems.empty() && previous->placement.mems.isSubsetOf(to)) return;
  const Clock& clock = options_.clock != nullptr ? *options_.clock : steadyClock();
  page_moves_[known.id] = PageMove{.cgroups_path = known.cgroups_path, .mems = to, .since = clock.now()};
}

bool Agent::pagesPending() const {
  std::lock_guard lock(mutex_);
  return !page_moves_.empty();
}

void Agent::followPages(Clock::Duration budget) {
  if (options_.pages == nullptr || options_.cgroups == nullptr) return;
  const Clock& clock = options_.clock != nullptr ? *options_.clock : steadyClock();
  const Clock::TimePoint deadline = clock.now() + budget;
  std::map<std::string, PageMove> moves;
  std::map<std::string, std::string> names;
  {
    std::lock_guard lock(mutex_);
    for (auto it = page_moves_.begin(); it != page_moves_.end();) {
      auto known = containers_.find(it->first);
      if (known == containers_.end() || !known->second.running) {
        it = page_moves_.erase(it);  // gone or stopped: no process to move
        continue;
      }
      names[it->first] = describe(known->second.key);
      moves.insert(*it);
      ++it;
    }
  }
  // Outside the lock: migrate_pages() can take a while, and NRI events must not wait on it.
  for (const auto& [id, move] : moves) {
    if (clock.now() >= deadline) break;
    const std::string who = names[id] + " (" + escapeForDisplay(id) + ")";
    bool done = true;
    auto path = cgroups::cgroupPathOf(move.cgroups_path);
    if (!path.has_value()) {
      spdlog::warn("pages of {} not moved: {}", who, path.error().toString());
    } else if (auto mems = cgroups::readMems(*options_.cgroups, *path); !mems.has_value()) {
      if (mems.error().code() != ErrorCode::NotFound) {
        spdlog::warn("pages of {} not moved: {}", who, mems.error().toString());
      }
    } else if (*mems != move.mems) {
      // The runtime has not applied the new cpuset.mems yet (a reply or an update in flight).
      done = clock.now() - move.since >= kPageApplyWait;
      if (done) {
        spdlog::warn("pages of {} not moved: its cgroup still allows NUMA node(s) {}, not {}, after {} s", who,
                     mems->toString(), move.mems.toString(), kPageApplyWait.count());
      }
    } else {
      auto outcome = cgroups::migratePages(*options_.cgroups, *options_.pages, clock, *path, move.mems, deadline);
      if (!outcome.has_value()) {
        if (outcome.error().code() != ErrorCode::NotFound) {
          spdlog::warn("pages of {} not moved: {}", who, outcome.error().toString());
        }
      } else if (!outcome->errors.empty() || outcome->deadline_hit || outcome->pages_not_moved > 0) {
        spdlog::warn("pages of {}: {}", who, outcome->summary(move.mems));
      } else {
        spdlog::info("pages of {}: {}", who, outcome->summary(move.mems));
      }
      // Left for the next call when the deadline cut it short.
      done = !outcome.has_value() || !outcome->deadline_hit;
    }
    if (!done) continue;
    std::lock_guard lock(mutex_);
    auto it = page_moves_.find(id);
    // A newer move queued meanwhile (another change) stays.
    if (it != page_moves_.end() && it->second.mems == move.mems && it->second.since == move.since)
      page_moves_.erase(it);
  }
}

}  // namespace topod::agent
