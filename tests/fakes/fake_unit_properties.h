// FakeUnitProperties: systemd's units and their CPU quota, in memory. Units exist once a test
// adds them (others fail NotFound with systemd::kNoSuchUnitReason, as systemd answers); fail()
// makes every later call fail with the given error (a lost bus, a refused caller). Records every
// setCpuQuota. reload() does what `systemctl daemon-reload` does to a unit's cgroup: writes the
// unit's quota into the cgroup's file. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/cgroup_fs.h"
#include "cgroups/container_files.h"
#include "systemd/unit_properties.h"

namespace topod::testing {

class FakeUnitProperties final : public systemd::UnitProperties {
 public:
  struct Set {
    std::string unit;
    systemd::UnitCpuQuota quota;
  };

  void addUnit(const std::string& unit, systemd::UnitCpuQuota quota = {}) {
    std::lock_guard lock(mutex_);
    units_[unit] = quota;
  }
  void fail(std::optional<Error> error) {
    std::lock_guard lock(mutex_);
    error_ = std::move(error);
  }
  std::vector<Set> sets() const {
    std::lock_guard lock(mutex_);
    return sets_;
  }
  std::size_t calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  // The unit's quota as systemd holds it (nullopt: unknown unit).
  std::optional<systemd::UnitCpuQuota> unit(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = units_.find(name);
    if (it == units_.end()) return std::nullopt;
    return it->second;
  }

  // systemd re-applying the unit's properties to `cgroup` (daemon-reload): quota = per second x
  // period / 1 s, as systemd computes it.
  Status reload(const std::string& name, cgroups::CgroupFs& fs, const std::string& cgroup) const {
    std::lock_guard lock(mutex_);
    auto it = units_.find(name);
    if (it == units_.end()) return Error::notFound("no unit " + name);
    const uint64_t period = it->second.period_us.value_or(systemd::kDefaultCpuPeriodUs);
    const int64_t quota =
        it->second.per_sec_us ? static_cast<int64_t>(*it->second.per_sec_us * period / 1000000) : int64_t{-1};
    return cgroups::writeCpuQuota(fs, cgroup, cgroups::CpuQuota{.quota_us = quota, .period_us = period});
  }

  Result<systemd::UnitCpuQuota> cpuQuota(const std::string& name) override {
    std::lock_guard lock(mutex_);
    ++calls_;
    if (error_) return *error_;
    auto it = units_.find(name);
    if (it == units_.end()) return noSuchUnit(name);
    return it->second;
  }

  Status setCpuQuota(const std::string& name, const systemd::UnitCpuQuota& quota) override {
    std::lock_guard lock(mutex_);
    ++calls_;
    if (error_) return *error_;
    auto it = units_.find(name);
    if (it == units_.end()) return noSuchUnit(name);
    sets_.push_back(Set{name, quota});
    it->second.per_sec_us = quota.per_sec_us;
    if (quota.period_us) it->second.period_us = quota.period_us;
    return okStatus();
  }

 private:
  static Error noSuchUnit(const std::string& name) {
    return Error::notFound("Unit " + name + " not found.").withReason(systemd::kNoSuchUnitReason);
  }

  mutable std::mutex mutex_;
  std::map<std::string, systemd::UnitCpuQuota> units_;
  std::optional<Error> error_;
  std::vector<Set> sets_;
  std::size_t calls_ = 0;
};

}  // namespace topod::testing
