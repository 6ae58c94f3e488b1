#include "topology/sysfs_cpus.h"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

namespace topod::topology {
namespace {

// Reads a cpu list file; nullopt when it does not exist.
Result<std::optional<CpuSet>> readCpuListFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<CpuSet>{};
  std::ifstream in(path);
  if (!in) return Error::fromErrno(errno, "sysfs: cannot read " + path.string());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto cpus = CpuSet::parse(text);
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
