// topod's JSON snapshot of a Topology (format: docs/topology-json.md). It states every fact
// explicitly (a row per CPU with the kernel's ids, NUMA memory, huge pages, kinds, distances,
// isolated/offline CPUs, devices), so it can describe any machine, including ones hwloc has never
// seen, and it round-trips: toTopologyJson(parseTopologyJson(text)) == text for any text that
// toTopologyJson wrote.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "topology/model.h"

namespace topod::topology {

inline constexpr std::string_view kTopologyJsonFormat = "topod-topology";
inline constexpr int kTopologyJsonVersion = 1;

// Deterministic text: fixed key order, one CPU / node / device per line, trailing newline.
std::string toTopologyJson(const Topology& topology);

// Strict: unknown keys, wrong types, out-of-range ids, CPUs on unlisted NUMA nodes or L3 groups
// and anything TopologyBuilder rejects are errors. Messages start with the JSON path of the
// offending value ("cpus[3].numa: ..."); the caller prefixes the file name. Never throws.
Result<Topology> parseTopologyJson(std::string_view text);

}  // namespace topod::topology
