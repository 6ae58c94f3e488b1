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

std::string podCgroupParent(QosClass qos, std::string_view uid) {
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
