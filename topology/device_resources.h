// The Kubernetes extended-resource name under which a device plugin advertises a device, so that
// what topod publishes per NUMA node (NodeResourceTopology) and what it reads from containers'
// devices carry the names pods request (`nvidia.com/gpu`), which is what the scheduler plugin
// matches. Rules are tried in order; the first whose class (and vendor, when given) matches
// names the device; a device no rule matches is not a schedulable resource (left out).
//
// The defaults name the GPUs of the three vendors whose device plugins use fixed names
// (NVIDIA's k8s-device-plugin `nvidia.com/gpu`, AMD's `amd.com/gpu`, Intel's
// `gpu.intel.com/i915`), then fall back to topod's own class names (`topod.io/gpu`,
// `topod.io/nic`, `topod.io/accelerator`): NIC and accelerator plugins (SR-IOV, ...) take
// their names from their own configuration, which topod cannot guess. Pure; a value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "topology/model.h"

namespace topod::topology {

struct DeviceResourceRule {
  DeviceClass klass = DeviceClass::Other;
  std::optional<uint16_t> vendor_id;  // PCI vendor; nullopt: any vendor
  std::string resource;               // "nvidia.com/gpu"
  friend bool operator==(const DeviceResourceRule&, const DeviceResourceRule&) = default;
};

class DeviceResourceNames {
 public:
  DeviceResourceNames() : DeviceResourceNames(defaults()) {}
  explicit DeviceResourceNames(std::vector<DeviceResourceRule> rules) : rules_(std::move(rules)) {}

  static std::vector<DeviceResourceRule> defaults();

  // The resource `device` is advertised as; nullopt when no rule matches.
  std::optional<std::string> nameOf(const PciDevice& device) const;
  const std::vector<DeviceResourceRule>& rules() const { return rules_; }

  friend bool operator==(const DeviceResourceNames&, const DeviceResourceNames&) = default;

 private:
  std::vector<DeviceResourceRule> rules_;
};

}  // namespace topod::topology
