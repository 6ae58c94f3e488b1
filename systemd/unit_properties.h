// UnitProperties: a systemd unit's CPU quota, read and changed at runtime over D-Bus
// (org.freedesktop.systemd1). Where systemd owns a cgroup (a slice of the kubelet's systemd
// driver), a value written only to the cgroup's file lasts until systemd writes its own again
// (`systemctl daemon-reload`, any property change of the unit); a runtime property set through
// SetUnitProperties(runtime=true) is what systemd writes from then on, until reboot.
//
// Errors carry a stable reason (the k*Reason constants below): no bus to talk to, a unit systemd
// does not know, or a caller systemd refuses. Every other failure has no reason.
// Implementations: SdBusUnitProperties (connectUnitProperties, libsystemd's sd-bus) and
// FakeUnitProperties (tests/fakes/fake_unit_properties.h).
// Thread-safety: implementations serialise their own calls; any thread may call.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace topod::systemd {

// Error reasons (Error::reason()).
inline constexpr std::string_view kNoBusReason = "SystemdBusUnavailable";       // code Unavailable
inline constexpr std::string_view kNoSuchUnitReason = "SystemdNoSuchUnit";      // code NotFound
inline constexpr std::string_view kAccessDeniedReason = "SystemdAccessDenied";  // code PermissionDenied

// systemd's default CFS period (CGROUP_CPU_QUOTA_DEFAULT_PERIOD_USEC), used while a unit's
// CPUQuotaPeriodUSec is unset.
inline constexpr uint64_t kDefaultCpuPeriodUs = 100000;

// A unit's CPUQuotaPerSecUSec and CPUQuotaPeriodUSec. systemd writes the cgroup's quota as
// per_sec_us * period / 1 s (at least 1 ms), with the default period when none is set.
struct UnitCpuQuota {
  std::optional<uint64_t> per_sec_us;  // CPU time per second of wall time; nullopt: no quota (infinity)
  std::optional<uint64_t> period_us;   // nullopt: systemd's default (kDefaultCpuPeriodUs)
  friend bool operator==(const UnitCpuQuota&, const UnitCpuQuota&) = default;
};

class UnitProperties {
 public:
  virtual ~UnitProperties() = default;
  // The unit's CPU quota (org.freedesktop.systemd1.{Slice,Scope,Service} properties). Errors:
  // NotFound (kNoSuchUnitReason) for a unit systemd has not loaded; Unavailable (kNoBusReason).
  virtual Result<UnitCpuQuota> cpuQuota(const std::string& unit) = 0;
  // SetUnitProperties(unit, runtime=true, CPUQuotaPerSecUSec [, CPUQuotaPeriodUSec when
  // quota.period_us is set]); systemd applies it to the cgroup at once. Errors as cpuQuota, and
  // PermissionDenied (kAccessDeniedReason) when systemd refuses the caller.
  virtual Status setCpuQuota(const std::string& unit, const UnitCpuQuota& quota) = 0;
};

// Connects to systemd: as root through its private socket (/run/systemd/private, which needs
// no D-Bus daemon), else through the system bus. `address` (a D-Bus address) overrides both, for
// tests. Error Unavailable (kNoBusReason) when neither answers: no systemd as PID 1.
// `call_timeout` bounds each call (the agent calls under its lock, on the NRI path).
Result<std::unique_ptr<UnitProperties>> connectUnitProperties(
    std::chrono::microseconds call_timeout = std::chrono::seconds(2), const std::string& address = "");

// The CPUQuotaPerSecUSec that gives a cgroup `quota_us` per `period_us`, as the kubelet's
// systemd driver (runc) computes it: rounded up to a multiple of 10 ms, since systemd keeps the
// quota as a percentage of a CPU. quota_us <= 0 (none) or period_us 0: nullopt (infinity).
std::optional<uint64_t> cpuQuotaPerSecUs(int64_t quota_us, uint64_t period_us);

// The unit that owns a cgroup, when systemd does: the last component of `cgroup_path` when it is
// a slice ("/kubepods.slice/kubepods-pod1.slice" -> "kubepods-pod1.slice"); nullopt otherwise
// (a cgroupfs driver's "/kubepods/pod1", "-.slice" the root).
std::optional<std::string> sliceUnitOf(std::string_view cgroup_path);

}  // namespace topod::systemd
