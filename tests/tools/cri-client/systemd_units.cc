#include "tests/tools/cri-client/systemd_units.h"

#include <systemd/sd-bus.h>

#include <cerrno>
#include <cstring>

#include "systemd/sd_bus_handles.h"

namespace topod::e2e {
namespace {

using systemd::BusError;
using systemd::BusMessage;
using systemd::kSystemdDestination;
using systemd::kSystemdManager;
using systemd::kSystemdManagerPath;
// A slice start is quick; a loaded machine (a VM under TCG) still answers within this.
constexpr uint64_t kCallTimeoutUs = 60ULL * 1000 * 1000;

Status failed(int r, const std::string& what) {
  return Error::fromErrno(-r, what);
}

// Appends "a(sv)" with the properties.
int appendProperties(sd_bus_message* m, const std::vector<UnitProperty>& properties) {
  int r = sd_bus_message_open_container(m, 'a', "(sv)");
  if (r < 0) return r;
  for (const UnitProperty& property : properties) {
    if (const bool* b = std::get_if<bool>(&property.value)) {
      r = sd_bus_message_append(m, "(sv)", property.name.c_str(), "b", static_cast<int>(*b));
    } else if (const uint64_t* t = std::get_if<uint64_t>(&property.value)) {
      r = sd_bus_message_append(m, "(sv)", property.name.c_str(), "t", *t);
    } else if (const std::string* s = std::get_if<std::string>(&property.value)) {
      r = sd_bus_message_append(m, "(sv)", property.name.c_str(), "s", s->c_str());
    } else {
      const auto& list = std::get<std::vector<std::string>>(property.value);
      r = sd_bus_message_open_container(m, 'r', "sv");
      if (r >= 0) r = sd_bus_message_append(m, "s", property.name.c_str());
      if (r >= 0) r = sd_bus_message_open_container(m, 'v', "as");
      if (r >= 0) r = sd_bus_message_open_container(m, 'a', "s");
      for (const std::string& item : list) {
        if (r >= 0) r = sd_bus_message_append(m, "s", item.c_str());
      }
      for (int i = 0; i < 3 && r >= 0; ++i) r = sd_bus_message_close_container(m);
    }
    if (r < 0) return r;
  }
  return sd_bus_message_close_container(m);
}

class SdBusUnits : public SystemdUnits {
 public:
  explicit SdBusUnits(sd_bus* bus) : bus_(bus) {}
  ~SdBusUnits() override { sd_bus_flush_close_unref(bus_); }
  SdBusUnits(const SdBusUnits&) = delete;
  SdBusUnits& operator=(const SdBusUnits&) = delete;

  Status startTransientUnit(const std::string& name, const std::vector<UnitProperty>& properties,
                            bool* existed) override {
    *existed = false;
    BusMessage call;
    int r = sd_bus_message_new_method_call(bus_, &call.message, kSystemdDestination, kSystemdManagerPath,
                                           kSystemdManager, "StartTransientUnit");
    if (r >= 0) r = sd_bus_message_append(call.message, "ss", name.c_str(), "fail");
    if (r >= 0) r = appendProperties(call.message, properties);
    if (r >= 0) r = sd_bus_message_append(call.message, "a(sa(sv))", 0);
    if (r < 0) return failed(r, "building StartTransientUnit(" + name + ")");
    BusError error;
    BusMessage reply;
    r = sd_bus_call(bus_, call.message, kCallTimeoutUs, &error.error, &reply.message);
    if (r < 0 && sd_bus_error_has_name(&error.error, "org.freedesktop.systemd1.UnitExists")) {
      *existed = true;
      return okStatus();
    }
    if (r < 0) return callError(r, error, "StartTransientUnit(" + name + ")");
    return okStatus();
  }

  Status setUnitProperties(const std::string& name, const std::vector<UnitProperty>& properties) override {
    BusMessage call;
    int r = sd_bus_message_new_method_call(bus_, &call.message, kSystemdDestination, kSystemdManagerPath,
                                           kSystemdManager, "SetUnitProperties");
    if (r >= 0) r = sd_bus_message_append(call.message, "sb", name.c_str(), 1);
    if (r >= 0) r = appendProperties(call.message, properties);
    if (r < 0) return failed(r, "building SetUnitProperties(" + name + ")");
    BusError error;
    BusMessage reply;
    r = sd_bus_call(bus_, call.message, kCallTimeoutUs, &error.error, &reply.message);
    if (r < 0) return callError(r, error, "SetUnitProperties(" + name + ")");
    return okStatus();
  }

  Status stopUnit(const std::string& name) override {
    BusError error;
    BusMessage reply;
    const int r = sd_bus_call_method(bus_, kSystemdDestination, kSystemdManagerPath, kSystemdManager, "StopUnit",
                                     &error.error, &reply.message, "ss", name.c_str(), "replace");
    if (r < 0 && sd_bus_error_has_name(&error.error, "org.freedesktop.systemd1.NoSuchUnit")) return okStatus();
    if (r < 0) return callError(r, error, "StopUnit(" + name + ")");
    return okStatus();
  }

 private:
  static Status callError(int r, const BusError& error, const std::string& what) {
    std::string detail = what;
    if (error.error.name != nullptr) detail += ": " + std::string(error.error.name);
    if (error.error.message != nullptr) detail += ": " + std::string(error.error.message);
    return Error::fromErrno(-r, detail);
  }

  sd_bus* bus_;
};

}  // namespace

Result<std::unique_ptr<SystemdUnits>> connectSystemd() {
  sd_bus* bus = nullptr;
  const int r = sd_bus_open_system(&bus);
  if (r < 0) return Error::fromErrno(-r, "connecting to the system bus (the systemd driver needs systemd as PID 1)");
  return std::unique_ptr<SystemdUnits>(std::make_unique<SdBusUnits>(bus));
}

}  // namespace topod::e2e
