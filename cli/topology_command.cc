// `topod topology`: load a machine description and print it as a tree with the
// NodeResourceTopology zone summary, as topod's JSON snapshot, or as the NodeResourceTopology
// object topod would publish (JSON, or YAML with nrt-yaml).
#include <cstdio>
#include <string>

#include "agent/nrt_publishing.h"
#include "cli/commands.h"
#include "config/config.h"
#include "kube/yaml_json.h"
#include "state/checkpoint.h"
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

// The NodeResourceTopology object as `topod run` would publish it for this machine, policy and
// State (without the pod fingerprint: the State does not name the pods).
Result<std::string> nrtText(const topology::Topology& topology, const TopologyOptions& options) {
  Config config = defaultConfig();
  if (!options.config_path.empty()) {
    auto loaded = loadConfig(options.config_path);
    if (!loaded) return loaded.error();
    config = std::move(*loaded);
  }
  policies::State state;
  if (!options.state_dir.empty()) {
    auto read = Checkpoint::readOnDisk(options.state_dir);
    if (!read) return read.error().withContext("state in " + options.state_dir);
    state = std::move(*read);
  }
  std::string node = resolveNodeName(options.node_name.empty() ? config.kubernetes.node_name : options.node_name);
  auto object = buildNrtObject(node, topology, config.policy, state, nullptr);
  if (!object) return object.error();
  if (options.output == "nrt-yaml") return kube::toYaml(*object);
  return object->dump(2) + "\n";
}

}  // namespace

int runTopologyCommand(const TopologyOptions& options) {
  if (options.output != "tree" && options.output != "json" && options.output != "nrt" && options.output != "nrt-yaml") {
    std::fprintf(stderr, "topod topology: unknown output \"%s\" (known: tree, json, nrt, nrt-yaml)\n",
                 oneLine(options.output).c_str());
    return 2;
  }
  auto topology = topology::loadTopology(options.source, {.sysfs_root = options.sysfs_root});
  if (!topology.has_value()) {
    std::fprintf(stderr, "topod topology: %s\n", oneLine(topology.error().message()).c_str());
    return 1;
  }
  std::string text;
  if (options.output == "nrt" || options.output == "nrt-yaml") {
    auto object = nrtText(*topology, options);
    if (!object.has_value()) {
      std::fprintf(stderr, "topod topology: %s\n", oneLine(object.error().message()).c_str());
      return 1;
    }
    text = *object;
  } else if (options.output == "json") {
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
