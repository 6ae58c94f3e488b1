// topod's command line. This is the only file that includes CLI11 (slow to compile, see
// debian-deps.md §6): each command parses its options here into a plain struct and calls a
// function declared in agent/commands.h.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "agent/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"topod: node topology and resource manager for Kubernetes"};
  app.require_subcommand(1);

  auto* version = app.add_subcommand("version", "Print the topod version");

  topod::agent::TopologyOptions topology_options;
  auto* topology = app.add_subcommand("topology", "Print the machine's topology and its NUMA zone summary");
  topology->add_option("--source", topology_options.source, "live, xml:PATH, synthetic:DESC or json:PATH")
      ->capture_default_str();
  topology->add_option("--output", topology_options.output, "tree or json")
      ->check(CLI::IsMember({"tree", "json"}))
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  if (version->parsed()) return topod::agent::runVersionCommand();
  if (topology->parsed()) return topod::agent::runTopologyCommand(topology_options);
  return 2;
}
