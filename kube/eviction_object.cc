#include "kube/eviction_object.h"

#include <cctype>
#include <cstdio>

#include "common/json.h"
#include "common/text.h"

namespace topod::kube {
namespace {

using nlohmann::json;

Error fieldError(const std::string& field, std::string_view problem) {
  return Error::invalidArgument("Eviction: " + field + ": " + std::string(problem));
}

// The member `key` of `object` when present and not null; nullptr otherwise.
const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> requiredString(const json& object, const char* key, const std::string& field) {
  const json* value = member(object, key);
  if (value == nullptr) return fieldError(field, "missing");
  if (!value->is_string()) return fieldError(field, "not a string");
  std::string out = value->get<std::string>();
  if (out.empty()) return fieldError(field, "empty");
  return out;
}

Result<std::string> optionalString(const json& object, const char* key, const std::string& field) {
  const json* value = member(object, key);
  if (value == nullptr) return std::string();
  if (!value->is_string()) return fieldError(field, "not a string");
  return value->get<std::string>();
}

Result<std::optional<WallTime>> optionalTime(const json& object, const char* key, const std::string& field) {
  const json* value = member(object, key);
  if (value == nullptr) return std::optional<WallTime>();
  if (!value->is_string()) return fieldError(field, "not a string");
  auto time = parseWallTime(value->get<std::string>());
  if (!time) return fieldError(field, time.error().message());
  return std::optional<WallTime>(*time);
}

// An object member that must be an object when present; nullptr when absent.
Result<const json*> optionalObject(const json& object, const char* key, const std::string& field) {
  const json* value = member(object, key);
  if (value == nullptr) return static_cast<const json*>(nullptr);
  if (!value->is_object()) return fieldError(field, "not an object");
  return value;
}

Result<const json*> optionalArray(const json& object, const char* key, const std::string& field) {
  const json* value = member(object, key);
  if (value == nullptr) return static_cast<const json*>(nullptr);
  if (!value->is_array()) return fieldError(field, "not a list");
  if (value->size() > kMaxEvictionResponders) {
    return fieldError(field, "more than " + std::to_string(kMaxEvictionResponders) + " entries");
  }
  return value;
}

ResponderState stateFromName(std::string_view name) {
  for (ResponderState state : {ResponderState::Inactive, ResponderState::Active, ResponderState::Interrupted,
                               ResponderState::Canceled, ResponderState::Completed}) {
    if (responderStateName(state) == name) return state;
  }
  return ResponderState::Unknown;
}

// Digits at text[pos, pos+count) as a number; -1 when any is not a digit.
int digits(std::string_view text, std::size_t pos, std::size_t count) {
  if (pos + count > text.size()) return -1;
  int out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    out = out * 10 + (text[i] - '0');
  }
  return out;
}

bool isDnsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view responderStateName(ResponderState state) {
  switch (state) {
    case ResponderState::Inactive: return "Inactive";
    case ResponderState::Active: return "Active";
    case ResponderState::Interrupted: return "Interrupted";
    case ResponderState::Canceled: return "Canceled";
    case ResponderState::Completed: return "Completed";
    case ResponderState::Unknown: return "Unknown";
  }
  return "Unknown";
}

const TargetResponder* EvictionView::targetResponder(std::string_view responder) const {
  for (const TargetResponder& target : target_responders) {
    if (target.name == responder) return &target;
  }
  return nullptr;
}

const ResponderStatus* EvictionView::responderStatus(std::string_view responder) const {
  for (const ResponderStatus& status : responders) {
    if (status.name == responder) return &status;
  }
  return nullptr;
}

Result<EvictionView> parseEviction(const json& object) {
  if (!object.is_object()) return Error::invalidArgument("Eviction: not a JSON object");
  EvictionView out;
  auto metadata = optionalObject(object, "metadata", "metadata");
  if (!metadata) return metadata.error();
  if (*metadata == nullptr) return fieldError("metadata", "missing");
  auto name = requiredString(**metadata, "name", "metadata.name");
  if (!name) return name.error();
  out.name = std::move(*name);
  auto ns = requiredString(**metadata, "namespace", "metadata.namespace");
  if (!ns) return ns.error();
  out.namespace_name = std::move(*ns);
  auto uid = optionalString(**metadata, "uid", "metadata.uid");
  if (!uid) return uid.error();
  out.uid = std::move(*uid);
  auto rv = optionalString(**metadata, "resourceVersion", "metadata.resourceVersion");
  if (!rv) return rv.error();
  out.resource_version = std::move(*rv);

  auto spec = optionalObject(object, "spec", "spec");
  if (!spec) return spec.error();
  if (*spec == nullptr) return fieldError("spec", "missing");
  auto target = optionalObject(**spec, "target", "spec.target");
  if (!target) return target.error();
  if (*target == nullptr) return fieldError("spec.target", "missing");
  auto pod = optionalObject(**target, "pod", "spec.target.pod");
  if (!pod) return pod.error();
  if (*pod == nullptr) return fieldError("spec.target.pod", "missing");
  auto pod_name = requiredString(**pod, "name", "spec.target.pod.name");
  if (!pod_name) return pod_name.error();
  out.pod_name = std::move(*pod_name);
  auto pod_uid = requiredString(**pod, "uid", "spec.target.pod.uid");
  if (!pod_uid) return pod_uid.error();
  out.pod_uid = std::move(*pod_uid);

  auto status = optionalObject(object, "status", "status");
  if (!status) return status.error();
  if (*status == nullptr) return out;
  auto targets = optionalArray(**status, "targetResponders", "status.targetResponders");
  if (!targets) return targets.error();
  if (*targets != nullptr) {
    for (std::size_t i = 0; i < (*targets)->size(); ++i) {
      const json& entry = (**targets)[i];
      const std::string field = "status.targetResponders[" + std::to_string(i) + "]";
      if (!entry.is_object()) return fieldError(field, "not an object");
      TargetResponder responder;
      auto responder_name = requiredString(entry, "name", field + ".name");
      if (!responder_name) return responder_name.error();
      responder.name = std::move(*responder_name);
      if (const json* priority = member(entry, "priority")) {
        if (!priority->is_number_integer()) return fieldError(field + ".priority", "not an integer");
        const int64_t value = priority->get<int64_t>();
        // The API allows 0..100000.
        if (value < 0 || value > 100000) return fieldError(field + ".priority", "outside 0..100000");
        responder.priority = static_cast<int32_t>(value);
      }
      auto state = optionalString(entry, "state", field + ".state");
      if (!state) return state.error();
      responder.state = state->empty() ? ResponderState::Inactive : stateFromName(*state);
      if (out.targetResponder(responder.name) != nullptr) return fieldError(field + ".name", "listed twice");
      out.target_responders.push_back(std::move(responder));
    }
  }
  auto responders = optionalArray(**status, "responders", "status.responders");
  if (!responders) return responders.error();
  if (*responders != nullptr) {
    for (std::size_t i = 0; i < (*responders)->size(); ++i) {
      const json& entry = (**responders)[i];
      const std::string field = "status.responders[" + std::to_string(i) + "]";
      if (!entry.is_object()) return fieldError(field, "not an object");
      ResponderStatus responder;
      auto responder_name = requiredString(entry, "name", field + ".name");
      if (!responder_name) return responder_name.error();
      responder.name = std::move(*responder_name);
      struct TimeField {
        const char* key;
        std::optional<WallTime>* out;
      };
      for (TimeField time :
           {TimeField{"startTime", &responder.start_time}, TimeField{"heartbeatTime", &responder.heartbeat_time},
            TimeField{"expectedCompletionTime", &responder.expected_completion_time},
            TimeField{"completionTime", &responder.completion_time}}) {
        auto value = optionalTime(entry, time.key, field + "." + time.key);
        if (!value) return value.error();
        *time.out = *value;
      }
      auto message = optionalString(entry, "message", field + ".message");
      if (!message) return message.error();
      responder.message = std::move(*message);
      if (out.responderStatus(responder.name) != nullptr) return fieldError(field + ".name", "listed twice");
      out.responders.push_back(std::move(responder));
    }
  }
  return out;
}

Result<EvictionView> parseEvictionText(std::string_view text) {
  auto doc = topod::json::parseStrict(text, "Eviction");
  if (!doc) return doc.error();
  return parseEviction(*doc);
}

std::string formatWallTime(WallTime time) {
  const auto days = std::chrono::floor<std::chrono::days>(time);
  const std::chrono::year_month_day date{days};
  const std::chrono::hh_mm_ss<std::chrono::seconds> clock{time - days};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return buffer;
}

Result<WallTime> parseWallTime(std::string_view text) {
  auto bad = [&] {
    return Error::invalidArgument("not an RFC 3339 time: \"" + std::string(text.substr(0, 64)) + "\"");
  };
  // YYYY-MM-DDTHH:MM:SS is 19 characters.
  if (text.size() < 20) return bad();
  const int year = digits(text, 0, 4);
  const int month = digits(text, 5, 2);
  const int day = digits(text, 8, 2);
  const int hour = digits(text, 11, 2);
  const int minute = digits(text, 14, 2);
  const int second = digits(text, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return bad();
  if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return bad();
  }
  // 60 is a leap second; metav1.Time never writes one, so it is refused with the rest.
  if (hour > 23 || minute > 59 || second > 59) return bad();
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return bad();
  std::size_t pos = 19;
  if (text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return bad();
  }
  std::chrono::seconds offset{0};
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int oh = digits(text, pos + 1, 2);
    const int om = digits(text, pos + 4, 2);
    if (oh < 0 || om < 0 || pos + 3 >= text.size() || text[pos + 3] != ':' || oh > 23 || om > 59) return bad();
    offset = std::chrono::hours(oh) + std::chrono::minutes(om);
    if (text[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  return WallTime(std::chrono::sys_days(date).time_since_epoch() + std::chrono::hours(hour) +
                  std::chrono::minutes(minute) + std::chrono::seconds(second) - offset);
}

Status validateResponderName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return Error::invalidArgument("responder name \"" + std::string(name.substr(0, 300)) + "\": " + std::string(why));
  };
  const std::size_t slash = name.find('/');
  if (slash == std::string_view::npos) return bad("needs a domain prefix, like example.com/warn");
  const std::string_view prefix = name.substr(0, slash);
  const std::string_view local = name.substr(slash + 1);
  // A DNS subdomain is at most 253 characters; the name part of a qualified key at most 63.
  if (prefix.empty() || prefix.size() > 253) return bad("the prefix must be 1 to 253 characters");
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= prefix.size(); ++i) {
    if (i == prefix.size() || prefix[i] == '.') {
      const std::string_view label = prefix.substr(label_start, i - label_start);
      if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
        return bad("the prefix is not a DNS subdomain");
      }
      label_start = i + 1;
      continue;
    }
    if (!isDnsLabelChar(prefix[i])) return bad("the prefix is not a DNS subdomain (lower case, digits, '-', '.')");
  }
  if (prefix == "k8s.io" || prefix == "kubernetes.io" || endsWith(prefix, ".k8s.io") ||
      endsWith(prefix, ".kubernetes.io")) {
    return bad("k8s.io and kubernetes.io names are reserved for Kubernetes");
  }
  if (local.empty() || local.size() > 63) return bad("the name after '/' must be 1 to 63 characters");
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(local.front()) || !alnum(local.back())) return bad("the name after '/' must start and end alphanumeric");
  for (char c : local) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return bad("the name after '/' may hold only [A-Za-z0-9-_.]");
  }
  return okStatus();
}

