// Transient systemd slice units over D-Bus (sd-bus), the way the kubelet's systemd cgroup driver
// (runc's libcontainer systemd manager) makes pod and QoS slices: StartTransientUnit with the
// accounting properties and the resources, SetUnitProperties to resize, StopUnit to remove.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace topod::e2e {

// One unit property as systemd's D-Bus API takes it: b, t, s or as.
struct UnitProperty {
  std::string name;
  std::variant<bool, uint64_t, std::string, std::vector<std::string>> value;
};

class SystemdUnits {
 public:
  virtual ~SystemdUnits() = default;
  // StartTransientUnit(name, "fail", properties). A unit that already exists is not an error
  // (the QoS slices are shared by every pod of their class): `existed` tells.
  virtual Status startTransientUnit(const std::string& name, const std::vector<UnitProperty>& properties,
                                    bool* existed) = 0;
  // SetUnitProperties(name, runtime=true, properties).
  virtual Status setUnitProperties(const std::string& name, const std::vector<UnitProperty>& properties) = 0;
  // StopUnit(name, "replace"); a unit systemd does not know is not an error.
  virtual Status stopUnit(const std::string& name) = 0;
};

// The system bus (root). Fails when there is no systemd to talk to.
Result<std::unique_ptr<SystemdUnits>> connectSystemd();

}  // namespace topod::e2e
