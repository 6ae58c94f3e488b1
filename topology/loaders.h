// Loaders: everything that turns an outside description of a machine into a Topology value.
//
//   loadTopology("live")            this machine, through hwloc, plus sysfs for isolated/offline CPUs
//   loadTopology("xml:PATH")        an hwloc XML export (lstopo --of xml, hwloc-gather-topology)
//   loadTopology("synthetic:DESC")  an hwloc synthetic description, e.g. "pack:2 numa:2 l3:2 core:4 pu:2"
//   loadTopology("json:PATH")       topod's own snapshot (docs/topology-json.md)
//
// Every loader ends in TopologyBuilder::build(), so every source gets the same validation. Errors
// never throw; they name the source and what is wrong with it. hwloc stays behind this header.
// Thread-safety: the functions share no state and may run concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "topology/model.h"

namespace topod::topology {

struct LoadOptions {
  // Root of the sysfs tree that supplies isolated and offline CPUs (tests pass a fake tree
  // from tests/fixtures). "live" reads it always, with "/" when this is empty; "xml:" and
  // "synthetic:" read it only when it is set, which lets a test pair an XML file with a fake
  // sysfs; "json:" never reads it (a snapshot is explicit).
  std::string sysfs_root;
};

// Dispatches on the scheme ("live", "xml:", "synthetic:", "json:"). An unknown scheme is an
// InvalidArgument error that lists the known ones.
Result<Topology> loadTopology(std::string_view source, const LoadOptions& options = {});

// The schemes loadTopology() accepts, for help texts and errors.
const std::vector<std::string_view>& knownTopologySources();

Result<Topology> loadLiveTopology(const LoadOptions& options = {});
Result<Topology> loadHwlocXmlFile(const std::string& path, const LoadOptions& options = {});
// An hwloc XML document held in memory; `origin` names it in errors.
Result<Topology> loadHwlocXmlBuffer(std::string_view xml, std::string_view origin, const LoadOptions& options = {});
Result<Topology> loadHwlocSynthetic(std::string_view description, const LoadOptions& options = {});
Result<Topology> loadJsonSnapshotFile(const std::string& path);

}  // namespace topod::topology
