#include "systemd/unit_properties.h"

#include <systemd/sd-bus.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <mutex>

#include "systemd/sd_bus_handles.h"

namespace topod::systemd {
namespace {

// systemd's own socket for root clients (what systemctl uses as root): no D-Bus daemon needed.
constexpr const char* kPrivateSocket = "/run/systemd/private";
// systemd's "infinity" for usec_t properties (USEC_INFINITY).
constexpr uint64_t kInfinity = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kMicrosPerSecond = 1000000;
// systemd keeps a quota as a percentage of one CPU: runc rounds CPUQuotaPerSecUSec up to this.
constexpr uint64_t kQuotaGranularityUs = 10000;

bool isDisconnect(int r) {
  return r == -ENOTCONN || r == -ECONNRESET || r == -EPIPE || r == -ECONNREFUSED || r == -ESHUTDOWN || r == -ENOENT;
}

// The error of a failed call, with the stable reasons of unit_properties.h.
Error callError(int r, const sd_bus_error& error, const std::string& what) {
  std::string detail = what;
  if (error.name != nullptr) detail += ": " + std::string(error.name);
  if (error.message != nullptr) detail += ": " + std::string(error.message);
  Error base = Error::fromErrno(-r, detail);
  if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit")) {
    return Error(ErrorCode::NotFound, base.message(), -r).withReason(kNoSuchUnitReason);
  }
  if (sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED) ||
      sd_bus_error_has_name(&error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED) || r == -EACCES || r == -EPERM) {
    return Error(ErrorCode::PermissionDenied, base.message(), -r).withReason(kAccessDeniedReason);
  }
  if (error.name == nullptr && isDisconnect(r)) {
    return Error(ErrorCode::Unavailable, base.message(), -r).withReason(kNoBusReason);
  }
  return base;
}

