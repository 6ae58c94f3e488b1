// The Eviction object of the EvictionRequest API (lifecycle.k8s.io/v1alpha1, KEP-4563), as a
// responder sees it: which pod it targets, the responders the controller chose with their states,
// and the responders' own status entries. Reading is strict about what a responder relies on
// (names, the target pod's name and uid, known states) and tolerant of everything else (unknown
// fields, a future state reads as Unknown). Writing builds the server-side-apply body that sets
// only this responder's `status.responders[]` entry. Pure: no I/O. Times are wall-clock UTC
// seconds, as metav1.Time carries them. docs/eviction.md describes the protocol.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace topod::kube {

inline constexpr const char* kEvictionApiVersion = "lifecycle.k8s.io/v1alpha1";
inline constexpr const char* kEvictionKind = "Eviction";

using WallTime = std::chrono::sys_seconds;

// Per-responder state in status.targetResponders[] (set by the controller). Unknown: a value
// this build does not know; a responder treats it as "not mine to act on".
enum class ResponderState { Inactive, Active, Interrupted, Canceled, Completed, Unknown };
std::string_view responderStateName(ResponderState state);

struct TargetResponder {
  std::string name;
  int32_t priority = 0;
  ResponderState state = ResponderState::Unknown;
  friend bool operator==(const TargetResponder&, const TargetResponder&) = default;
};

struct ResponderStatus {
  std::string name;
  std::optional<WallTime> start_time;
  std::optional<WallTime> heartbeat_time;
  std::optional<WallTime> expected_completion_time;
  std::optional<WallTime> completion_time;
  std::string message;
  friend bool operator==(const ResponderStatus&, const ResponderStatus&) = default;
};

struct EvictionView {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string resource_version;
  std::string pod_name;
  std::string pod_uid;
  std::vector<TargetResponder> target_responders;
  std::vector<ResponderStatus> responders;

  // nullptr when `responder` is not among them.
  const TargetResponder* targetResponder(std::string_view responder) const;
  const ResponderStatus* responderStatus(std::string_view responder) const;
  friend bool operator==(const EvictionView&, const EvictionView&) = default;
};

// Bounds from the API's validation (targetResponders <= 11, responders <= 11); a server object
// past them is refused rather than trusted. Messages are at most 4000 characters.
inline constexpr std::size_t kMaxEvictionResponders = 11;
inline constexpr std::size_t kMaxResponderMessage = 4000;

// Reads an Eviction object. InvalidArgument naming the field when metadata.name/namespace,
// spec.target.pod.name/uid are missing or not strings, a time is not RFC 3339, a list is longer
// than the bounds above, or a field has the wrong type.
Result<EvictionView> parseEviction(const nlohmann::json& object);
// The same from text (strict JSON: duplicate keys refused). For the fuzz target and the tests.
Result<EvictionView> parseEvictionText(std::string_view text);

// "2026-12-06T22:48:22Z", the form metav1.Time writes. Parsing also takes fractional seconds
// (dropped) and a numeric offset ("+01:00"); InvalidArgument otherwise.
std::string formatWallTime(WallTime time);
Result<WallTime> parseWallTime(std::string_view text);

// A responder name is a domain-prefixed key "<dns subdomain>/<name>" (as for labels); names
// under k8s.io and kubernetes.io are reserved for Kubernetes. InvalidArgument saying why.
Status validateResponderName(std::string_view name);

// What a responder writes into its own status.responders[] entry; unset fields are left out.
struct ResponderReport {
  std::optional<WallTime> heartbeat_time;
  std::optional<WallTime> expected_completion_time;
  std::optional<WallTime> completion_time;
  std::string message;  // cut to kMaxResponderMessage bytes on a UTF-8 boundary
  friend bool operator==(const ResponderReport&, const ResponderReport&) = default;
};

// The server-side-apply body (for PATCH .../status with the responder name as field manager):
// apiVersion, kind, metadata.name/namespace and status.responders = [this responder's entry].
nlohmann::json responderStatusApply(const std::string& namespace_name, const std::string& eviction_name,
                                    const std::string& responder, const ResponderReport& report);

// "/apis/lifecycle.k8s.io/v1alpha1/evictions" (all namespaces) or ".../namespaces/<ns>/evictions".
std::string evictionsCollection(const std::string& namespace_name = "");
// ".../namespaces/<ns>/evictions/<name>/status".
std::string evictionStatusPath(const std::string& namespace_name, const std::string& name);

}  // namespace topod::kube
