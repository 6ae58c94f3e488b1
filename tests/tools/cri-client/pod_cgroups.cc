#include "tests/tools/cri-client/pod_cgroups.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/tools/cri-client/systemd_units.h"

namespace topod::e2e {
namespace {

constexpr std::array<std::string_view, 5> kV1Controllers = {"cpu", "cpuacct", "cpuset", "memory", "pids"};
// -1 / "max" (no quota, no limit) sort above every real value.
constexpr int64_t kUnlimited = std::numeric_limits<int64_t>::max();

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

// The first word of a cgroup value as a rank: a number, or kUnlimited for "max" and -1.
Result<int64_t> rankOf(const std::string& path, std::string_view text) {
  const std::string_view word = text.substr(0, text.find(' '));
  if (word == "max") return kUnlimited;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (ec != std::errc{} || end != word.data() + word.size()) {
    return Error::invalidArgument(path + ": \"" + std::string(text) + "\" is not a number or max");
  }
  return value < 0 ? kUnlimited : value;
}

// One pod value being resized: where it is, its new text and rank, and how to apply it.
struct Knob {
  std::string path;
  std::string value;
  int64_t rank;
  std::function<Status()> apply;
};

// Applies the knobs that grow (after_containers=false) or shrink (true); unchanged ones are left.
Status resizeKnobs(const std::vector<Knob>& knobs, bool after_containers) {
  for (const Knob& knob : knobs) {
    auto current_text = readFile(knob.path);
    if (!current_text) return current_text.error();
    auto current = rankOf(knob.path, *current_text);
    if (!current) return current.error();
    if (*current == knob.rank) continue;
    const bool grows = knob.rank > *current;
    if (grows == after_containers) continue;
    TOPOD_RETURN_IF_ERROR(knob.apply());
  }
  return okStatus();
}

// The space-separated words of a cgroup file ("cpuset cpu io memory pids").
std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// Each component of a relative cgroup path ("/a/b/c" -> a, b, c).
std::vector<std::string> components(std::string_view relative) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= relative.size()) {
    const size_t next = relative.find('/', pos);
    const std::string_view part =
        relative.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    if (!part.empty()) parts.emplace_back(part);
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return parts;
}

// --- cgroup v1, cgroupfs driver -------------------------------------------------------------------

Status makeV1Group(const std::string& hierarchy, const std::string& relative, bool is_cpuset) {
  // Walk down from the hierarchy root so every ancestor exists (and is populated for cpuset).
  std::string parent = hierarchy;
  std::string current = hierarchy;
  for (const std::string& component : components(relative)) {
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

class V1Cgroupfs : public PodCgroups {
 public:
  explicit V1Cgroupfs(std::string root) : root_(std::move(root)) {}

  Status create(std::string_view cgroup_parent, const LinuxResourceValues& values) override {
    const std::string relative(cgroup_parent);
    for (std::string_view controller : kV1Controllers) {
      const std::string hierarchy = root_ + "/" + std::string(controller);
      struct stat info {};
      if (::stat(hierarchy.c_str(), &info) != 0) {
        return Error::fromErrno(errno, "cgroup v1 hierarchy " + hierarchy +
                                           " (the v1 layout needs the cpu, cpuacct, cpuset, memory, pids controllers)");
      }
      TOPOD_RETURN_IF_ERROR(makeV1Group(hierarchy, relative, controller == "cpuset"));
    }
    const std::string cpu = root_ + "/cpu" + relative;
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
      TOPOD_RETURN_IF_ERROR(writeFile(root_ + "/memory" + relative + "/memory.limit_in_bytes",
                                      std::to_string(values.memory_limit_bytes)));
    }
    return okStatus();
  }

  Status resize(std::string_view cgroup_parent, const LinuxResourceValues& values, bool after_containers) override {
    const std::string relative(cgroup_parent);
    std::vector<Knob> knobs;
    auto add = [&](const std::string& path, int64_t value) {
      knobs.push_back({path, std::to_string(value), value < 0 ? kUnlimited : value,
                       [path, value] { return writeFile(path, std::to_string(value)); }});
    };
    add(root_ + "/cpu" + relative + "/cpu.shares", values.cpu_shares);
    add(root_ + "/cpu" + relative + "/cpu.cfs_quota_us", values.cpu_quota == 0 ? -1 : values.cpu_quota);
    add(root_ + "/memory" + relative + "/memory.limit_in_bytes",
        values.memory_limit_bytes == 0 ? -1 : values.memory_limit_bytes);
    return resizeKnobs(knobs, after_containers);
  }

  Status remove(std::string_view cgroup_parent) override {
    // runc creates the pod's directory in every hierarchy (blkio, devices, freezer, ...), not only
    // in those we populate, so remove it from each one mounted.
    std::error_code ec;
    for (const auto& hierarchy : std::filesystem::directory_iterator(root_, ec)) {
      if (hierarchy.is_symlink() || !hierarchy.is_directory()) continue;
      const std::string path = hierarchy.path().string() + std::string(cgroup_parent);
      if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
        return Error::fromErrno(errno, "removing cgroup " + path);
      }
    }
    if (ec) return Error::fromErrno(ec.value(), "listing cgroup hierarchies in " + root_);
    return okStatus();
  }

 private:
  std::string root_;
};

// --- cgroup v2, both drivers ----------------------------------------------------------------------

// As runc's fs2 CreateCgroupPath: every directory from the root down to `relative` exists, and each
// one above the last enables in cgroup.subtree_control the controllers the root offers, so the
// last one has the cpu, cpuset, memory and pids files.
Status makeV2Path(const std::string& root, std::string_view relative) {
  auto offered = readFile(root + "/cgroup.controllers");
  if (!offered) return offered.error();
  const std::vector<std::string> controllers = words(*offered);
  std::string enable;
  for (const std::string& controller : controllers) enable += (enable.empty() ? "+" : " +") + controller;
  std::string current = root;
  const std::vector<std::string> parts = components(relative);
  for (size_t i = 0; i <= parts.size(); ++i) {
    if (i > 0) {
      current += "/" + parts[i - 1];
      if (::mkdir(current.c_str(), 0755) != 0 && errno != EEXIST) {
        return Error::fromErrno(errno, "creating cgroup " + current);
      }
    }
    if (i == parts.size()) break;
    if (Status all = writeFile(current + "/cgroup.subtree_control", enable); !all) {
      // One at a time, as runc falls back: a controller the kernel refuses here is skipped.
      for (const std::string& controller : controllers) {
        (void)writeFile(current + "/cgroup.subtree_control", "+" + controller);
      }
    }
  }
  return okStatus();
}

// The pod values as v2 files in `dir` (the fs2 manager's Set).
Status writeV2Values(const std::string& dir, const LinuxResourceValues& values) {
  if (values.cpu_shares != 0) {
    TOPOD_RETURN_IF_ERROR(writeFile(dir + "/cpu.weight", std::to_string(cpuSharesToWeight(values.cpu_shares))));
  }
  if (const std::string max = cpuMaxValue(values.cpu_quota, values.cpu_period); !max.empty()) {
    TOPOD_RETURN_IF_ERROR(writeFile(dir + "/cpu.max", max));
  }
  if (values.memory_limit_bytes != 0) {
    TOPOD_RETURN_IF_ERROR(writeFile(dir + "/memory.max", memoryMaxValue(values.memory_limit_bytes)));
  }
  return okStatus();
}

// The knobs of a v2 resize: cpu.weight, cpu.max, memory.max; `also` adds a systemd step to each.
std::vector<Knob> v2Knobs(const std::string& dir, const LinuxResourceValues& values,
                          const std::function<Status(const UnitProperty&)>& also) {
  const std::string max = cpuMaxValue(values.cpu_quota, values.cpu_period == 0 ? kCfsPeriodUs : values.cpu_period);
  const int64_t weight = cpuSharesToWeight(values.cpu_shares);
  struct Spec {
    std::string file;
    std::string value;
    int64_t rank;
    UnitProperty property;
  };
  const Spec specs[] = {
      {"cpu.weight", std::to_string(weight), weight, {"CPUWeight", static_cast<uint64_t>(weight)}},
      {"cpu.max",
       max,
       values.cpu_quota > 0 ? values.cpu_quota : kUnlimited,
       {"CPUQuotaPerSecUSec", cpuQuotaPerSecUSec(values.cpu_quota, values.cpu_period)}},
      {"memory.max",
       memoryMaxValue(values.memory_limit_bytes),
       values.memory_limit_bytes > 0 ? values.memory_limit_bytes : kUnlimited,
       {"MemoryMax", values.memory_limit_bytes > 0 ? static_cast<uint64_t>(values.memory_limit_bytes)
                                                   : std::numeric_limits<uint64_t>::max()}},
  };
  std::vector<Knob> knobs;
  for (const Spec& spec : specs) {
    if (spec.file == "cpu.weight" && values.cpu_shares == 0) continue;
    const std::string path = dir + "/" + spec.file;
    knobs.push_back(
        {path, spec.value, spec.rank, [path, value = spec.value, property = spec.property, also]() -> Status {
           if (also) TOPOD_RETURN_IF_ERROR(also(property));
           return writeFile(path, value);
         }});
  }
  return knobs;
}

class V2Cgroupfs : public PodCgroups {
 public:
  explicit V2Cgroupfs(std::string root) : root_(std::move(root)) {}

