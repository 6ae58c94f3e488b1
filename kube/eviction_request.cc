#include "kube/eviction_request.h"

#include <cstdint>
#include <cstdio>

#include "common/text.h"
#include "kube/eviction_object.h"

namespace topod::kube {
namespace {

using nlohmann::json;

Error requestFieldError(const std::string& field, std::string_view problem) {
  return Error::invalidArgument("EvictionRequest: " + field + ": " + std::string(problem));
}

bool isDnsChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// RFC 1123: a label is 1..63 of [a-z0-9-], alphanumeric at both ends; a subdomain is labels
// joined by '.', at most 253 characters.
bool isDnsSubdomain(std::string_view name, std::size_t max) {
  if (name.empty() || name.size() > max) return false;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i < name.size() && name[i] != '.') {
      if (!isDnsChar(name[i])) return false;
      continue;
    }
    std::string_view label = name.substr(start, i - start);
    constexpr std::size_t kMaxLabel = 63;
    if (label.empty() || label.size() > kMaxLabel || label.front() == '-' || label.back() == '-') return false;
    start = i + 1;
  }
  return true;
}

// 8-4-4-4-12 lowercase hex digits.
bool isLowercaseUuid(std::string_view uid) {
  constexpr std::size_t kUuidLength = 36;
  if (uid.size() != kUuidLength) return false;
  for (std::size_t i = 0; i < uid.size(); ++i) {
    const char c = uid[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

bool isReasonToken(std::string_view reason) {
  constexpr std::size_t kMaxReason = 63;  // fits a label value and an annotation at a glance
  if (reason.empty() || reason.size() > kMaxReason) return false;
  for (char c : reason) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

std::string evictionRequestName(std::string_view requester, std::string_view pod_uid) {
  // FNV-1a, 32 bits: stable across builds and platforms, which std::hash is not.
  uint32_t hash = 2166136261u;
  for (char c : requester) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", hash);
  return "topod-" + std::string(pod_uid) + "-" + hex;
}

Result<json> evictionRequestObject(const EvictionRequestSpec& spec) {
  constexpr std::size_t kMaxNamespace = 63;  // a namespace is a DNS label
  constexpr std::size_t kMaxPodName = 253;   // a pod name is a DNS subdomain
  if (!isDnsSubdomain(spec.namespace_name, kMaxNamespace) || spec.namespace_name.find('.') != std::string::npos) {
    return requestFieldError("metadata.namespace", "\"" + spec.namespace_name.substr(0, 80) + "\" is not a DNS label");
  }
  if (!isDnsSubdomain(spec.pod_name, kMaxPodName)) {
    return requestFieldError("spec.target.pod.name", "\"" + spec.pod_name.substr(0, 80) + "\" is not a DNS subdomain");
  }
  if (!isLowercaseUuid(spec.pod_uid)) {
    return requestFieldError("spec.target.pod.uid", "\"" + spec.pod_uid.substr(0, 80) + "\" is not a lowercase UUID");
  }
  Status requester = validateResponderName(spec.requester);
  if (!requester.has_value()) return requestFieldError("spec.requester", requester.error().message());
  if (!isReasonToken(spec.reason)) {
    return requestFieldError("metadata.annotations[" + std::string(kEvictionRequestReasonAnnotation) + "]",
                             "\"" + spec.reason.substr(0, 80) + "\" is not 1 to 63 of [a-z0-9_]");
  }
  json annotations = {{kEvictionRequestReasonAnnotation, spec.reason}};
  if (!spec.message.empty()) {
    annotations[kEvictionRequestMessageAnnotation] = cutUtf8(spec.message, kMaxEvictionRequestMessage);
  }
  return json{
      {"apiVersion", kEvictionApiVersion},
      {"kind", kEvictionRequestKind},
      {"metadata",
       {{"name", evictionRequestName(spec.requester, spec.pod_uid)},
        {"namespace", spec.namespace_name},
        {"labels", {{"app.kubernetes.io/managed-by", "topod"}}},
        {"annotations", annotations}}},
      {"spec",
       {{"target", {{"pod", {{"name", spec.pod_name}, {"uid", spec.pod_uid}}}}},
        {"requester", spec.requester},
        {"intent", "Eviction"}}},
  };
}

std::string evictionRequestsCollection(const std::string& namespace_name) {
  return "/apis/lifecycle.k8s.io/v1alpha1/namespaces/" + namespace_name + "/evictionrequests";
}

}  // namespace topod::kube
