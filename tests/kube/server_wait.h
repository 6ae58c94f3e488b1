// Waiting on the real API server without polling or sleeping: list the collection, then watch
// from the list's resourceVersion, so the server itself says when the object changes. Time is
// read from the injected Clock; a watch the server ends (its timeout, a 410) is followed by a
// fresh list and watch until the limit passes.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "kube/client.h"

namespace topod::kube::testing {

inline std::string objectName(const nlohmann::json& object) {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  auto name = metadata->find("name");
  return name != metadata->end() && name->is_string() ? name->get<std::string>() : "";
}

struct Observed {
  bool held = false;    // `holds` was true of some version of the object
  nlohmann::json last;  // the last version seen (null: none, or deleted)
};

// Until the object `name` of `collection` satisfies `holds`, or `limit` passes on `clock`.
inline Observed watchUntil(Client& client, const std::string& collection, const std::string& name,
                           const std::function<bool(const nlohmann::json&)>& holds, Clock::Duration limit,
                           const Clock& clock) {
  const Clock::TimePoint deadline = clock.now() + limit;
  Observed seen;
  while (clock.now() < deadline) {
    // A failed list (the server still starting) is retried by the client with its own backoff.
    auto listed = client.list(collection);
    if (!listed) continue;
    for (const auto& item : listed->items) {
      if (objectName(item) != name) continue;
      seen.last = item;
      if (holds(item)) {
        seen.held = true;
        return seen;
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - clock.now());
    (void)client.watch(collection, listed->resource_version, std::max(left, std::chrono::seconds(1)),
                       [&](const WatchEvent& event) {
                         if (objectName(event.object) != name) return true;
                         seen.last = event.type == "DELETED" ? nlohmann::json() : event.object;
                         seen.held = event.type != "DELETED" && holds(event.object);
                         return !seen.held && clock.now() < deadline;
                       });
    if (seen.held) return seen;
  }
  return seen;
}

}  // namespace topod::kube::testing
