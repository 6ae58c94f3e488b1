#include "tests/tools/cri-client/kubelet_shape.h"

#include <algorithm>
#include <limits>

#include "common/quantity.h"

namespace topod::e2e {
namespace {

// kubelet cm constants (helpers_linux.go).
constexpr int64_t kMinShares = 2;
constexpr int64_t kMaxShares = 262144;
constexpr int64_t kSharesPerCpu = 1024;
constexpr int64_t kMilliCpuPerCpu = 1000;
constexpr int64_t kMinQuotaPeriodUs = 1000;
// cgroup v2 cpu.weight range top (1..10000; the kubelet's conversion maps shares 2..262144 onto it).
constexpr int64_t kMaxWeight = 10000;
constexpr uint64_t kMicrosPerSecond = 1000000;
// systemd applies CPUQuotaPerSecUSec in 10 ms steps; runc rounds up so the quota is never lower.
constexpr uint64_t kSystemdQuotaGranularityUs = 10000;
// qos/policy.go: oom_score_adj of Guaranteed and BestEffort containers.
constexpr int64_t kGuaranteedOomScoreAdj = -997;
constexpr int64_t kBestEffortOomScoreAdj = 1000;

}  // namespace

ResourceAsk defaulted(ResourceAsk ask) {
  if (ask.cpu_request_milli == 0) ask.cpu_request_milli = ask.cpu_limit_milli;
  if (ask.memory_request_bytes == 0) ask.memory_request_bytes = ask.memory_limit_bytes;
  return ask;
}

QosClass qosOf(const ResourceAsk& raw) {
  const ResourceAsk ask = defaulted(raw);
  if (ask.cpu_request_milli == 0 && ask.cpu_limit_milli == 0 && ask.memory_request_bytes == 0 &&
      ask.memory_limit_bytes == 0) {
    return QosClass::BestEffort;
  }
  const bool cpu_equal = ask.cpu_limit_milli != 0 && ask.cpu_limit_milli == ask.cpu_request_milli;
  const bool memory_equal = ask.memory_limit_bytes != 0 && ask.memory_limit_bytes == ask.memory_request_bytes;
  return cpu_equal && memory_equal ? QosClass::Guaranteed : QosClass::Burstable;
}

Result<CgroupDriver> parseCgroupDriver(std::string_view text) {
  if (text == "cgroupfs") return CgroupDriver::Cgroupfs;
  if (text == "systemd") return CgroupDriver::Systemd;
  return Error::invalidArgument("cgroup driver \"" + std::string(text) + "\": cgroupfs or systemd");
}

std::vector<std::string> qosSlices(QosClass qos) {
  switch (qos) {
    case QosClass::Guaranteed: return {"kubepods.slice"};
    case QosClass::Burstable: return {"kubepods.slice", "kubepods-burstable.slice"};
    case QosClass::BestEffort: return {"kubepods.slice", "kubepods-besteffort.slice"};
  }
  return {"kubepods.slice", "kubepods-besteffort.slice"};
}

Result<std::string> expandSlice(std::string_view slice) {
  constexpr std::string_view kSuffix = ".slice";
  if (!slice.ends_with(kSuffix) || slice.find('/') != std::string_view::npos) {
    return Error::invalidArgument("\"" + std::string(slice) + "\" is not a slice name (NAME.slice, no '/')");
  }
  const std::string_view stem = slice.substr(0, slice.size() - kSuffix.size());
  if (stem == "-") return std::string("/");  // systemd's root slice
  std::string path;
  std::string prefix;
  size_t start = 0;
  while (true) {
    const size_t dash = stem.find('-', start);
    const std::string_view part =
        stem.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start);
    if (part.empty()) {
      return Error::invalidArgument("\"" + std::string(slice) + "\" has an empty part between '-'s");
    }
    prefix += (prefix.empty() ? "" : "-") + std::string(part);
    path += "/" + prefix + std::string(kSuffix);
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  return path;
}

std::string podCgroupParent(QosClass qos, std::string_view uid, CgroupDriver driver) {
  if (driver == CgroupDriver::Systemd) {
    std::string escaped(uid);
    std::replace(escaped.begin(), escaped.end(), '-', '_');
    switch (qos) {
      case QosClass::Guaranteed: return "kubepods-pod" + escaped + ".slice";
      case QosClass::Burstable: return "kubepods-burstable-pod" + escaped + ".slice";
      case QosClass::BestEffort: return "kubepods-besteffort-pod" + escaped + ".slice";
    }
    return "kubepods-besteffort-pod" + escaped + ".slice";
  }
  switch (qos) {
    case QosClass::Guaranteed: return "/kubepods/pod" + std::string(uid);
    case QosClass::Burstable: return "/kubepods/burstable/pod" + std::string(uid);
    case QosClass::BestEffort: return "/kubepods/besteffort/pod" + std::string(uid);
  }
  return "/kubepods/besteffort/pod" + std::string(uid);
}

QosClass qosFromCgroupParent(std::string_view cgroup_parent) {
  if (cgroup_parent.find("besteffort") != std::string_view::npos) return QosClass::BestEffort;
  if (cgroup_parent.find("burstable") != std::string_view::npos) return QosClass::Burstable;
  return QosClass::Guaranteed;
}

int64_t milliCpuToShares(int64_t milli_cpu) {
  if (milli_cpu == 0) return kMinShares;
  return std::clamp(milli_cpu * kSharesPerCpu / kMilliCpuPerCpu, kMinShares, kMaxShares);
}

int64_t milliCpuToQuota(int64_t milli_cpu, int64_t period_us) {
  if (milli_cpu == 0) return 0;
  return std::max(milli_cpu * period_us / kMilliCpuPerCpu, kMinQuotaPeriodUs);
}

int64_t cpuSharesToWeight(int64_t shares) {
  if (shares <= 0) return 0;
  return 1 + ((shares - kMinShares) * (kMaxWeight - 1)) / (kMaxShares - kMinShares);
}

std::string cpuMaxValue(int64_t quota_us, int64_t period_us) {
  if (quota_us == 0 && period_us == 0) return "";
  const int64_t period = period_us == 0 ? kCfsPeriodUs : period_us;
  return (quota_us > 0 ? std::to_string(quota_us) : std::string("max")) + " " + std::to_string(period);
}

std::string memoryMaxValue(int64_t bytes) {
  return bytes > 0 ? std::to_string(bytes) : std::string("max");
}

uint64_t cpuQuotaPerSecUSec(int64_t quota_us, int64_t period_us) {
  if (quota_us <= 0) return std::numeric_limits<uint64_t>::max();
  const int64_t period = period_us == 0 ? kCfsPeriodUs : period_us;
  uint64_t per_sec = static_cast<uint64_t>(quota_us) * kMicrosPerSecond / static_cast<uint64_t>(period);
  if (per_sec % kSystemdQuotaGranularityUs != 0) {
    per_sec = (per_sec / kSystemdQuotaGranularityUs + 1) * kSystemdQuotaGranularityUs;
  }
  return per_sec;
}

LinuxResourceValues containerValues(QosClass qos, const ResourceAsk& raw, int64_t machine_memory_bytes) {
  const ResourceAsk ask = defaulted(raw);
  LinuxResourceValues values;
  values.cpu_shares = milliCpuToShares(ask.cpu_request_milli);
  if (ask.cpu_limit_milli != 0) {
    values.cpu_period = kCfsPeriodUs;
    values.cpu_quota = milliCpuToQuota(ask.cpu_limit_milli, kCfsPeriodUs);
  }
  values.memory_limit_bytes = ask.memory_limit_bytes;
  switch (qos) {
    case QosClass::Guaranteed: values.oom_score_adj = kGuaranteedOomScoreAdj; break;
    case QosClass::BestEffort: values.oom_score_adj = kBestEffortOomScoreAdj; break;
    case QosClass::Burstable: {
      // 1000 - 1000*request/capacity, kept inside [2, 999] so that Burstable always ranks
      // between Guaranteed and BestEffort.
      const int64_t adj = 1000 - (1000 * ask.memory_request_bytes) / std::max<int64_t>(machine_memory_bytes, 1);
      values.oom_score_adj = std::clamp<int64_t>(adj, 2, 999);
      break;
    }
  }
  return values;
}

LinuxResourceValues podValues(QosClass qos, const ResourceAsk& raw) {
  const ResourceAsk ask = defaulted(raw);
  LinuxResourceValues values;
  switch (qos) {
    case QosClass::Guaranteed:
      values.cpu_shares = milliCpuToShares(ask.cpu_request_milli);
      values.cpu_period = kCfsPeriodUs;
      values.cpu_quota = milliCpuToQuota(ask.cpu_limit_milli, kCfsPeriodUs);
      values.memory_limit_bytes = ask.memory_limit_bytes;
      break;
    case QosClass::Burstable:
      values.cpu_shares = milliCpuToShares(ask.cpu_request_milli);
      if (ask.cpu_limit_milli != 0) {
        values.cpu_period = kCfsPeriodUs;
        values.cpu_quota = milliCpuToQuota(ask.cpu_limit_milli, kCfsPeriodUs);
      }
      values.memory_limit_bytes = ask.memory_limit_bytes;
      break;
    case QosClass::BestEffort: values.cpu_shares = kMinShares; break;
  }
  return values;
}

Result<int64_t> parseCpuMilli(std::string_view text) {
  return parseMilliQuantity(text);
}

Result<int64_t> parseBytes(std::string_view text) {
  auto bytes = parseByteQuantity(text);
  if (!bytes.has_value()) return bytes.error();
  if (*bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Error::invalidArgument("memory quantity \"" + std::string(text) + "\": too large");
  }
  return static_cast<int64_t>(*bytes);
}

}  // namespace topod::e2e