  Status create(std::string_view cgroup_parent, const LinuxResourceValues& values) override {
    TOPOD_RETURN_IF_ERROR(makeV2Path(root_, cgroup_parent));
    return writeV2Values(root_ + std::string(cgroup_parent), values);
  }

  Status resize(std::string_view cgroup_parent, const LinuxResourceValues& values, bool after_containers) override {
    return resizeKnobs(v2Knobs(root_ + std::string(cgroup_parent), values, nullptr), after_containers);
  }

  Status remove(std::string_view cgroup_parent) override {
    const std::string path = root_ + std::string(cgroup_parent);
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return Error::fromErrno(errno, "removing cgroup " + path);
    return okStatus();
  }

 private:
  std::string root_;
};

// systemd realises a started slice's cgroup itself; wait (bounded) until it is there or gone.
Status waitForDirectory(const std::string& path, bool present) {
  constexpr auto kLimit = std::chrono::seconds(30);
  constexpr auto kStep = std::chrono::milliseconds(10);
  const auto deadline = std::chrono::steady_clock::now() + kLimit;
  while (true) {
    struct stat info {};
    const bool exists = ::stat(path.c_str(), &info) == 0;
    if (exists == present) return okStatus();
    if (std::chrono::steady_clock::now() > deadline) {
      return Error::unavailable(path + (present ? " did not appear" : " did not go") + " within 30 s");
    }
    std::this_thread::sleep_for(kStep);
  }
}

class V2Systemd : public PodCgroups {
 public:
  V2Systemd(std::string root, std::unique_ptr<SystemdUnits> units) : root_(std::move(root)), units_(std::move(units)) {}