// The D-Bus interface holding a unit's resource-control properties, by the unit's type.
const char* resourceInterfaceOf(const std::string& unit) {
  auto ends = [&unit](std::string_view suffix) {
    return unit.size() > suffix.size() && unit.compare(unit.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends(".slice")) return "org.freedesktop.systemd1.Slice";
  if (ends(".scope")) return "org.freedesktop.systemd1.Scope";
  if (ends(".service")) return "org.freedesktop.systemd1.Service";
  if (ends(".socket")) return "org.freedesktop.systemd1.Socket";
  if (ends(".mount")) return "org.freedesktop.systemd1.Mount";
  if (ends(".swap")) return "org.freedesktop.systemd1.Swap";
  return nullptr;
}

class SdBusUnitProperties final : public UnitProperties {
 public:
  SdBusUnitProperties(std::chrono::microseconds timeout, std::string address)
      : timeout_us_(static_cast<uint64_t>(timeout.count())), address_(std::move(address)) {}
  ~SdBusUnitProperties() override { sd_bus_flush_close_unref(bus_); }
  SdBusUnitProperties(const SdBusUnitProperties&) = delete;
  SdBusUnitProperties& operator=(const SdBusUnitProperties&) = delete;

  // Opens the connection (again, after systemd or the bus went away).
  Status connect() {
    if (bus_ != nullptr && sd_bus_is_open(bus_) > 0) return okStatus();
    bus_ = sd_bus_flush_close_unref(bus_);
    sd_bus* bus = nullptr;
    int r = 0;
    const bool direct = !address_.empty() || (::geteuid() == 0 && ::access(kPrivateSocket, F_OK) == 0);
    if (direct) {
      const std::string address = address_.empty() ? std::string("unix:path=") + kPrivateSocket : address_;
      r = sd_bus_new(&bus);
      if (r >= 0) r = sd_bus_set_address(bus, address.c_str());
      if (r >= 0) r = sd_bus_start(bus);
      if (r < 0) {
        bus = sd_bus_unref(bus);
        if (!address_.empty()) return noBus(r, address);
      }
    }
    if (bus == nullptr) {
      r = sd_bus_open_system(&bus);
      if (r < 0) return noBus(r, "the system bus");
    }
    if (timeout_us_ > 0) (void)sd_bus_set_method_call_timeout(bus, timeout_us_);
    bus_ = bus;
    return okStatus();
  }

  Result<UnitCpuQuota> cpuQuota(const std::string& unit) override {
    std::lock_guard lock(mutex_);
    const char* interface = resourceInterfaceOf(unit);
    if (interface == nullptr) return Error::invalidArgument("systemd unit \"" + unit + "\" has no CPU quota");
    TOPOD_RETURN_IF_ERROR(connect());
    BusError error;
    BusMessage reply;
    int r = sd_bus_call_method(bus_, kSystemdDestination, kSystemdManagerPath, kSystemdManager, "GetUnit", &error.error,
                               &reply.message, "s", unit.c_str());
    if (r < 0) return failed(r, error, "GetUnit(" + unit + ")");
    const char* path = nullptr;
    r = sd_bus_message_read(reply.message, "o", &path);
    if (r < 0) return failed(r, error, "reading GetUnit(" + unit + ")");
    const std::string object(path);
    uint64_t per_sec = 0;
    uint64_t period = 0;
    r = sd_bus_get_property_trivial(bus_, kSystemdDestination, object.c_str(), interface, "CPUQuotaPerSecUSec",
                                    &error.error, 't', &per_sec);
    if (r < 0) return failed(r, error, unit + " CPUQuotaPerSecUSec");
    r = sd_bus_get_property_trivial(bus_, kSystemdDestination, object.c_str(), interface, "CPUQuotaPeriodUSec",
                                    &error.error, 't', &period);
    if (r < 0) return failed(r, error, unit + " CPUQuotaPeriodUSec");
    UnitCpuQuota quota;
    if (per_sec != kInfinity) quota.per_sec_us = per_sec;
    if (period != kInfinity) quota.period_us = period;
    return quota;
  }

  Status setCpuQuota(const std::string& unit, const UnitCpuQuota& quota) override {
    std::lock_guard lock(mutex_);
    TOPOD_RETURN_IF_ERROR(connect());
    BusMessage call;
    const std::string what = "SetUnitProperties(" + unit + ")";
    int r = sd_bus_message_new_method_call(bus_, &call.message, kSystemdDestination, kSystemdManagerPath,
                                           kSystemdManager, "SetUnitProperties");
    if (r >= 0) r = sd_bus_message_append(call.message, "sb", unit.c_str(), 1);  // runtime: until reboot
    if (r >= 0) r = sd_bus_message_open_container(call.message, 'a', "(sv)");
    if (r >= 0) {
      r = sd_bus_message_append(call.message, "(sv)", "CPUQuotaPerSecUSec", "t", quota.per_sec_us.value_or(kInfinity));
    }
    if (r >= 0 && quota.period_us) {
      r = sd_bus_message_append(call.message, "(sv)", "CPUQuotaPeriodUSec", "t", *quota.period_us);
    }
    if (r >= 0) r = sd_bus_message_close_container(call.message);
    if (r < 0) return Error::fromErrno(-r, "building " + what);
    BusError error;
    BusMessage reply;
    r = sd_bus_call(bus_, call.message, 0, &error.error, &reply.message);
    if (r < 0) return failed(r, error, what);
    return okStatus();
  }

 private:
  static Error noBus(int r, const std::string& where) {
    return Error(ErrorCode::Unavailable, Error::fromErrno(-r, "connecting to systemd at " + where).message(), -r)
        .withReason(kNoBusReason);
  }
  // A failed call; a lost connection is dropped so that the next call connects again.
  Error failed(int r, const BusError& error, const std::string& what) {
    if (error.error.name == nullptr && isDisconnect(r)) bus_ = sd_bus_flush_close_unref(bus_);
    return callError(r, error.error, what);
  }

  std::mutex mutex_;
  uint64_t timeout_us_;
  std::string address_;
  sd_bus* bus_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<UnitProperties>> connectUnitProperties(std::chrono::microseconds call_timeout,
                                                              const std::string& address) {
  auto units = std::make_unique<SdBusUnitProperties>(call_timeout, address);
  TOPOD_RETURN_IF_ERROR(units->connect());
  return std::unique_ptr<UnitProperties>(std::move(units));
}

std::optional<uint64_t> cpuQuotaPerSecUs(int64_t quota_us, uint64_t period_us) {
  if (quota_us <= 0 || period_us == 0) return std::nullopt;
  // Millions of CPUs' worth (the product would overflow): no limit in effect.
  if (static_cast<uint64_t>(quota_us) > kInfinity / kMicrosPerSecond / 2) return std::nullopt;
  uint64_t per_sec = static_cast<uint64_t>(quota_us) * kMicrosPerSecond / period_us;
  if (per_sec % kQuotaGranularityUs != 0) per_sec = (per_sec / kQuotaGranularityUs + 1) * kQuotaGranularityUs;
  return per_sec;
}

std::optional<std::string> sliceUnitOf(std::string_view cgroup_path) {
  while (!cgroup_path.empty() && cgroup_path.back() == '/') cgroup_path.remove_suffix(1);
  const size_t slash = cgroup_path.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? cgroup_path : cgroup_path.substr(slash + 1);
  constexpr std::string_view kSuffix = ".slice";
  if (last.size() <= kSuffix.size() || last.substr(last.size() - kSuffix.size()) != kSuffix || last == "-.slice") {
    return std::nullopt;
  }
  return std::string(last);
}

}  // namespace topod::systemd
