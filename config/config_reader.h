// TableReader: strict, position-aware reading of one TOML table for config/config.cc. Every read
// marks its key as known; finish() reports the keys nobody read as unknown. Problems are
// collected (never thrown) as "<file>:<line>:<column>: <dotted.key>: <reason>".
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace topod::agent {

class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix, std::string source, std::vector<std::string>& problems);

  // Each read returns true when the key is present and valid (and `out` was set); absent keys
  // leave `out` alone and return false; invalid ones add a problem and return false.
  bool readBool(std::string_view key, bool& out);
  bool readInt(std::string_view key, int64_t min, int64_t max, int64_t& out, bool required = false);
  bool readString(std::string_view key, std::string& out);
  // A memory size: an integer byte count or a Kubernetes quantity string ("1Gi", "1.5G";
  // common/quantity.h).
  bool readQuantity(std::string_view key, uint64_t& out);
  template <typename T, typename U>
  bool readChoice(std::string_view key, const std::vector<std::pair<std::string_view, T>>& choices, U& out) {
    std::string value;
    if (!readString(key, value)) return false;
    for (const auto& [name, choice] : choices) {
      if (name == value) {
        out = choice;
        return true;
      }
    }
    std::string known;
    for (const auto& [name, choice] : choices) known += (known.empty() ? "\"" : ", \"") + std::string(name) + "\"";
    problem(key, "\"" + value + "\" is not one of " + known);
    return false;
  }
  void readSubtable(std::string_view key, const std::function<void(TableReader&)>& fn, bool required = false);
  // An array of tables ([[key]]), each handed to fn.
  void readTableArray(std::string_view key, const std::function<void(TableReader&)>& fn);
  // Every key of this table, in order (for maps such as resource -> quantity).
  void readEveryKey(const std::function<void(const std::string&)>& fn);

  void problem(std::string_view key, const std::string& reason);
  // Reports every key that no read asked for.
  void finish();

 private:
  const toml::node* find(std::string_view key);
  std::string dotted(std::string_view key) const;
  std::string where(const toml::source_region& region) const;
  void wrongType(std::string_view key, const toml::node& node, std::string_view expected);

  const toml::table& table_;
  std::string prefix_;
  std::string source_;
  std::vector<std::string>& problems_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace topod::agent
