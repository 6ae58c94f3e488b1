#include "cgroups/container_files.h"

#include <charconv>
#include <string>

namespace topod::cgroups {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return text;
}

template <typename T>
Result<T> parseNumber(std::string_view text, std::string_view what) {
  text = trim(text);
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Error::invalidArgument(std::string(what) + ": \"" + std::string(text) + "\" is not a number");
  }
  return value;
}

template <typename Set>
Result<Set> readSet(const CgroupFs& fs, std::string_view cgroup, std::string_view file) {
  auto text = fs.readFile("cpuset", cgroup, file);
  if (!text.has_value()) return text.error();
  auto set = Set::parse(trim(*text));
  if (!set.has_value()) return set.error().withContext(std::string(cgroup) + "/" + std::string(file));
  return *set;
}

}  // namespace

Result<CpuSet> readCpus(const CgroupFs& fs, std::string_view cgroup) {
  return readSet<CpuSet>(fs, cgroup, "cpuset.cpus");
}

Result<NodeSet> readMems(const CgroupFs& fs, std::string_view cgroup) {
  return readSet<NodeSet>(fs, cgroup, "cpuset.mems");
}

Status writeCpus(CgroupFs& fs, std::string_view cgroup, const CpuSet& cpus) {
  return fs.writeFile("cpuset", cgroup, "cpuset.cpus", cpus.toString());
}

Status writeMems(CgroupFs& fs, std::string_view cgroup, const NodeSet& mems) {
  return fs.writeFile("cpuset", cgroup, "cpuset.mems", mems.toString());
}

Result<CpuQuota> parseCpuMax(std::string_view text) {
  text = trim(text);
  std::size_t space = text.find(' ');
  std::string_view quota = space == std::string_view::npos ? text : text.substr(0, space);
  CpuQuota result;
  if (space != std::string_view::npos) {
    auto period = parseNumber<uint64_t>(text.substr(space + 1), "cpu.max period");
    if (!period.has_value()) return period.error();
    result.period_us = *period;
  }
  // The kernel shows a positive period and "max" or a positive quota; anything else (a negative
  // quota would be written back as "max") is not a cpu.max file.
  if (result.period_us == 0) return Error::invalidArgument("cpu.max period: must be positive");
  if (quota != "max") {
    auto value = parseNumber<int64_t>(quota, "cpu.max quota");
    if (!value.has_value()) return value.error();
    if (*value <= 0) {
      return Error::invalidArgument("cpu.max quota: \"" + std::string(quota) + "\" is neither max nor positive");
    }
    result.quota_us = *value;
  }
  return result;
}

std::string formatCpuMax(const CpuQuota& quota) {
  return (quota.quota_us < 0 ? std::string("max") : std::to_string(quota.quota_us)) + " " +
         std::to_string(quota.period_us);
}

Result<CpuQuota> readCpuQuota(const CgroupFs& fs, std::string_view cgroup) {
  if (fs.version() == CgroupVersion::V2) {
    auto text = fs.readFile("cpu", cgroup, "cpu.max");
    if (!text.has_value()) return text.error();
    return parseCpuMax(*text);
  }
  auto quota_text = fs.readFile("cpu", cgroup, "cpu.cfs_quota_us");
  if (!quota_text.has_value()) return quota_text.error();
  auto period_text = fs.readFile("cpu", cgroup, "cpu.cfs_period_us");
  if (!period_text.has_value()) return period_text.error();
  auto quota = parseNumber<int64_t>(*quota_text, "cpu.cfs_quota_us");
  if (!quota.has_value()) return quota.error();
  auto period = parseNumber<uint64_t>(*period_text, "cpu.cfs_period_us");
  if (!period.has_value()) return period.error();
  return CpuQuota{.quota_us = *quota < 0 ? -1 : *quota, .period_us = *period};
}

Status writeCpuQuota(CgroupFs& fs, std::string_view cgroup, const CpuQuota& quota) {
  if (fs.version() == CgroupVersion::V2) {
    return fs.writeFile("cpu", cgroup, "cpu.max", formatCpuMax(quota));
  }
  // The kernel checks quota against the period it has, so set the period first.
  TOPOD_RETURN_IF_ERROR(fs.writeFile("cpu", cgroup, "cpu.cfs_period_us", std::to_string(quota.period_us)));
  return fs.writeFile("cpu", cgroup, "cpu.cfs_quota_us", std::to_string(quota.quota_us < 0 ? -1 : quota.quota_us));
}

uint64_t cpuSharesToWeight(uint64_t shares) {
  // runc: weight = 1 + ((shares - 2) * 9999) / 262142, with shares clamped to [2, 262144].
  constexpr uint64_t kMinShares = 2;
  constexpr uint64_t kMaxShares = 262144;
  if (shares < kMinShares) shares = kMinShares;
  if (shares > kMaxShares) shares = kMaxShares;
  return 1 + ((shares - kMinShares) * 9999) / (kMaxShares - kMinShares);
}

Status writeCpuShares(CgroupFs& fs, std::string_view cgroup, uint64_t shares) {
  if (fs.version() == CgroupVersion::V2) {
    return fs.writeFile("cpu", cgroup, "cpu.weight", std::to_string(cpuSharesToWeight(shares)));
  }
  return fs.writeFile("cpu", cgroup, "cpu.shares", std::to_string(shares));
}

Status writeMemoryLimit(CgroupFs& fs, std::string_view cgroup, int64_t bytes) {
  if (fs.version() == CgroupVersion::V2) {
    return fs.writeFile("memory", cgroup, "memory.max", bytes < 0 ? std::string("max") : std::to_string(bytes));
  }
  return fs.writeFile("memory", cgroup, "memory.limit_in_bytes", std::to_string(bytes < 0 ? -1 : bytes));
}

Result<std::vector<pid_t>> parseCgroupProcs(std::string_view text) {
  std::vector<pid_t> pids;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    pid_t pid = 0;
    auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (ec != std::errc() || ptr != line.data() + line.size() || pid <= 0) {
      return Error::invalidArgument("cgroup.procs: \"" + std::string(line.substr(0, 32)) + "\" is not a pid");
    }
    pids.push_back(pid);
  }
  return pids;
}

Result<std::vector<pid_t>> readCgroupProcs(const CgroupFs& fs, std::string_view cgroup) {
  auto procs = fs.readFile("cpuset", cgroup, "cgroup.procs");
  if (!procs.has_value()) return procs.error();
  auto pids = parseCgroupProcs(*procs);
  if (!pids.has_value()) return pids.error().withContext(cgroup);
  return pids;
}

}  // namespace topod::cgroups
