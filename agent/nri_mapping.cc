#include "agent/nri_mapping.h"

#include <charconv>
#include <limits>
#include <map>
#include <string>

#include "topology/zone_summary.h"

namespace topod::agent {

namespace {

// The kubelet's conversion constants (pkg/kubelet/cm/helpers_linux.go).
constexpr int64_t kSharesPerCpu = 1024;
constexpr int64_t kMillisPerCpu = 1000;
constexpr uint64_t kMinShares = 2;

// A privileged container gets every device node of the host (runc's HostDevices), every GPU
// included, though no device plugin gave it any. In Kubernetes a container's device list holds
// only what device plugins, CDI and privilege put there, and these nodes come from privilege
// alone: /dev/mem (1:1), /dev/port (1:4), /dev/kmsg (1:11), /dev/tty0 (4:0). Any of them marks
// the list as the host's (kernels without CONFIG_DEVMEM still have the others).
bool holdsHostDevices(const nri::Container& container) {
  struct Numbers {
    int64_t major;
    int64_t minor;
  };
  constexpr Numbers kHostOnly[] = {{1, 1}, {1, 4}, {1, 11}, {4, 0}};
  for (const nri::LinuxDevice& node : container.devices) {
    if (node.type != "c") continue;
    for (const Numbers& host : kHostOnly) {
      if (node.major == host.major && node.minor == host.minor) return true;
    }
  }
  return false;
}

}  // namespace

policies::PodRequest podRequestOf(const nri::Pod& pod, const policies::ContainerRequest& container) {
  policies::PodRequest request;
  request.uid = pod.uid.empty() ? pod.id : pod.uid;
  request.namespace_name = pod.namespace_name;
  request.name = pod.name;
  request.qos = pod.qos;
  request.annotations = pod.annotations;
  request.containers.push_back(container);
  return request;
}

policies::ContainerRequest containerRequestOf(const nri::Container& container, const nri::LinuxResources& resources,
                                              QosClass qos) {
  policies::ContainerRequest request;
  request.name = container.name;
  request.kind = policies::ContainerKind::App;
  if (resources.cpu_quota && *resources.cpu_quota > 0 && resources.cpu_period && *resources.cpu_period > 0) {
    // Round up: the kubelet rounds the quota down from the limit, so the limit is at least this.
    int64_t period = static_cast<int64_t>(*resources.cpu_period);
    request.cpu_limit_millis = (*resources.cpu_quota * kMillisPerCpu + period - 1) / period;
  }
  if (qos == QosClass::Guaranteed && request.cpu_limit_millis > 0) {
    request.cpu_request_millis = request.cpu_limit_millis;
  } else if (resources.cpu_shares && *resources.cpu_shares > kMinShares) {
    // Nearest millis: shares were rounded down from millis * 1024 / 1000.
    int64_t shares = static_cast<int64_t>(*resources.cpu_shares);
    request.cpu_request_millis = (shares * kMillisPerCpu + kSharesPerCpu / 2) / kSharesPerCpu;
  }
  if (resources.memory_limit && *resources.memory_limit > 0) {
    request.memory_limit_bytes = static_cast<uint64_t>(*resources.memory_limit);
    if (qos == QosClass::Guaranteed) request.memory_request_bytes = request.memory_limit_bytes;
  }
  for (const nri::HugepageLimit& limit : resources.hugepage_limits) {
    auto size = parsePageSize(limit.page_size);
    if (size.has_value() && limit.limit > 0) request.hugepages[*size] = limit.limit;
  }
  return request;
}

std::vector<policies::DeviceRequest> deviceRequestsOf(const nri::Container& container,
                                                      const topology::Topology& topology,
                                                      const topology::DeviceNodeResolver& resolver) {
  static const topology::ZoneSummaryOptions kNames;
  if (holdsHostDevices(container)) return {};
  std::map<std::string, policies::DeviceRequest> by_address;
  for (const nri::LinuxDevice& node : container.devices) {
    topology::DeviceNodeType type;
    if (node.type == "c" || node.type == "u") {
      type = topology::DeviceNodeType::Char;
    } else if (node.type == "b") {
      type = topology::DeviceNodeType::Block;
    } else {
      continue;  // a FIFO ("p") is no device
    }
    // The first candidate the topology lists (bridges, and devices hwloc did not report, are skipped).
    const topology::PciDevice* device = nullptr;
    for (const std::string& address : resolver.pciAddresses(type, node.major, node.minor)) {
      device = topology.device(address);
      if (device != nullptr) break;
    }
    if (device == nullptr || by_address.contains(device->address)) continue;
    auto name = kNames.device_resources.find(device->klass);
    if (name == kNames.device_resources.end()) continue;
    by_address.emplace(device->address,
                       policies::DeviceRequest{.resource = name->second, .id = device->address, .numa = device->numa});
  }
  std::vector<policies::DeviceRequest> out;
  out.reserve(by_address.size());
  for (auto& [address, request] : by_address) out.push_back(std::move(request));
  return out;
}

Result<uint64_t> parsePageSize(std::string_view page_size) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(page_size.data(), page_size.data() + page_size.size(), value);
  std::string_view unit(end, static_cast<std::size_t>(page_size.data() + page_size.size() - end));
  if (ec != std::errc() || value == 0) {
    return Error::invalidArgument("huge page size \"" + std::string(page_size) + "\" has no number");
  }
  constexpr uint64_t kKiB = 1024;
  uint64_t factor = 0;
  if (unit == "KB" || unit == "kB") factor = kKiB;
  if (unit == "MB") factor = kKiB * kKiB;
  if (unit == "GB") factor = kKiB * kKiB * kKiB;
  if (factor == 0) {
    return Error::invalidArgument("huge page size \"" + std::string(page_size) + "\" has an unknown unit");
  }
  // A size past 2^64 bytes would wrap around to some other, plausible size.
  if (value > std::numeric_limits<uint64_t>::max() / factor) {
    return Error::invalidArgument("huge page size \"" + std::string(page_size) + "\" is too large");
  }
  return value * factor;
}

nri::LinuxResources resourcesFor(const policies::Placement& placement, bool exclusive, const NodeSet& all_nodes,
                                 const nri::LinuxResources& requested) {
  nri::LinuxResources resources;
  resources.cpuset_cpus = placement.cpus;
  resources.cpuset_mems = placement.mems.empty() ? all_nodes : placement.mems;
  if (exclusive) {
    resources.cpu_quota = -1;
  } else if (requested.cpu_quota) {
    resources.cpu_quota = requested.cpu_quota;
    resources.cpu_period = requested.cpu_period;
  }
  return resources;
}

}  // namespace topod::agent
