#include "agent/eviction_state.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "agent/eviction_files.h"
#include "common/json.h"
#include "state/state_json.h"

namespace topod::agent {
namespace {

using nlohmann::json;

// More warnings than pods a node can run (the kubelet's maximum is 110 by default; a few
// thousand leaves room) means the file is not ours.
constexpr std::size_t kMaxWarnings = 10000;

std::string checksumOf(const json& body) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "fnv1a64:%016llx",
                static_cast<unsigned long long>(policies::fnv1a64(topod::json::dumpCompact(body))));
  return buffer;
}

Error bad(const std::string& what) {
  return Error::invalidArgument(std::string(kEvictionStateFile) + ": " + what);
}

Result<std::string> stringField(const json& object, const char* key, bool required) {
  auto it = object.find(key);
  if (it == object.end()) {
    if (required) return bad(std::string(key) + ": missing");
    return std::string();
  }
  if (!it->is_string()) return bad(std::string(key) + ": not a string");
  return it->get<std::string>();
}

Result<std::optional<WallTime>> timeField(const json& object, const char* key, bool required) {
  auto text = stringField(object, key, required);
  if (!text) return text.error();
  if (text->empty() && !required) return std::optional<WallTime>();
  auto time = kube::parseWallTime(*text);
  if (!time) return bad(std::string(key) + ": " + time.error().message());
  return std::optional<WallTime>(*time);
}

Result<Warning> parseWarning(const json& entry) {
  if (!entry.is_object()) return bad("a warning is not an object");
  Warning w;
  struct StringSlot {
    const char* key;
    std::string* out;
    bool required;
  };
  for (StringSlot slot :
       {StringSlot{"pod_uid", &w.pod_uid, true}, StringSlot{"pod_namespace", &w.pod_namespace, true},
        StringSlot{"pod_name", &w.pod_name, true}, StringSlot{"eviction_namespace", &w.eviction_namespace, true},
        StringSlot{"eviction_name", &w.eviction_name, true}, StringSlot{"last_message", &w.last_message, false},
        StringSlot{"outcome", &w.outcome, false}}) {
    auto value = stringField(entry, slot.key, slot.required);
    if (!value) return value.error();
    *slot.out = std::move(*value);
  }
  if (!isSafePodUid(w.pod_uid)) return bad("pod_uid \"" + w.pod_uid.substr(0, 64) + "\" is not a UID");
  auto mode = stringField(entry, "mode", true);
  if (!mode) return mode.error();
  auto parsed_mode = parseWarningMode(*mode);
  if (!parsed_mode) return bad("mode \"" + mode->substr(0, 32) + "\" is unknown");
  w.mode = *parsed_mode;
  auto phase = stringField(entry, "phase", true);
  if (!phase) return phase.error();
  auto parsed_phase = parseWarningPhase(*phase);
  if (!parsed_phase) return bad("phase \"" + phase->substr(0, 32) + "\" is unknown");
  w.phase = *parsed_phase;
  auto warned_at = timeField(entry, "warned_at", true);
  if (!warned_at) return warned_at.error();
  w.warned_at = **warned_at;
  auto deadline = timeField(entry, "deadline", true);
  if (!deadline) return deadline.error();
  w.deadline = **deadline;
  auto changed_at = timeField(entry, "changed_at", false);
  if (!changed_at) return changed_at.error();
  w.changed_at = *changed_at;
  auto heartbeat = timeField(entry, "last_heartbeat", false);
  if (!heartbeat) return heartbeat.error();
  w.last_heartbeat = *heartbeat;
  if (auto it = entry.find("completion_reported"); it != entry.end()) {
    if (!it->is_boolean()) return bad("completion_reported: not a boolean");
    w.completion_reported = it->get<bool>();
  }
  if (auto it = entry.find("progress"); it != entry.end()) {
    // The same strict reading as the workload's own file.
    auto progress = parseProgress(it->dump());
    if (!progress) return bad(progress.error().message());
    w.progress = *progress;
  }
  return w;
}

}  // namespace