  Status create(std::string_view cgroup_parent, const LinuxResourceValues& values) override {
    const std::string pod_slice(cgroup_parent);
    const QosClass qos = qosFromCgroupParent(pod_slice);
    std::string parent = "-.slice";
    for (const std::string& slice : qosSlices(qos)) {
      TOPOD_RETURN_IF_ERROR(startSlice(slice, parent, {}));
      parent = slice;
    }
    std::vector<UnitProperty> resources;
    if (values.memory_limit_bytes != 0) {
      resources.push_back({"MemoryMax", static_cast<uint64_t>(values.memory_limit_bytes)});
    }
    if (values.cpu_shares != 0) {
      resources.push_back({"CPUWeight", static_cast<uint64_t>(cpuSharesToWeight(values.cpu_shares))});
    }
    // runc's addCpuQuota: the period when set, the quota per second when a quota or a period is.
    if (values.cpu_period != 0) {
      resources.push_back({"CPUQuotaPeriodUSec", static_cast<uint64_t>(values.cpu_period)});
    }
    if (values.cpu_quota != 0 || values.cpu_period != 0) {
      resources.push_back({"CPUQuotaPerSecUSec", cpuQuotaPerSecUSec(values.cpu_quota, values.cpu_period)});
    }
    TOPOD_RETURN_IF_ERROR(startSlice(pod_slice, parent, resources));
    auto path = expandSlice(pod_slice);
    if (!path) return path.error();
    // The kubelet's manager then writes the same values to the files (systemd rounds the quota).
    return writeV2Values(root_ + *path, values);
  }

