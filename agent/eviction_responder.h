// topod as an EvictionRequest responder (lifecycle.k8s.io/v1alpha1, docs/eviction.md): the
// decisions, as a pure class. It is told what the API server and the workload said (observe,
// removed, progress) and what time it is, and answers with actions for the driver
// (agent/eviction_warnings.h) to carry out: warn a pod, tell it the warning is withdrawn, write
// this responder's status entry. It never does I/O and never reads a clock.
//
// The rules it follows (k8s-apis.md §2.5):
// - It acts only on Evictions whose status.targetResponders lists its name with state Active,
//   whose target pod (namespace, name and uid) runs on this node. Everything else is ignored.
// - On activation it warns the pod once, in the pod's mode (annotation, else the node default),
//   with a deadline; mode `none` finishes at once. In mode `criu` the "workload" whose progress
//   arrives is the runtime's checkpoint (agent/eviction_checkpoints.h): its done or failed
//   finishes the warning as "checkpoint done: <archives>" or "checkpoint failed: <why>".
// - While warning it heartbeats: first at once, then every heartbeat_interval, or sooner (but
//   never less than kMinHeartbeatGap after the last) when the workload's progress message
//   changed. heartbeat_interval is below the controller's 20-minute deadline.
// - It finishes (completionTime) when the workload reports done or failed, or the deadline passes.
// - Canceled, or the Eviction deleted, while warning: the warning is withdrawn (a Cancel action
//   tells the workload). Interrupted: it stops; someone else owns the eviction now. Completed: done.
// - Warnings are kept by pod uid: a second Eviction for a pod being warned adopts the running
//   warning, and one for a pod that already finished is answered "completed" at once; neither
//   warns the pod again. After a withdrawal a new request warns again. Finished records are kept
//   until the driver says the pod is gone (forgetPod) or kRetention has passed.
//
// A write that failed is simply due again at the next due() call: reports are levels, not edges.
// Thread-safety: none; the driver serialises calls.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "kube/eviction_object.h"