std::string serializeWarnings(const std::vector<Warning>& warnings) {
  json list = json::array();
  for (const Warning& w : warnings) {
    json entry = {{"pod_uid", w.pod_uid},
                  {"pod_namespace", w.pod_namespace},
                  {"pod_name", w.pod_name},
                  {"eviction_namespace", w.eviction_namespace},
                  {"eviction_name", w.eviction_name},
                  {"mode", std::string(warningModeName(w.mode))},
                  {"phase", std::string(warningPhaseName(w.phase))},
                  {"warned_at", kube::formatWallTime(w.warned_at)},
                  {"deadline", kube::formatWallTime(w.deadline)},
                  {"completion_reported", w.completion_reported}};
    if (w.changed_at) entry["changed_at"] = kube::formatWallTime(*w.changed_at);
    if (w.last_heartbeat) entry["last_heartbeat"] = kube::formatWallTime(*w.last_heartbeat);
    if (!w.last_message.empty()) entry["last_message"] = w.last_message;
    if (!w.outcome.empty()) entry["outcome"] = w.outcome;
    if (w.progress) {
      json progress = {{"state", std::string(workloadStateName(w.progress->state))}};
      if (w.progress->percent) progress["percent"] = *w.progress->percent;
      if (!w.progress->message.empty()) progress["message"] = w.progress->message;
      entry["progress"] = std::move(progress);
    }
    list.push_back(std::move(entry));
  }
  json body = {{"version", 1}, {"warnings", std::move(list)}};
  body["checksum"] = checksumOf(body);
  return topod::json::dumpCompact(body) + "\n";
}

Result<std::vector<Warning>> parseWarnings(std::string_view text) {
  auto doc = topod::json::parseStrict(text, kEvictionStateFile);
  if (!doc) return doc.error();
  if (!doc->is_object()) return bad("not a JSON object");
  auto version = doc->find("version");
  if (version == doc->end() || !version->is_number_integer() || version->get<int64_t>() != 1) {
    return bad("version: not 1 (a newer topod wrote it?)");
  }
  auto checksum = stringField(*doc, "checksum", true);
  if (!checksum) return checksum.error();
  json body = *doc;
  body.erase("checksum");
  if (checksumOf(body) != *checksum) {
    return Error::dataLoss(std::string(kEvictionStateFile) + ": checksum mismatch (the file was damaged)");
  }
  for (const auto& [key, value] : doc->items()) {
    if (key != "version" && key != "checksum" && key != "warnings") return bad("unknown key \"" + key + "\"");
  }
  auto warnings = doc->find("warnings");
  if (warnings == doc->end() || !warnings->is_array()) return bad("warnings: not a list");
  if (warnings->size() > kMaxWarnings) return bad("more than " + std::to_string(kMaxWarnings) + " warnings");
  std::vector<Warning> out;
  for (const json& entry : *warnings) {
    auto warning = parseWarning(entry);
    if (!warning) return warning.error();
    for (const Warning& seen : out) {
      if (seen.pod_uid == warning->pod_uid) return bad("pod " + warning->pod_uid + " appears twice");
    }
    out.push_back(std::move(*warning));
  }
  return out;
}

namespace {

std::string escaped(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02x", c);
      out += buffer;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace

std::string formatWarningsTable(const std::vector<Warning>& warnings, WallTime now) {
  std::string out;
  char line[1024];
  std::snprintf(line, sizeof line, "%-32s %-32s %-6s %-11s %-28s %-28s %-20s %s\n", "POD", "EVICTION", "MODE", "PHASE",
                "PROGRESS", "DEADLINE", "LAST HEARTBEAT", "OUTCOME");
  out += line;
  for (const Warning& w : warnings) {
    std::string progress = "-";
    if (w.progress) {
      progress = std::string(workloadStateName(w.progress->state));
      if (w.progress->percent) progress += " " + std::to_string(*w.progress->percent) + "%";
      if (!w.progress->message.empty()) progress += " " + w.progress->message;
    }
    std::string deadline = kube::formatWallTime(w.deadline);
    if (w.phase == WarningPhase::Warning) {
      const auto left = std::chrono::duration_cast<std::chrono::seconds>(w.deadline - now).count();
      deadline += left > 0 ? " (" + std::to_string(left) + "s left)" : " (passed)";
    }
    std::snprintf(line, sizeof line, "%-32s %-32s %-6s %-11s %-28s %-28s %-20s %s\n",
                  escaped(w.pod_namespace + "/" + w.pod_name).c_str(),
                  escaped(w.eviction_namespace + "/" + w.eviction_name).c_str(),
                  std::string(warningModeName(w.mode)).c_str(), std::string(warningPhaseName(w.phase)).c_str(),
                  escaped(progress.substr(0, 28)).c_str(), deadline.c_str(),
                  w.last_heartbeat ? kube::formatWallTime(*w.last_heartbeat).c_str() : "-",
                  escaped(w.outcome.empty() ? "-" : w.outcome).c_str());
    out += line;
  }
  std::size_t running = 0;
  for (const Warning& w : warnings) running += w.phase == WarningPhase::Warning ? 1 : 0;
  out += std::to_string(warnings.size()) + " warnings, " + std::to_string(running) + " in flight\n";
  return out;
}

}  // namespace topod::agent
