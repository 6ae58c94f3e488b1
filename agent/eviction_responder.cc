#include "agent/eviction_responder.h"

#include <charconv>

namespace topod::agent {
namespace {

std::string seconds(std::chrono::seconds value) {
  return std::to_string(value.count()) + "s";
}

}  // namespace

std::string_view warningModeName(WarningMode mode) {
  switch (mode) {
    case WarningMode::Signal: return "signal";
    case WarningMode::File: return "file";
    case WarningMode::Criu: return "criu";
    case WarningMode::None: return "none";
  }
  return "none";
}

std::optional<WarningMode> parseWarningMode(std::string_view name) {
  for (WarningMode mode : {WarningMode::Signal, WarningMode::File, WarningMode::Criu, WarningMode::None}) {
    if (warningModeName(mode) == name) return mode;
  }
  return std::nullopt;
}

std::string_view workloadStateName(WorkloadState state) {
  switch (state) {
    case WorkloadState::Running: return "running";
    case WorkloadState::Done: return "done";
    case WorkloadState::Failed: return "failed";
  }
  return "running";
}

std::string_view warningPhaseName(WarningPhase phase) {
  switch (phase) {
    case WarningPhase::Warning: return "warning";
    case WarningPhase::Finished: return "finished";
    case WarningPhase::Cancelled: return "cancelled";
    case WarningPhase::Interrupted: return "interrupted";
  }
  return "warning";
}

std::optional<WarningPhase> parseWarningPhase(std::string_view name) {
  for (WarningPhase phase :
       {WarningPhase::Warning, WarningPhase::Finished, WarningPhase::Cancelled, WarningPhase::Interrupted}) {
    if (warningPhaseName(phase) == name) return phase;
  }
  return std::nullopt;
}

Status validateResponderSettings(const ResponderSettings& settings) {
  if (auto name = kube::validateResponderName(settings.responder_name); !name) return name;
  // Ten minutes leaves a late heartbeat (API server down, retries) half the controller's deadline.
  constexpr std::chrono::seconds kMaxHeartbeatInterval{10 * 60};
  if (settings.heartbeat_interval < kMinHeartbeatGap || settings.heartbeat_interval > kMaxHeartbeatInterval) {
    return Error::invalidArgument("eviction.heartbeat_interval_s: " + seconds(settings.heartbeat_interval) +
                                  " is outside " + seconds(kMinHeartbeatGap) + ".." + seconds(kMaxHeartbeatInterval));
  }
  if (settings.deadline.count() <= 0) return Error::invalidArgument("eviction.deadline_s: must be positive");
  if (settings.max_deadline < settings.deadline) {
    return Error::invalidArgument("eviction.max_deadline_s: " + seconds(settings.max_deadline) +
                                  " is below eviction.deadline_s " + seconds(settings.deadline));
  }
  return okStatus();
}

PodChoice choosePodWarning(const ResponderSettings& settings, const LocalPod& pod) {
  PodChoice out{settings.default_mode, settings.deadline, ""};
  if (auto it = pod.annotations.find(kWarningModeAnnotation); it != pod.annotations.end()) {
    if (auto mode = parseWarningMode(it->second)) {
      out.mode = *mode;
    } else {
      out.note = std::string(kWarningModeAnnotation) + " \"" + it->second.substr(0, 64) +
                 "\" is not signal, file, criu or none; using " + std::string(warningModeName(out.mode));
    }
  }
  if (auto it = pod.annotations.find(kDeadlineAnnotation); it != pod.annotations.end()) {
    const std::string& text = it->second;
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value <= 0) {
      if (!out.note.empty()) out.note += "; ";
      out.note += std::string(kDeadlineAnnotation) + " \"" + text.substr(0, 64) +
                  "\" is not a positive number of seconds; using " + seconds(out.deadline);
    } else if (std::chrono::seconds(value) > settings.max_deadline) {
      out.deadline = settings.max_deadline;
      if (!out.note.empty()) out.note += "; ";
      out.note += std::string(kDeadlineAnnotation) + " capped at the node's " + seconds(settings.max_deadline);
    } else {
      out.deadline = std::chrono::seconds(value);
    }
  }
  return out;
}

void EvictionResponder::restore(const std::vector<Warning>& warnings) {
  for (const Warning& warning : warnings) warnings_[warning.pod_uid] = warning;
}

