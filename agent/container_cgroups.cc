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
        removed_pod_quotas_.emplace(
            uid, RemovedPodQuota{.cgroup = cgroup, .saved_quota_us = std::nullopt, .period_us = current->period_us});
      }
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
    removed_pod_quotas_[uid] =
        RemovedPodQuota{.cgroup = cgroup, .saved_quota_us = current->quota_us, .period_us = current->period_us};
    spdlog::info(
        "{} has exclusive CPUs: removed its pod-level CPU quota ({} us per {} us) from {}, as the kubelet "
        "does with DisableCPUQuotaWithExclusiveCPUs",
        who, current->quota_us, current->period_us, escapeForDisplay(cgroup));
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
  spdlog::info("{} no longer has exclusive CPUs: restored its pod-level CPU quota, {} us per {} us", who, *restore,
               record.period_us);
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
