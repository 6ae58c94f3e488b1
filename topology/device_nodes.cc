#include "topology/device_nodes.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <mutex>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "common/file_io.h"

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
  // dddd[d]:bb:dd.f
  const std::size_t domain = text.size() >= 8 ? text.size() - 8 : 0;
  if (domain < 4 || text[domain] != ':' || text[domain + 3] != ':' || text[domain + 6] != '.') return false;
  std::string_view view(text);
  return isHex(view.substr(0, domain)) && isHex(view.substr(domain + 1, 2)) && isHex(view.substr(domain + 4, 2)) &&
         text.back() >= '0' && text.back() <= '7';
}

std::vector<std::string> SysfsDeviceNodeResolver::pciAddresses(DeviceNodeType type, int64_t major,
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
      return vfioGroupDevices(parts.back());
    }
    // PCI ancestors, nearest first (a GPU behind a PCIe switch has several in its path).
    std::vector<std::string> ancestors;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      if (isPciAddress(*it)) ancestors.push_back(*it);
    }
    return ancestors;
  }
  if (type == DeviceNodeType::Char && major == kNvidiaMajor && minor >= 0 && minor < kNvidiaFirstControlMinor) {
    return nvidiaGpu(minor);
  }
  return {};
}

namespace {

// The names in `dir`, read without exceptions: an unreadable directory, or one that fails
// mid-read, gives the names read so far.
std::vector<std::string> entryNames(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code error;
  fs::directory_iterator it(dir, error);
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    names.push_back(it->path().filename().string());
  }
  return names;
}

}  // namespace

std::vector<std::string> SysfsDeviceNodeResolver::vfioGroupDevices(const std::string& group) const {
  std::vector<std::string> addresses;
  for (std::string& name : entryNames(fs::path(root_) / "sys/kernel/iommu_groups" / group / "devices")) {
    if (isPciAddress(name)) addresses.push_back(std::move(name));
  }
  std::sort(addresses.begin(), addresses.end());
  return addresses;
}

namespace {

// The "Device Minor:" of one GPU's <gpus>/<address>/information, -1 when unreadable.
int64_t nvidiaMinorOf(const fs::path& gpus, const std::string& address) {
  auto information = readRegularFile((gpus / address / "information").string(), {.no_follow = false});
  if (!information.has_value()) return -1;
  std::string_view rest = *information;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    // "Device Minor: 	 0"
    constexpr std::string_view kKey = "Device Minor:";
    if (!line.starts_with(kKey)) continue;
    std::string_view value = line.substr(kKey.size());
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())) != 0) value.remove_prefix(1);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())) != 0) value.remove_suffix(1);
    int64_t minor = -1;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), minor);
    return ec == std::errc() && end == value.data() + value.size() && !value.empty() ? minor : -1;
  }
  return -1;
}

}  // namespace

std::vector<std::string> SysfsDeviceNodeResolver::nvidiaGpu(int64_t minor) const {
  const fs::path gpus = fs::path(root_) / "proc/driver/nvidia/gpus";
  std::lock_guard lock(nvidia_mutex_);
  // The remembered GPU is confirmed with its one file; the whole directory is read again only
  // when it no longer says this minor (a driver reload renumbers) or the minor is new.
  if (auto known = nvidia_minors_.find(minor);
      known != nvidia_minors_.end() && nvidiaMinorOf(gpus, known->second) == minor) {
    return {known->second};
  }
  nvidia_minors_.clear();
  for (const std::string& address : entryNames(gpus)) {
    if (!isPciAddress(address)) continue;
    const int64_t found = nvidiaMinorOf(gpus, address);
    if (found >= 0) nvidia_minors_[found] = address;
  }
  auto known = nvidia_minors_.find(minor);
  if (known == nvidia_minors_.end()) return {};
  return {known->second};
}

}  // namespace topod::topology
