// `topod topology`: load a machine description and print it as a tree with the
// NodeResourceTopology zone summary, or as topod's JSON snapshot.
#include <cstdio>
#include <string>

#include "agent/commands.h"
#include "topology/json_snapshot.h"
#include "topology/loaders.h"
#include "topology/text_format.h"
#include "topology/zone_summary.h"

namespace topod::agent {
namespace {

// Errors are one line: the message may quote input that holds newlines.
std::string oneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace

int runTopologyCommand(const TopologyOptions& options) {
  if (options.output != "tree" && options.output != "json") {
    std::fprintf(stderr, "topod topology: unknown output \"%s\" (known: tree, json)\n", oneLine(options.output).c_str());
    return 2;
  }
  auto topology = topology::loadTopology(options.source, {.sysfs_root = options.sysfs_root});
  if (!topology.has_value()) {
    std::fprintf(stderr, "topod topology: %s\n", oneLine(topology.error().message()).c_str());
    return 1;
  }
  std::string text;
  if (options.output == "json") {
    text = topology::toTopologyJson(*topology);
  } else {
    text = topology::formatTopologyTree(*topology) + topology::formatZoneTable(topology::summarizeZones(*topology));
  }
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "topod topology: cannot write the output\n");
    return 1;
  }
  return 0;
}

}  // namespace topod::agent
