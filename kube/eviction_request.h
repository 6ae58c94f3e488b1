// The EvictionRequest object of the EvictionRequest API (lifecycle.k8s.io/v1alpha1, KEP-4563), as
// a *requester* writes it: "evict this pod incarnation, on behalf of <requester>". topod creates
// one when it must take resources back from a running pod (docs/eviction.md, "topod as a
// requester"). One request per (requester, pod uid): the name is derived from both, so a retry,
// or a restarted topod, finds the one it made (POST answers AlreadyExists) instead of making a
// second. Pure: no I/O.
//
// Fields (reference sheet k8s-apis.md §2.3): spec.target.pod.{name,uid} (immutable),
// spec.requester (a domain-prefixed name, not under k8s.io/kubernetes.io; the KEP text calls it
// requesterName, the merged code `requester`), spec.intent "Eviction". The API has no reason
// field: topod says why in the annotations eviction.topod.io/reason and .../message.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"

namespace topod::kube {

inline constexpr const char* kEvictionRequestKind = "EvictionRequest";
inline constexpr const char* kEvictionRequestReasonAnnotation = "eviction.topod.io/reason";
inline constexpr const char* kEvictionRequestMessageAnnotation = "eviction.topod.io/message";
// Annotation values are not bounded by the API beyond the object's size; a message this long
// says everything a person needs and keeps the object small.
inline constexpr std::size_t kMaxEvictionRequestMessage = 1024;

struct EvictionRequestSpec {
  std::string namespace_name;
  std::string pod_name;
  std::string pod_uid;    // lowercase UUID (8-4-4-4-12), as the API server assigns it
  std::string requester;  // "<domain>/<name>"
  std::string reason;     // a short token ([a-z0-9_], e.g. cpus_shrunk): the metric's label too
  std::string message;    // for people; cut to kMaxEvictionRequestMessage bytes on a UTF-8 boundary
};

// "topod-<pod uid>-<8 hex digits of a hash of the requester>": 51 characters, a valid
// object name, the same for the same pair on every node and every start.
std::string evictionRequestName(std::string_view requester, std::string_view pod_uid);

// The object to POST to evictionRequestsCollection(namespace). InvalidArgument naming the field
// when the namespace or pod name is not a DNS name, the uid is not a lowercase UUID, the requester
// is not a valid domain-prefixed name, or the reason is empty or not [a-z0-9_]{1,63}.
Result<nlohmann::json> evictionRequestObject(const EvictionRequestSpec& spec);

// ".../namespaces/<ns>/evictionrequests".
std::string evictionRequestsCollection(const std::string& namespace_name);

}  // namespace topod::kube
