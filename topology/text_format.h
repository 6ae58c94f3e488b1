// Human-readable renderings of the model for `topod topology --output tree`: the machine as a
// tree (package > NUMA node > L3 group > cores) and the NodeResourceTopology zone table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "topology/model.h"
#include "topology/zone_summary.h"

namespace topod::topology {

std::string formatTopologyTree(const Topology& topology);
std::string formatZoneTable(const std::vector<Zone>& zones);
// "16 MiB", "15.5 GiB", "512 B".
std::string formatBytes(uint64_t bytes);

}  // namespace topod::topology