std::vector<ResponderAction> EvictionResponder::observe(const kube::EvictionView& eviction, const LocalPod* pod,
                                                        WallTime now) {
  const kube::TargetResponder* target = eviction.targetResponder(settings_.responder_name);
  if (target == nullptr) return {};
  // Only a pod of this node, and exactly the incarnation the request names.
  if (pod == nullptr || pod->uid != eviction.pod_uid || pod->name != eviction.pod_name ||
      pod->namespace_name != eviction.namespace_name) {
    return {};
  }
  auto it = warnings_.find(eviction.pod_uid);
  const kube::ResponderStatus* status = eviction.responderStatus(settings_.responder_name);
  const bool server_has_completion = status != nullptr && status->completion_time.has_value();
  switch (target->state) {
    case kube::ResponderState::Active: {
      if (it != warnings_.end() &&
          (it->second.phase == WarningPhase::Warning || it->second.phase == WarningPhase::Finished)) {
        Warning& warning = it->second;
        if (warning.eviction_namespace != eviction.namespace_name || warning.eviction_name != eviction.name) {
          // Another Eviction for the same pod: adopt it; the report it needs is due() again.
          warning.eviction_namespace = eviction.namespace_name;
          warning.eviction_name = eviction.name;
          warning.last_heartbeat.reset();
          warning.last_message.clear();
          warning.completion_reported = false;
          changed_ = true;
        }
        if (server_has_completion && !warning.completion_reported) {
          warning.completion_reported = true;
          changed_ = true;
        }
        return {};
      }
      const PodChoice choice = choosePodWarning(settings_, *pod);
      Warning warning;
      warning.eviction_namespace = eviction.namespace_name;
      warning.eviction_name = eviction.name;
      warning.pod_namespace = pod->namespace_name;
      warning.pod_name = pod->name;
      warning.pod_uid = pod->uid;
      warning.mode = choice.mode;
      warning.warned_at = now;
      warning.deadline = now + choice.deadline;
      warning.changed_at = now;
      warning.outcome = choice.note;
      changed_ = true;
      if (choice.mode == WarningMode::None) {
        finish(warning, "mode none: acknowledged without warning the workload", now);
        warnings_[warning.pod_uid] = warning;
        return {};
      }
      warnings_[warning.pod_uid] = warning;
      ResponderAction action;
      action.kind = ResponderAction::Kind::Warn;
      action.warning = std::move(warning);
      return {std::move(action)};
    }
    case kube::ResponderState::Canceled: {
      if (it == warnings_.end() || it->second.phase != WarningPhase::Warning) return {};
      it->second.phase = WarningPhase::Cancelled;
      it->second.outcome = "the eviction request was withdrawn";
      it->second.changed_at = now;
      changed_ = true;
      ResponderAction action;
      action.kind = ResponderAction::Kind::Cancel;
      action.warning = it->second;
      return {std::move(action)};
    }
    case kube::ResponderState::Interrupted: {
      if (it == warnings_.end() || it->second.phase != WarningPhase::Warning) return {};
      it->second.phase = WarningPhase::Interrupted;
      it->second.outcome = "interrupted by the controller (missed heartbeat); the next responder evicts";
      it->second.changed_at = now;
      changed_ = true;
      return {};
    }
    case kube::ResponderState::Completed: {
      if (it == warnings_.end()) return {};
      if (it->second.phase == WarningPhase::Warning) {
        finish(it->second, "completed (as the controller records)", now);
      }
      if (!it->second.completion_reported) {
        it->second.completion_reported = true;
        changed_ = true;
      }
      return {};
    }
    case kube::ResponderState::Inactive:
    case kube::ResponderState::Unknown: return {};
  }
  return {};
}

std::vector<ResponderAction> EvictionResponder::removed(const std::string& namespace_name, const std::string& name,
                                                        WallTime now) {
  std::vector<ResponderAction> out;
  for (auto& [uid, warning] : warnings_) {
    if (warning.eviction_namespace != namespace_name || warning.eviction_name != name) continue;
    if (warning.phase != WarningPhase::Warning) continue;
    warning.phase = WarningPhase::Cancelled;
    warning.outcome = "the eviction was deleted";
    warning.changed_at = now;
    changed_ = true;
    ResponderAction action;
    action.kind = ResponderAction::Kind::Cancel;
    action.warning = warning;
    out.push_back(std::move(action));
  }
  return out;
}

