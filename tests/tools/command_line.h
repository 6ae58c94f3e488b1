// The command lines of the test tools (cri-client, eviction-controller):
//   COMMAND [POSITIONAL...] [--OPTION VALUE...] [--FLAG...] [-- TRAILING...]
// in any order before "--"; --help or -h anywhere makes the command "help".
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace topod::tools {

struct CommandLineSpec {
  std::set<std::string> options;   // --NAME VALUE, the last one counts; empty: any name is an option
  std::set<std::string> repeated;  // --NAME VALUE, each one kept, in order
  std::set<std::string> flags;     // --NAME, no value
};

struct CommandLine {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;
  std::map<std::string, std::vector<std::string>> repeated;
  std::set<std::string> flags;
  std::vector<std::string> trailing;  // after "--"

  const std::vector<std::string>& all(const std::string& name) const {
    static const std::vector<std::string> kNone;
    auto it = repeated.find(name);
    return it == repeated.end() ? kNone : it->second;
  }
  bool flag(const std::string& name) const { return flags.count(name) > 0; }
};

inline std::string option(const CommandLine& line, const std::string& name, const std::string& fallback = "") {
  auto it = line.options.find(name);
  return it == line.options.end() ? fallback : it->second;
}

inline Result<CommandLine> parseCommandLine(int argc, char** argv, const CommandLineSpec& spec) {
  CommandLine line;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) line.trailing.emplace_back(argv[i]);
      break;
    }
    if (arg == "--help" || arg == "-h") {
      line.command = "help";
      return line;
    }
    if (!arg.starts_with("--")) {
      if (line.command.empty()) {
        line.command = arg;
      } else {
        line.positional.push_back(arg);
      }
      continue;
    }
    const std::string name = arg.substr(2);
    if (spec.flags.count(name) > 0) {
      line.flags.insert(name);
      continue;
    }
    const bool repeated = spec.repeated.count(name) > 0;
    if (!repeated && !spec.options.empty() && spec.options.count(name) == 0) {
      return Error::invalidArgument("unknown option " + arg);
    }
    if (i + 1 >= argc) return Error::invalidArgument("option " + arg + " needs a value");
    const std::string value = argv[++i];
    if (repeated) {
      line.repeated[name].push_back(value);
    } else {
      line.options[name] = value;
    }
  }
  if (line.command.empty()) return Error::invalidArgument("no command given");
  return line;
}

}  // namespace topod::tools
