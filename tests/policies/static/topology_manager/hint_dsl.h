// A compact spelling of providers' hints for table rows transcribed from the kubelet's tests.
//
//   providers := provider ("|" provider)*         "" = no providers at all
//   provider  := "{}" | resource (";" resource)*  "{}" = the provider's map is empty
//   resource  := name "=" ( "nil" | "[]" | hint (" " hint)* )
//   hint      := ("any" | node-list) ("*" | "!")  '*' preferred, '!' not preferred
//
// "name=nil" (the kubelet's nil slice: no preference) leaves the resource out of the map, which
// is what a missing resource means in ResourceHints. Malformed text fails the test loudly.
#pragma once

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "policies/static/topology_hint.h"

namespace topod::policies::testing {

inline TopologyHint parseHint(const std::string& token) {
  TopologyHint hint;
  if (token.empty()) {
    ADD_FAILURE() << "empty hint token";
    return hint;
  }
  char mark = token.back();
  if (mark != '*' && mark != '!') ADD_FAILURE() << "hint \"" << token << "\" must end in * or !";
  hint.preferred = mark == '*';
  std::string nodes = token.substr(0, token.size() - 1);
  if (nodes != "any") {
    auto parsed = NodeSet::parse(nodes);
    if (!parsed.has_value()) {
      ADD_FAILURE() << parsed.error().toString();
    } else {
      hint.affinity = *parsed;
    }
  }
  return hint;
}

inline std::vector<std::string> splitOn(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream stream(text);
  while (std::getline(stream, part, separator)) {
    std::size_t begin = part.find_first_not_of(' ');
    std::size_t end = part.find_last_not_of(' ');
    parts.push_back(begin == std::string::npos ? "" : part.substr(begin, end - begin + 1));
  }
  return parts;
}

inline ResourceHints parseProvider(const std::string& text) {
  ResourceHints hints;
  if (text == "{}") return hints;
  for (const std::string& resource : splitOn(text, ';')) {
    std::size_t eq = resource.find('=');
    if (eq == std::string::npos) {
      ADD_FAILURE() << "resource \"" << resource << "\" has no '='";
      continue;
    }
    std::string name = resource.substr(0, eq);
    std::string list = resource.substr(eq + 1);
    if (list == "nil") continue;
    std::vector<TopologyHint>& out = hints[name];
    if (list == "[]") continue;
    for (const std::string& token : splitOn(list, ' ')) {
      if (!token.empty()) out.push_back(parseHint(token));
    }
  }
  return hints;
}

inline std::vector<ResourceHints> parseProviders(const std::string& text) {
  std::vector<ResourceHints> providers;
  if (text.empty()) return providers;
  for (const std::string& provider : splitOn(text, '|')) providers.push_back(parseProvider(provider));
  return providers;
}

// GTest parameter names allow only [A-Za-z0-9_]; the kubelet's descriptions are sanitised.
inline std::string sanitizeName(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (ok) {
      out += c;
    } else if (c == '!') {
      // "!current.Preferred" and "current.Preferred" must stay distinct names.
      if (!out.empty() && out.back() != '_') out += '_';
      out += "not_";
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "row" : out;
}

}  // namespace topod::policies::testing