void EvictionResponder::progress(const std::string& pod_uid, const Progress& progress, WallTime now) {
  auto it = warnings_.find(pod_uid);
  if (it == warnings_.end() || it->second.phase != WarningPhase::Warning) return;
  Warning& warning = it->second;
  if (warning.progress != progress) {
    warning.progress = progress;
    changed_ = true;
  }
  // In mode criu the runtime, not the workload, reports (agent/eviction_checkpoints.h).
  const std::string who = warning.mode == WarningMode::Criu ? "checkpoint" : "workload";
  switch (progress.state) {
    case WorkloadState::Running: return;
    case WorkloadState::Done:
      finish(warning, who + " done" + (progress.message.empty() ? "" : ": " + progress.message), now);
      return;
    case WorkloadState::Failed:
      finish(warning, who + " failed" + (progress.message.empty() ? "" : ": " + progress.message), now);
      return;
  }
}

void EvictionResponder::warnFailed(const std::string& pod_uid, const std::string& why, WallTime now) {
  auto it = warnings_.find(pod_uid);
  if (it == warnings_.end() || it->second.phase != WarningPhase::Warning) return;
  finish(it->second, "could not warn the workload: " + why, now);
}

std::vector<ResponderAction> EvictionResponder::due(WallTime now) {
  std::vector<ResponderAction> out;
  for (auto it = warnings_.begin(); it != warnings_.end();) {
    Warning& warning = it->second;
    if (warning.phase != WarningPhase::Warning && warning.changed_at && now - *warning.changed_at > kRetention) {
      it = warnings_.erase(it);
      changed_ = true;
      continue;
    }
    ++it;
    if (warning.phase == WarningPhase::Warning && now >= warning.deadline) {
      finish(warning,
             "deadline passed (" +
                 seconds(std::chrono::duration_cast<std::chrono::seconds>(warning.deadline - warning.warned_at)) +
                 ") before the workload said done",
             now);
    }
    ResponderAction action;
    action.kind = ResponderAction::Kind::Report;
    action.warning = warning;
    if (warning.phase == WarningPhase::Finished) {
      if (warning.completion_reported) continue;
      action.report.completion_time = now;
      action.report.message = statusMessage(warning);
      out.push_back(std::move(action));
      continue;
    }
    if (warning.phase != WarningPhase::Warning) continue;
    const std::string message = statusMessage(warning);
    bool send = !warning.last_heartbeat.has_value();
    if (!send) {
      const auto since = now - *warning.last_heartbeat;
      send = since >= settings_.heartbeat_interval || (message != warning.last_message && since >= kMinHeartbeatGap);
    }
    if (!send) continue;
    action.report.heartbeat_time = now;
    // The API refuses an expected completion in the past.
    if (warning.deadline > now) action.report.expected_completion_time = warning.deadline;
    action.report.message = message;
    out.push_back(std::move(action));
  }
  return out;
}

void EvictionResponder::reported(const std::string& pod_uid, const kube::ResponderReport& report) {
  auto it = warnings_.find(pod_uid);
  if (it == warnings_.end()) return;
  Warning& warning = it->second;
  if (report.heartbeat_time) warning.last_heartbeat = report.heartbeat_time;
  if (report.completion_time) warning.completion_reported = true;
  warning.last_message = report.message;
  changed_ = true;
}

void EvictionResponder::forgetPod(const std::string& pod_uid) {
  if (warnings_.erase(pod_uid) > 0) changed_ = true;
}

std::vector<Warning> EvictionResponder::warnings() const {
  std::vector<Warning> out;
  out.reserve(warnings_.size());
  for (const auto& [uid, warning] : warnings_) out.push_back(warning);
  return out;
}

const Warning* EvictionResponder::find(const std::string& pod_uid) const {
  auto it = warnings_.find(pod_uid);
  return it == warnings_.end() ? nullptr : &it->second;
}

bool EvictionResponder::takeChanged() {
  return std::exchange(changed_, false);
}

void EvictionResponder::finish(Warning& warning, std::string outcome, WallTime now) {
  warning.phase = WarningPhase::Finished;
  warning.outcome = std::move(outcome);
  warning.changed_at = now;
  changed_ = true;
}

std::string EvictionResponder::statusMessage(const Warning& warning) const {
  std::string out;
  if (warning.phase == WarningPhase::Finished) {
    out = warning.outcome;
  } else {
    out = "warned by " + std::string(warningModeName(warning.mode)) + " at " + kube::formatWallTime(warning.warned_at) +
          ", deadline " + kube::formatWallTime(warning.deadline);
    if (warning.progress) {
      out += "; progress";
      if (warning.progress->percent) out += " " + std::to_string(*warning.progress->percent) + "%";
      if (!warning.progress->message.empty()) out += ": " + warning.progress->message;
    } else {
      out += "; no progress reported yet";
    }
    if (!warning.outcome.empty()) out += " (" + warning.outcome + ")";
  }
  return out;
}

}  // namespace topod::agent