json responderStatusApply(const std::string& namespace_name, const std::string& eviction_name,
                          const std::string& responder, const ResponderReport& report) {
  json entry = {{"name", responder}};
  if (report.heartbeat_time) entry["heartbeatTime"] = formatWallTime(*report.heartbeat_time);
  if (report.expected_completion_time) {
    entry["expectedCompletionTime"] = formatWallTime(*report.expected_completion_time);
  }
  if (report.completion_time) entry["completionTime"] = formatWallTime(*report.completion_time);
  if (!report.message.empty()) entry["message"] = cutUtf8(report.message, kMaxResponderMessage);
  return {{"apiVersion", kEvictionApiVersion},
          {"kind", kEvictionKind},
          {"metadata", {{"name", eviction_name}, {"namespace", namespace_name}}},
          {"status", {{"responders", json::array({std::move(entry)})}}}};
}

std::string evictionsCollection(const std::string& namespace_name) {
  if (namespace_name.empty()) return "/apis/lifecycle.k8s.io/v1alpha1/evictions";
  return "/apis/lifecycle.k8s.io/v1alpha1/namespaces/" + namespace_name + "/evictions";
}

std::string evictionStatusPath(const std::string& namespace_name, const std::string& name) {
  return evictionsCollection(namespace_name) + "/" + name + "/status";
}

}  // namespace topod::kube
