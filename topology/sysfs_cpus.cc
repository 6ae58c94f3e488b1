#include "topology/sysfs_cpus.h"

#include <filesystem>
#include <optional>

#include "common/file_io.h"

namespace topod::topology {
namespace {

// Reads a cpu list file; nullopt when it does not exist.
Result<std::optional<CpuSet>> readCpuListFile(const std::filesystem::path& path) {
  auto text = readRegularFile(path.string(), {.no_follow = false});
  if (!text.has_value()) {
    if (text.error().code() == ErrorCode::NotFound) return std::optional<CpuSet>{};
    return text.error().withContext("sysfs");
  }
  auto cpus = CpuSet::parse(*text);
  if (!cpus.has_value()) return cpus.error().withContext("sysfs: " + path.string());
  return std::optional<CpuSet>(*cpus);
}

}  // namespace

Result<SysfsCpuState> readSysfsCpuState(const std::string& root) {
  const std::filesystem::path dir = std::filesystem::path(root.empty() ? "/" : root) / "sys/devices/system/cpu";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Error::notFound("sysfs: " + dir.string() + " is not a directory (sysfs root \"" + root + "\")");
  }
  SysfsCpuState state;
  auto isolated = readCpuListFile(dir / "isolated");
  if (!isolated.has_value()) return isolated.error();
  auto offline = readCpuListFile(dir / "offline");
  if (!offline.has_value()) return offline.error();
  auto present = readCpuListFile(dir / "present");
  if (!present.has_value()) return present.error();
  if (isolated->has_value()) state.isolated = **isolated;
  if (offline->has_value()) state.offline = **offline;
  if (present->has_value()) state.offline &= **present;
  return state;
}

}  // namespace topod::topology
