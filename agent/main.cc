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
  topology->add_option("--sysfs-root", topology_options.sysfs_root,
                       "Read isolated/offline CPUs from this sysfs root (default / for live; xml and synthetic "
                       "sources read it only when given)");

  auto* config = app.add_subcommand("config", "Work with topod configuration files");
  config->require_subcommand(1);
  topod::agent::ConfigCheckOptions config_check_options;
  auto* config_check = config->add_subcommand("check", "Validate a configuration file without running");
  config_check->add_option("file", config_check_options.path, "TOML configuration file")->required();

  topod::agent::SimulateOptions simulate_options;
  auto* simulate = app.add_subcommand("simulate", "Replay a trace of pod events against a policy and print each decision");
  simulate->add_option("--topology", simulate_options.topology, "live, xml:PATH, synthetic:DESC or json:PATH")->required();
  simulate->add_option("--config", simulate_options.config, "TOML configuration (its [policy] table is used)");
  simulate->add_option("--policy", simulate_options.policy, "policy name, overriding the configuration's");
  simulate->add_option("--state", simulate_options.state, "initial state JSON (containers already placed)");
  simulate->add_option("--trace", simulate_options.trace, "trace of add/resize/remove events, JSON Lines")->required();

  CLI11_PARSE(app, argc, argv);

  if (version->parsed()) return topod::agent::runVersionCommand();
  if (topology->parsed()) return topod::agent::runTopologyCommand(topology_options);
  if (config_check->parsed()) return topod::agent::runConfigCheckCommand(config_check_options);
  if (simulate->parsed()) return topod::agent::runSimulateCommand(simulate_options);
  return 2;
}
