#include "topology/device_resources.h"

namespace topod::topology {
namespace {

// PCI vendor ids (the PCI-SIG registry).
constexpr uint16_t kVendorNvidia = 0x10de;
constexpr uint16_t kVendorAmd = 0x1002;
constexpr uint16_t kVendorIntel = 0x8086;

}  // namespace

std::vector<DeviceResourceRule> DeviceResourceNames::defaults() {
  return {
      {.klass = DeviceClass::Gpu, .vendor_id = kVendorNvidia, .resource = "nvidia.com/gpu"},
      {.klass = DeviceClass::Gpu, .vendor_id = kVendorAmd, .resource = "amd.com/gpu"},
      {.klass = DeviceClass::Gpu, .vendor_id = kVendorIntel, .resource = "gpu.intel.com/i915"},
      {.klass = DeviceClass::Gpu, .vendor_id = std::nullopt, .resource = "topod.io/gpu"},
      {.klass = DeviceClass::Nic, .vendor_id = std::nullopt, .resource = "topod.io/nic"},
      {.klass = DeviceClass::Accelerator, .vendor_id = std::nullopt, .resource = "topod.io/accelerator"},
  };
}

std::optional<std::string> DeviceResourceNames::nameOf(const PciDevice& device) const {
  for (const DeviceResourceRule& rule : rules_) {
    if (rule.klass != device.klass) continue;
    if (rule.vendor_id && *rule.vendor_id != device.vendor_id) continue;
    return rule.resource;
  }
  return std::nullopt;
}

}  // namespace topod::topology