  Status resize(std::string_view cgroup_parent, const LinuxResourceValues& values, bool after_containers) override {
    const std::string pod_slice(cgroup_parent);
    auto path = expandSlice(pod_slice);
    if (!path) return path.error();
    SystemdUnits* units = units_.get();
    return resizeKnobs(v2Knobs(root_ + *path, values,
                               [units, pod_slice](const UnitProperty& property) {
                                 return units->setUnitProperties(pod_slice, {property});
                               }),
                       after_containers);
  }

  Status remove(std::string_view cgroup_parent) override {
    const std::string pod_slice(cgroup_parent);
    auto path = expandSlice(pod_slice);
    if (!path) return path.error();
    TOPOD_RETURN_IF_ERROR(units_->stopUnit(pod_slice));
    return waitForDirectory(root_ + *path, false);
  }

 private:
  // As libcontainer's Apply for a slice: Description, Wants= the parent, accounting on,
  // DefaultDependencies off, then the resources; then the fs2 path with controllers enabled.
  Status startSlice(const std::string& slice, const std::string& parent, const std::vector<UnitProperty>& resources) {
    std::vector<UnitProperty> properties = {
        {"Description", std::string("libcontainer container ") + slice},
        {"Wants", std::vector<std::string>{parent}},
        {"MemoryAccounting", true},
        {"CPUAccounting", true},
        {"IOAccounting", true},
        {"TasksAccounting", true},
        {"DefaultDependencies", false},
    };
    properties.insert(properties.end(), resources.begin(), resources.end());
    bool existed = false;
    TOPOD_RETURN_IF_ERROR(units_->startTransientUnit(slice, properties, &existed));
    auto path = expandSlice(slice);
    if (!path) return path.error();
    TOPOD_RETURN_IF_ERROR(waitForDirectory(root_ + *path, true));
    return makeV2Path(root_, *path);
  }

  std::string root_;
  std::unique_ptr<SystemdUnits> units_;
};

}  // namespace

Result<CgroupVersion> detectCgroupVersion(const std::string& cgroup_root) {
  struct statfs info {};
  if (::statfs(cgroup_root.c_str(), &info) != 0) return Error::fromErrno(errno, "statfs " + cgroup_root);
  return info.f_type == CGROUP2_SUPER_MAGIC ? CgroupVersion::V2 : CgroupVersion::V1;
}

Result<std::unique_ptr<PodCgroups>> makePodCgroups(CgroupDriver driver, const std::string& cgroup_root) {
  auto version = detectCgroupVersion(cgroup_root);
  if (!version) return version.error();
  if (driver == CgroupDriver::Cgroupfs) {
    if (*version == CgroupVersion::V1) return std::unique_ptr<PodCgroups>(std::make_unique<V1Cgroupfs>(cgroup_root));
    return std::unique_ptr<PodCgroups>(std::make_unique<V2Cgroupfs>(cgroup_root));
  }
  if (*version == CgroupVersion::V1) {
    return Error::failedPrecondition("--cgroup-driver systemd needs cgroup v2 at " + cgroup_root +
                                     " (this test client makes v2 slices only)");
  }
  auto units = connectSystemd();
  if (!units) return units.error();
  return std::unique_ptr<PodCgroups>(std::make_unique<V2Systemd>(cgroup_root, std::move(*units)));
}

}  // namespace topod::e2e
