#include "topology/loaders.h"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "topology/hwloc_import.h"
#include "topology/json_snapshot.h"
#include "topology/sysfs_cpus.h"

namespace topod::topology {
namespace {

constexpr std::string_view kXmlScheme = "xml:";
constexpr std::string_view kSyntheticScheme = "synthetic:";
constexpr std::string_view kJsonScheme = "json:";

// Reads a whole file; errors name the path and the errno.
Result<std::string> readFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return Error::invalidArgument("is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::fromErrno(errno, "cannot open");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error::fromErrno(errno, "cannot read");
  return text;
}

// Adds sysfs's isolated/offline CPUs to what hwloc found, then builds.
Result<Topology> finish(Result<TopologyBuilder> imported, const std::string& sysfs_root, bool read_sysfs) {
  if (!imported.has_value()) return imported.error();
  TopologyBuilder& builder = *imported;
  if (read_sysfs) {
    // Build once without sysfs to learn which CPUs hwloc saw online.
    auto hw = builder.build();
    if (!hw.has_value()) return hw.error();
    auto state = readSysfsCpuState(sysfs_root);
    if (!state.has_value()) return state.error();
    builder.setOfflineCpus((hw->offlineCpus() | state->offline) - hw->onlineCpus());
    builder.setIsolatedCpus(state->isolated & hw->onlineCpus());
  }
  return builder.build();
}

}  // namespace

const std::vector<std::string_view>& knownTopologySources() {
  static const std::vector<std::string_view> kSources = {"live", "xml:PATH", "synthetic:DESC", "json:PATH"};
  return kSources;
}

Result<Topology> loadLiveTopology(const LoadOptions& options) {
  const std::string root = options.sysfs_root.empty() ? "/" : options.sysfs_root;
  auto topology = finish(detail::importHwloc(detail::HwlocInput::Live, ""), root, true);
  if (!topology.has_value()) return topology.error().withContext("topology source live");
  return topology;
}

Result<Topology> loadHwlocXmlFile(const std::string& path, const LoadOptions& options) {
  const std::string context = "topology source xml:" + path;
  // hwloc's own message for a missing file is only an errno; check first for a clear one.
  auto text = readFile(path);
  if (!text.has_value()) return text.error().withContext(context);
  auto topology = finish(detail::importHwloc(detail::HwlocInput::XmlBuffer, *text), options.sysfs_root,
                         !options.sysfs_root.empty());
  if (!topology.has_value()) return topology.error().withContext(context);
  return topology;
}

Result<Topology> loadHwlocXmlBuffer(std::string_view xml, std::string_view origin, const LoadOptions& options) {
  auto topology = finish(detail::importHwloc(detail::HwlocInput::XmlBuffer, std::string(xml)), options.sysfs_root,
                         !options.sysfs_root.empty());
  if (!topology.has_value()) return topology.error().withContext("topology source " + std::string(origin));
  return topology;
}

Result<Topology> loadHwlocSynthetic(std::string_view description, const LoadOptions& options) {
  const std::string context = "topology source synthetic:\"" + std::string(description) + "\"";
  if (description.find_first_not_of(" \t") == std::string_view::npos) {
    return Error::invalidArgument("empty description").withContext(context);
  }
  auto topology = finish(detail::importHwloc(detail::HwlocInput::Synthetic, std::string(description)),
                         options.sysfs_root, !options.sysfs_root.empty());
  if (!topology.has_value()) return topology.error().withContext(context);
  return topology;
}

Result<Topology> loadJsonSnapshotFile(const std::string& path) {
  const std::string context = "topology source json:" + path;
  auto text = readFile(path);
  if (!text.has_value()) return text.error().withContext(context);
  auto topology = parseTopologyJson(*text);
  if (!topology.has_value()) return topology.error().withContext(context);
  return topology;
}

Result<Topology> loadTopology(std::string_view source, const LoadOptions& options) {
  auto strip = [&](std::string_view scheme) { return std::string(source.substr(scheme.size())); };
  if (source == "live") return loadLiveTopology(options);
  if (source.starts_with(kXmlScheme)) return loadHwlocXmlFile(strip(kXmlScheme), options);
  if (source.starts_with(kSyntheticScheme)) return loadHwlocSynthetic(source.substr(kSyntheticScheme.size()), options);
  if (source.starts_with(kJsonScheme)) return loadJsonSnapshotFile(strip(kJsonScheme));
  std::string known;
  for (std::string_view name : knownTopologySources()) {
    if (!known.empty()) known += ", ";
    known += name;
  }
  return Error::invalidArgument("unknown topology source \"" + std::string(source) + "\" (known: " + known + ")");
}

}  // namespace topod::topology
