// Owners of sd-bus's reference-counted message and error objects, for the code that calls
// systemd over D-Bus (unit_properties.cc, and the e2e CRI client's slice units): each frees what
// it holds when it goes out of scope, whatever path the call took.
#pragma once

#include <systemd/sd-bus.h>

namespace topod::systemd {

// The D-Bus names of systemd's manager.
inline constexpr const char* kSystemdDestination = "org.freedesktop.systemd1";
inline constexpr const char* kSystemdManagerPath = "/org/freedesktop/systemd1";
inline constexpr const char* kSystemdManager = "org.freedesktop.systemd1.Manager";

struct BusMessage {
  BusMessage() = default;
  BusMessage(const BusMessage&) = delete;
  BusMessage& operator=(const BusMessage&) = delete;
  ~BusMessage() { sd_bus_message_unref(message); }
  sd_bus_message* message = nullptr;
};

struct BusError {
  BusError() = default;
  BusError(const BusError&) = delete;
  BusError& operator=(const BusError&) = delete;
  ~BusError() { sd_bus_error_free(&error); }
  sd_bus_error error = SD_BUS_ERROR_NULL;
};

}  // namespace topod::systemd
