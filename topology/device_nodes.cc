#include "topology/device_nodes.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace topod::topology {

namespace fs = std::filesystem;

namespace {

// NV_MAJOR_DEVICE_NUMBER in NVIDIA's driver; minors 254 and 255 are nvidia-modeset and nvidiactl.
constexpr int64_t kNvidiaMajor = 195;
constexpr int64_t kNvidiaFirstControlMinor = 254;

bool isHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

bool isNumber(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

bool isPciAddress(const std::string& text) {
  // dddd:bb:dd.f
  if (text.size() != 12 || text[4] != ':' || text[7] != ':' || text[10] != '.') return false;
  std::string_view view(text);
  return isHex(view.substr(0, 4)) && isHex(view.substr(5, 2)) && isHex(view.substr(8, 2)) && text[11] >= '0' &&
         text[11] <= '7';
}

std::optional<std::string> SysfsDeviceNodeResolver::pciAddress(DeviceNodeType type, int64_t major,
                                                               int64_t minor) const {
  const fs::path link = fs::path(root_) / "sys/dev" / (type == DeviceNodeType::Char ? "char" : "block") /
                        (std::to_string(major) + ":" + std::to_string(minor));
  std::error_code error;
  const fs::path target = fs::canonical(link, error);
  if (!error) {
    std::vector<std::string> parts;
    for (const fs::path& part : target) parts.push_back(part.string());
    // A VFIO group: devices/virtual/vfio/<N>.
    if (parts.size() >= 3 && parts[parts.size() - 2] == "vfio" && parts[parts.size() - 3] == "virtual" &&
        isNumber(parts.back())) {
      return vfioGroupDevice(parts.back());
    }
    // The nearest PCI ancestor (a GPU behind a PCIe switch has several in its path).
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      if (isPciAddress(*it)) return *it;
    }
    return std::nullopt;
  }
  if (type == DeviceNodeType::Char && major == kNvidiaMajor && minor >= 0 && minor < kNvidiaFirstControlMinor) {
    return nvidiaGpu(minor);
  }
  return std::nullopt;
}

std::optional<std::string> SysfsDeviceNodeResolver::vfioGroupDevice(const std::string& group) const {
  std::error_code error;
  std::vector<std::string> addresses;
  for (const fs::directory_entry& entry :
       fs::directory_iterator(fs::path(root_) / "sys/kernel/iommu_groups" / group / "devices", error)) {
    std::string name = entry.path().filename().string();
    if (isPciAddress(name)) addresses.push_back(std::move(name));
  }
  if (addresses.empty()) return std::nullopt;
  // A group may hold a device and its bridge or functions; they share one NUMA node.
  return *std::min_element(addresses.begin(), addresses.end());
}

std::optional<std::string> SysfsDeviceNodeResolver::nvidiaGpu(int64_t minor) const {
  std::error_code error;
  for (const fs::directory_entry& entry :
       fs::directory_iterator(fs::path(root_) / "proc/driver/nvidia/gpus", error)) {
    const std::string address = entry.path().filename().string();
    if (!isPciAddress(address)) continue;
    std::ifstream information(entry.path() / "information");
    std::string line;
    while (std::getline(information, line)) {
      // "Device Minor: 	 0"
      constexpr std::string_view kKey = "Device Minor:";
      if (line.compare(0, kKey.size(), kKey) != 0) continue;
      std::string_view value = std::string_view(line).substr(kKey.size());
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())) != 0) value.remove_prefix(1);
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())) != 0) value.remove_suffix(1);
      if (isNumber(value) && value == std::to_string(minor)) return address;
      break;
    }
  }
  return std::nullopt;
}

}  // namespace topod::topology
