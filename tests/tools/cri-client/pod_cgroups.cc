#include "tests/tools/cri-client/pod_cgroups.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace topod::e2e {
namespace {

constexpr std::array<std::string_view, 5> kControllers = {"cpu", "cpuacct", "cpuset", "memory", "pids"};

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::fromErrno(errno, "reading " + path);
  std::ostringstream text;
  text << in.rdbuf();
  std::string value = text.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
  return value;
}

Status writeFile(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  if (!out) return Error::fromErrno(errno, "opening " + path);
  out << value;
  out.flush();
  if (!out) return Error::fromErrno(errno, "writing \"" + value + "\" to " + path);
  return okStatus();
}

Status makeGroup(const std::string& hierarchy, const std::string& relative, bool is_cpuset) {
  // Walk down from the hierarchy root so every ancestor exists (and is populated for cpuset).
  std::string parent = hierarchy;
  std::string current = hierarchy;
  size_t pos = 1;
  while (pos <= relative.size()) {
    const size_t next = relative.find('/', pos);
    const std::string component = relative.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    pos = next == std::string::npos ? relative.size() + 1 : next + 1;
    if (component.empty()) continue;
    parent = current;
    current += "/" + component;
    if (::mkdir(current.c_str(), 0755) != 0 && errno != EEXIST) {
      return Error::fromErrno(errno, "creating cgroup " + current);
    }
    if (!is_cpuset) continue;
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      auto own = readFile(current + "/" + file);
      if (!own) return own.error();
      if (!own->empty()) continue;
      auto inherited = readFile(parent + "/" + file);
      if (!inherited) return inherited.error();
      TOPOD_RETURN_IF_ERROR(writeFile(current + "/" + file, *inherited));
    }
  }
  return okStatus();
}

}  // namespace

Status createPodCgroups(const std::string& cgroup_root, std::string_view cgroup_parent,
                        const LinuxResourceValues& values) {
  const std::string relative(cgroup_parent);
  for (std::string_view controller : kControllers) {
    const std::string hierarchy = cgroup_root + "/" + std::string(controller);
    struct stat info {};
    if (::stat(hierarchy.c_str(), &info) != 0) {
      return Error::fromErrno(errno, "cgroup v1 hierarchy " + hierarchy +
                                         " (the e2e tests need the v1 cpu, cpuacct, cpuset, memory, pids controllers)");
    }
    TOPOD_RETURN_IF_ERROR(makeGroup(hierarchy, relative, controller == "cpuset"));
  }
  const std::string cpu = cgroup_root + "/cpu" + relative;
  if (values.cpu_shares != 0) {
    TOPOD_RETURN_IF_ERROR(writeFile(cpu + "/cpu.shares", std::to_string(values.cpu_shares)));
  }
  if (values.cpu_period != 0) {
    TOPOD_RETURN_IF_ERROR(writeFile(cpu + "/cpu.cfs_period_us", std::to_string(values.cpu_period)));
  }
  if (values.cpu_quota != 0) {
    TOPOD_RETURN_IF_ERROR(writeFile(cpu + "/cpu.cfs_quota_us", std::to_string(values.cpu_quota)));
  }
  if (values.memory_limit_bytes != 0) {
    TOPOD_RETURN_IF_ERROR(writeFile(cgroup_root + "/memory" + relative + "/memory.limit_in_bytes",
                                    std::to_string(values.memory_limit_bytes)));
  }
  return okStatus();
}

Status resizePodCgroups(const std::string& cgroup_root, std::string_view cgroup_parent,
                        const LinuxResourceValues& values, bool after_containers) {
  const std::string relative(cgroup_parent);
  // -1 (no quota) and the kernel's "no memory limit" sort above every real value.
  constexpr int64_t kUnlimited = std::numeric_limits<int64_t>::max();
  struct Knob {
    std::string path;
    int64_t value;
  };
  const Knob knobs[] = {
      {cgroup_root + "/cpu" + relative + "/cpu.shares", values.cpu_shares},
      {cgroup_root + "/cpu" + relative + "/cpu.cfs_quota_us", values.cpu_quota == 0 ? -1 : values.cpu_quota},
      {cgroup_root + "/memory" + relative + "/memory.limit_in_bytes",
       values.memory_limit_bytes == 0 ? -1 : values.memory_limit_bytes},
  };
  for (const Knob& knob : knobs) {
    auto current_text = readFile(knob.path);
    if (!current_text) return current_text.error();
    int64_t current = 0;
    auto [end, ec] = std::from_chars(current_text->data(), current_text->data() + current_text->size(), current);
    if (ec != std::errc{}) return Error::invalidArgument(knob.path + ": \"" + *current_text + "\" is not a number");
    const int64_t old_rank = current < 0 ? kUnlimited : current;
    const int64_t new_rank = knob.value < 0 ? kUnlimited : knob.value;
    if (old_rank == new_rank) continue;
    const bool grows = new_rank > old_rank;
    if (grows == after_containers) continue;
    TOPOD_RETURN_IF_ERROR(writeFile(knob.path, std::to_string(knob.value)));
  }
  return okStatus();
}

Status removePodCgroups(const std::string& cgroup_root, std::string_view cgroup_parent) {
  // runc creates the pod's directory in every hierarchy (blkio, devices, freezer, ...), not only
  // in those we populate, so remove it from each one mounted.
  std::error_code ec;
  for (const auto& hierarchy : std::filesystem::directory_iterator(cgroup_root, ec)) {
    if (hierarchy.is_symlink() || !hierarchy.is_directory()) continue;
    const std::string path = hierarchy.path().string() + std::string(cgroup_parent);
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
      return Error::fromErrno(errno, "removing cgroup " + path);
    }
  }
  if (ec) return Error::fromErrno(ec.value(), "listing cgroup hierarchies in " + cgroup_root);
  return okStatus();
}

}  // namespace topod::e2e