namespace topod::agent {

using kube::WallTime;

enum class WarningMode { Signal, File, Criu, None };
std::string_view warningModeName(WarningMode mode);
std::optional<WarningMode> parseWarningMode(std::string_view name);

// The API's rules: the controller interrupts a responder after 20 minutes without a heartbeat,
// and asks for heartbeats no closer than 20 s apart.
inline constexpr std::chrono::seconds kHeartbeatDeadline{20 * 60};
inline constexpr std::chrono::seconds kMinHeartbeatGap{20};
// How long finished records are kept when the driver never says the pod is gone.
inline constexpr std::chrono::hours kRetention{24};

// Pod annotations that choose the mode and the deadline per pod.
inline constexpr const char* kWarningModeAnnotation = "eviction.topod.io/warning";
inline constexpr const char* kDeadlineAnnotation = "eviction.topod.io/deadline-seconds";

struct ResponderSettings {
  std::string responder_name;  // validated by kube::validateResponderName before it gets here
  WarningMode default_mode = WarningMode::Signal;
  std::chrono::seconds deadline{600};       // a pod's time to checkpoint unless it asks otherwise
  std::chrono::seconds max_deadline{3600};  // the most an annotation may ask for
  // Between heartbeats while the workload says nothing new; in [kMinHeartbeatGap, 10 min] so a
  // late write still lands well before kHeartbeatDeadline.
  std::chrono::seconds heartbeat_interval{180};
};
// InvalidArgument naming the setting that is out of range.
Status validateResponderSettings(const ResponderSettings& settings);

struct LocalPod {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::map<std::string, std::string> annotations;
};

// The pod's mode and deadline: its annotations where valid, else the node's defaults; `note` says
// what was ignored and why ("" when nothing was).
struct PodChoice {
  WarningMode mode = WarningMode::Signal;
  std::chrono::seconds deadline{0};
  std::string note;
};
PodChoice choosePodWarning(const ResponderSettings& settings, const LocalPod& pod);

enum class WorkloadState { Running, Done, Failed };
std::string_view workloadStateName(WorkloadState state);

// What the workload last said in its progress file (agent/eviction_files.h).
struct Progress {
  WorkloadState state = WorkloadState::Running;
  std::optional<int> percent;  // 0..100
  std::string message;
  friend bool operator==(const Progress&, const Progress&) = default;
};

enum class WarningPhase {
  Warning,      // warned, waiting for the workload; heartbeating
  Finished,     // done, failed, deadline passed, or nothing to do (mode none)
  Cancelled,    // the request was withdrawn while warning
  Interrupted,  // the controller moved on (missed heartbeat)
};
std::string_view warningPhaseName(WarningPhase phase);
std::optional<WarningPhase> parseWarningPhase(std::string_view name);

// One pod's warning: what the state file keeps (agent/eviction_warnings.h) and `topod evictions`
// shows.
struct Warning {
  std::string eviction_namespace;
  std::string eviction_name;
  std::string pod_namespace;
  std::string pod_name;
  std::string pod_uid;
  WarningMode mode = WarningMode::Signal;
  WarningPhase phase = WarningPhase::Warning;
  WallTime warned_at{};
  WallTime deadline{};
  std::optional<Progress> progress;
  // Why it finished or what went wrong ("workload done: ...", "deadline passed", ...).
  std::string outcome;
  std::optional<WallTime> changed_at;      // when the phase last changed
  std::optional<WallTime> last_heartbeat;  // the last heartbeat the server accepted
  std::string last_message;                // the message the server has
  bool completion_reported = false;        // the server has our completionTime
  friend bool operator==(const Warning&, const Warning&) = default;
};

struct ResponderAction {
  enum class Kind {
    Warn,    // deliver the warning (signal, notice file) for `warning`
    Cancel,  // tell the workload the warning is withdrawn
    Report,  // write `report` into the Eviction's status; then call reported()
  };
  Kind kind = Kind::Report;
  Warning warning;
  kube::ResponderReport report;
};

class EvictionResponder {
 public:
  explicit EvictionResponder(ResponderSettings settings) : settings_(std::move(settings)) {}

  const ResponderSettings& settings() const { return settings_; }

  // Warnings read back after a restart; none of them is warned again.
  void restore(const std::vector<Warning>& warnings);

  // An Eviction was added or changed. `pod`: the pod on this node whose uid is the target's,
  // nullptr when there is none (another node's pod, or one that is gone).
  std::vector<ResponderAction> observe(const kube::EvictionView& eviction, const LocalPod* pod, WallTime now);
  // The Eviction was deleted: a warning still running is withdrawn.
  std::vector<ResponderAction> removed(const std::string& namespace_name, const std::string& name, WallTime now);
  // The workload's progress file (mode criu: the checkpoint worker) said `progress`. Done or
  // failed finishes the warning.
  void progress(const std::string& pod_uid, const Progress& progress, WallTime now);
  // The warning could not be delivered (the container is gone, the signal failed): finish at
  // once, saying why, so the next responder evicts without waiting for the deadline.
  void warnFailed(const std::string& pod_uid, const std::string& why, WallTime now);
  // The status writes that are due now (heartbeats, completions), deadlines applied first.
  std::vector<ResponderAction> due(WallTime now);
  // The server accepted `report` for the pod's warning.
  void reported(const std::string& pod_uid, const kube::ResponderReport& report);
  // The pod is gone from this node: its record may go.
  void forgetPod(const std::string& pod_uid);

  std::vector<Warning> warnings() const;
  const Warning* find(const std::string& pod_uid) const;
  // Whether the records changed since the last call (the driver persists them then).
  bool takeChanged();

 private:
  void finish(Warning& warning, std::string outcome, WallTime now);
  std::string statusMessage(const Warning& warning) const;

  ResponderSettings settings_;
  std::map<std::string, Warning> warnings_;  // by pod uid
  bool changed_ = false;
};

}  // namespace topod::agent
