#include "agent/nri_mapping.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "topology/zone_summary.h"

namespace topod::agent {

namespace {

// The kubelet's conversion constants (pkg/kubelet/cm/helpers_linux.go). BestEffort containers
// get the minimum shares.
constexpr int64_t kSharesPerCpu = 1024;
constexpr int64_t kMillisPerCpu = 1000;
constexpr uint64_t kMinShares = 2;
constexpr uint64_t kMaxShares = 262144;
// The kubelet's oom_score_adj values per QoS class (pkg/kubelet/qos/policy.go); Burstable
// containers get 2..999.
constexpr int64_t kGuaranteedOomScoreAdj = -997;
constexpr int64_t kBestEffortOomScoreAdj = 1000;

bool containsNoCase(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    bool match = true;
    for (size_t j = 0; j < needle.size() && match; ++j) {
      char c = haystack[i + j];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      match = c == needle[j];
    }
    if (match) return true;
  }
  return false;
}

// The largest amounts a request can carry: far beyond any machine (a million CPUs, 1 PiB), so
// that a request above them is refused for lack of capacity exactly as it would be unclamped,
// while every sum the policies and the state file form stays inside 64 bits.
constexpr int64_t kMaxCpuMillis = int64_t{1'000'000'000};
constexpr uint64_t kMaxBytes = uint64_t{1} << 50;

// ceil(quota * 1000 / period) without overflow, at most kMaxCpuMillis.
int64_t limitMillis(int64_t quota, uint64_t period) {
  unsigned __int128 millis =
      (static_cast<unsigned __int128>(quota) * kMillisPerCpu + period - 1) / static_cast<unsigned __int128>(period);
  return millis > static_cast<unsigned __int128>(kMaxCpuMillis) ? kMaxCpuMillis : static_cast<int64_t>(millis);
}

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

QosClass qosClassOf(const nri::Pod& pod, const nri::Container* container) {
  if (containsNoCase(pod.cgroup_parent, "besteffort")) return QosClass::BestEffort;
  if (containsNoCase(pod.cgroup_parent, "burstable")) return QosClass::Burstable;
  if (!pod.cgroup_parent.empty()) return QosClass::Guaranteed;
  if (container != nullptr) {
    if (container->oom_score_adj == kGuaranteedOomScoreAdj) return QosClass::Guaranteed;
    if (container->oom_score_adj == kBestEffortOomScoreAdj) return QosClass::BestEffort;
    if (container->resources.cpu_shares == kMinShares && !container->resources.memory_limit) {
      return QosClass::BestEffort;
    }
  }
  return QosClass::Burstable;
}

policies::PodRequest podRequestOf(const nri::Pod& pod, QosClass qos, const policies::ContainerRequest& container) {
  policies::PodRequest request;
  request.uid = pod.uid.empty() ? pod.id : pod.uid;
  request.namespace_name = pod.namespace_name;
  request.name = pod.name;
  request.qos = qos;
  request.annotations = pod.annotations;
  request.containers.push_back(container);
  return request;
}

policies::ContainerRequest containerRequestOf(const nri::Container& container, const nri::LinuxResources& resources,
                                              QosClass qos) {
  policies::ContainerRequest request;
  request.name = container.name;
  request.kind = policies::ContainerKind::App;
  // Every value comes from the runtime unchecked: arithmetic is overflow-free and results are
  // clamped (kMaxCpuMillis, kMaxShares, kMaxBytes), so that whatever the spec says, the request
  // is one the state file can hold and read back.
  if (resources.cpu_quota && *resources.cpu_quota > 0 && resources.cpu_period && *resources.cpu_period > 0) {
    // Round up: the kubelet rounds the quota down from the limit, so the limit is at least this.
    request.cpu_limit_millis = limitMillis(*resources.cpu_quota, *resources.cpu_period);
  }
  if (qos == QosClass::Guaranteed && request.cpu_limit_millis > 0) {
    request.cpu_request_millis = request.cpu_limit_millis;
  } else if (resources.cpu_shares && *resources.cpu_shares > kMinShares) {
    // Nearest millis: shares were rounded down from millis * 1024 / 1000. The kernel caps shares
    // at kMaxShares, and so does this.
    auto shares = static_cast<int64_t>(std::min(*resources.cpu_shares, kMaxShares));
    request.cpu_request_millis = (shares * kMillisPerCpu + kSharesPerCpu / 2) / kSharesPerCpu;
  }
  if (resources.memory_limit && *resources.memory_limit > 0) {
    request.memory_limit_bytes = std::min(static_cast<uint64_t>(*resources.memory_limit), kMaxBytes);
    if (qos == QosClass::Guaranteed) request.memory_request_bytes = request.memory_limit_bytes;
  }
  for (const nri::HugepageLimit& limit : resources.hugepage_limits) {
    auto size = parsePageSize(limit.page_size);
    if (size.has_value() && limit.limit > 0) request.hugepages[*size] = std::min(limit.limit, kMaxBytes);
  }
  return request;
}

std::vector<policies::DeviceRequest> deviceRequestsOf(const nri::Container& container,
                                                      const topology::Topology& topology,
                                                      const topology::DeviceNodeResolver& resolver) {
  static const topology::DeviceResourceNames kNames;
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
    auto name = kNames.nameOf(*device);
    if (!name) continue;
    by_address.emplace(device->address,
                       policies::DeviceRequest{.resource = *name, .id = device->address, .numa = device->numa});
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
  uint64_t unit_bytes = 0;
  if (unit == "KB" || unit == "kB") unit_bytes = kKiB;
  if (unit == "MB") unit_bytes = kKiB * kKiB;
  if (unit == "GB") unit_bytes = kKiB * kKiB * kKiB;
  if (unit_bytes == 0) {
    return Error::invalidArgument("huge page size \"" + std::string(page_size) + "\" has an unknown unit");
  }
  // Page sizes are powers of two no larger than 16 GiB (the largest any architecture has).
  constexpr uint64_t kMaxPageSize = uint64_t{16} << 30;
  if (value > kMaxPageSize / unit_bytes || ((value * unit_bytes) & (value * unit_bytes - 1)) != 0) {
    return Error::invalidArgument("huge page size \"" + std::string(page_size) +
                                  "\" is not a power of two of at most 16GB");
  }
  return value * unit_bytes;
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

std::optional<int64_t> kubeletPodCpuQuota(const std::vector<nri::LinuxResources>& containers, uint64_t period_us) {
  // MilliCPUToQuota (pkg/kubelet/cm/helpers_linux.go): a quota below 1 ms is raised to 1 ms.
  constexpr int64_t kMinQuotaUs = 1000;
  if (containers.empty() || period_us == 0) return std::nullopt;
  int64_t millis = 0;  // at most containers.size() * kMaxCpuMillis: no overflow for any real pod
  for (const nri::LinuxResources& resources : containers) {
    if (!resources.cpu_quota || *resources.cpu_quota <= 0 || !resources.cpu_period || *resources.cpu_period == 0) {
      return std::nullopt;
    }
    millis += limitMillis(*resources.cpu_quota, *resources.cpu_period);
  }
  unsigned __int128 quota =
      static_cast<unsigned __int128>(millis) * period_us / static_cast<unsigned __int128>(kMillisPerCpu);
  constexpr auto kMax = static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max());
  if (quota > kMax) quota = kMax;
  return std::max(static_cast<int64_t>(quota), kMinQuotaUs);
}

}  // namespace topod::agent
