// Which PCI device stands behind a device node a container is given (/dev/nvidia0,
// /dev/dri/renderD128, /dev/infiniband/uverbs0, /dev/vfio/42): the link between what the
// runtime reports (type, major, minor) and the topology's devices and their NUMA nodes.
//
// Read under an explicit root (tests replay fake trees; "/" on a live machine), it answers with
// candidate PCI addresses, best first; the caller takes the first its topology knows:
//  - <root>/sys/dev/{char,block}/<major>:<minor>, the kernel's link to the device's sysfs
//    directory: its PCI ancestors, nearest first (DRM, RDMA, NVMe, most drivers; a virtual
//    function before its bridges);
//  - a VFIO group (/dev/vfio/<N>, a link into devices/virtual/vfio/<N>): the PCI devices of
//    <root>/sys/kernel/iommu_groups/<N>/devices in address order (without ACS a group also
//    holds bridges, which the topology does not list);
//  - NVIDIA's proprietary driver registers no sysfs device for /dev/nvidia<N> (char major 195):
//    the GPU whose <root>/proc/driver/nvidia/gpus/<address>/information says "Device Minor: N".
// Thread-safe. Never throws: a tree that cannot be read (a device falling off the bus mid-scan) yields what
// was read before the error.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace topod::topology {

enum class DeviceNodeType { Char, Block };

class DeviceNodeResolver {
 public:
  virtual ~DeviceNodeResolver() = default;
  // Candidate PCI addresses ("0000:17:00.0") behind the node, best first; empty when it has
  // none (/dev/null, /dev/fuse, nvidiactl) or the tree does not say.
  virtual std::vector<std::string> pciAddresses(DeviceNodeType type, int64_t major, int64_t minor) const = 0;
};

class SysfsDeviceNodeResolver final : public DeviceNodeResolver {
 public:
  explicit SysfsDeviceNodeResolver(std::string root) : root_(std::move(root)) {}
  std::vector<std::string> pciAddresses(DeviceNodeType type, int64_t major, int64_t minor) const override;

 private:
  std::vector<std::string> nvidiaGpu(int64_t minor) const;
  std::vector<std::string> vfioGroupDevices(const std::string& group) const;

  std::string root_;
  // NVIDIA device minor -> PCI address, as last read; each hit is confirmed with one file.
  mutable std::mutex nvidia_mutex_;
  mutable std::map<int64_t, std::string> nvidia_minors_;
};

// "0000:17:00.0": domain, bus, device, function as sysfs spells PCI addresses (Intel VMD
// domains have 5 hex digits: "10000:e1:00.0").
bool isPciAddress(const std::string& text);

}  // namespace topod::topology
