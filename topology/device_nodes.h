// Which PCI device stands behind a device node a container is given (/dev/nvidia0,
// /dev/dri/renderD128, /dev/infiniband/uverbs0, /dev/vfio/42): the link between what the
// runtime reports (type, major, minor) and the topology's devices and their NUMA nodes.
//
// Read under an explicit root (tests replay fake trees; "/" on a live machine):
//  - <root>/sys/dev/{char,block}/<major>:<minor>, the kernel's link to the device's sysfs
//    directory, whose nearest PCI ancestor is the answer (DRM, RDMA, NVMe, most drivers);
//  - a VFIO group (/dev/vfio/<N>, a link into devices/virtual/vfio/<N>): the first PCI device
//    of <root>/sys/kernel/iommu_groups/<N>/devices;
//  - NVIDIA's proprietary driver registers no sysfs device for /dev/nvidia<N> (char major 195):
//    the GPU whose <root>/proc/driver/nvidia/gpus/<address>/information says "Device Minor: N".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace topod::topology {

enum class DeviceNodeType { Char, Block };

class DeviceNodeResolver {
 public:
  virtual ~DeviceNodeResolver() = default;
  // The PCI address ("0000:17:00.0") behind the node, or nullopt when it has none (/dev/null,
  // /dev/fuse, nvidiactl) or the tree does not say.
  virtual std::optional<std::string> pciAddress(DeviceNodeType type, int64_t major, int64_t minor) const = 0;
};

class SysfsDeviceNodeResolver final : public DeviceNodeResolver {
 public:
  explicit SysfsDeviceNodeResolver(std::string root) : root_(std::move(root)) {}
  std::optional<std::string> pciAddress(DeviceNodeType type, int64_t major, int64_t minor) const override;

 private:
  std::optional<std::string> nvidiaGpu(int64_t minor) const;
  std::optional<std::string> vfioGroupDevice(const std::string& group) const;

  std::string root_;
};

// "0000:17:00.0": domain, bus, device, function as sysfs spells PCI addresses.
bool isPciAddress(const std::string& text);

}  // namespace topod::topology
