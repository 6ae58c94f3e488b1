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

  CLI11_PARSE(app, argc, argv);

  if (version->parsed()) return topod::agent::runVersionCommand();
  return 2;
}
