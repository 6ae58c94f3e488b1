// RuntimeSim: the runtime side of NRI, behaving like containerd's adaptation library
// (containerd/nri pkg/adaptation) for one external plugin: it listens on a unix socket, enforces
// the registration timeout, sends Configure, a Synchronize split over several messages (`more`),
// every pod and container event (dedicated RPCs with StateChange fallback on NRI >= 0.12
// personalities, StateChange otherwise), disconnects a plugin that misses the request timeout or
// answers with an invalid event mask, and accepts UpdateContainers. Personalities reproduce the
// version differences of containerd 1.7 / 2.1 / 2.2+ and CRI-O 1.33.
//
// The API speaks nri/types.h only, so agent end-to-end tests can use it without protobuf.
//
// Threading: an accept thread (registration, Configure, Synchronize) and a reader thread per
// plugin connection; every public method is thread-safe. Events are sent one at a time, like
// the runtime's NRI lock serializes them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "nri/types.h"

namespace topod::nri::sim {

struct Personality {
  std::string runtime_name;
  std::string runtime_version;
  std::string nri_version;  // sent in Configure only by NRI >= 0.12 runtimes
  EventMask valid_events = 0;
  bool split_sync = false;      // NRI >= 0.7: Synchronize may be split with `more`
  bool send_timeouts = false;   // NRI >= 0.7: Configure carries the timeouts
  bool dedicated_rpcs = false;  // NRI >= 0.12: dedicated notification RPCs

  static Personality containerd17();  // containerd 1.7.24: NRI v0.6.1
  static Personality containerd21();  // containerd 2.1: NRI v0.8.0
  static Personality containerd22();  // containerd 2.2: NRI v0.10/0.11
  static Personality containerd23();  // containerd 2.3: NRI v0.12
  static Personality crio133();       // CRI-O 1.33: NRI pseudo-version e597e78
  // By name: "containerd-1.7", "containerd-2.1", "containerd-2.2", "containerd-2.3", "crio-1.33".
  static Result<Personality> byName(const std::string& name);
};

struct SimOptions {
  std::string socket_path;  // keep it short (sun_path is 108 bytes), e.g. /tmp/nri-sim-XXXX.sock
  Personality personality = Personality::containerd17();
  std::chrono::milliseconds registration_timeout{5000};
  std::chrono::milliseconds request_timeout{2000};
  // Objects (pods + containers) per Synchronize message when the personality splits; 0 = send
  // everything in one message.
  size_t sync_objects_per_message = 0;
};

// What the simulator saw of the connected plugin.
struct PluginInfo {
  std::string name;
  std::string idx;
  EventMask events = 0;              // the plugin's Configure answer
  uint64_t generation = 0;           // 1 for the first synchronized connection, +1 per reconnect
  size_t sync_messages = 0;          // Synchronize requests of the last handshake
  std::vector<Update> sync_updates;  // the plugin's answer to the final Synchronize
};

// Bytes on the current plugin connection, mux frame headers included.
struct Traffic {
  uint64_t sent = 0;      // runtime -> plugin
  uint64_t received = 0;  // plugin -> runtime
};

struct CreateResult {
  Adjustment adjustment;
  std::vector<Update> updates;
};

class RuntimeSim {
 public:
  explicit RuntimeSim(SimOptions options);
  ~RuntimeSim();  // stops
  RuntimeSim(const RuntimeSim&) = delete;
  RuntimeSim& operator=(const RuntimeSim&) = delete;

  // Listens on the socket (replacing a stale socket file) and starts accepting.
  Status start();
  // Closes the listener and the plugin connection (the plugin sees EOF) and removes the socket.
  void stop();
  // stop() + start(): the runtime restarted. Pods and containers are kept.
  Status restart();

  // Waits until a plugin is registered, configured and synchronized with a generation greater
  // than `after_generation`. Errors: DeadlineExceeded.
  Result<PluginInfo> waitForPlugin(std::chrono::milliseconds timeout, uint64_t after_generation = 0);
  bool pluginConnected() const;

  // The node's state, reported by Synchronize. Adding does not send events.
  void addPod(const Pod& pod);
  void addContainer(const Container& container);

  // Events. Each updates the node state, then calls the plugin if it subscribed to the event.
  // Errors: the plugin's error status, or Unavailable / DeadlineExceeded when it is gone or too
  // slow (after which it is disconnected, as containerd does).
  Status runPodSandbox(const Pod& pod);
  Status stopPodSandbox(const std::string& pod_id);
  Status removePodSandbox(const std::string& pod_id);
  Status updatePodSandbox(const std::string& pod_id, const LinuxResources& overhead, const LinuxResources& resources);
  Status postUpdatePodSandbox(const std::string& pod_id);
  Result<CreateResult> createContainer(const Container& container);
  Status postCreateContainer(const std::string& container_id);
  Status startContainer(const std::string& container_id, uint32_t pid);
  Status postStartContainer(const std::string& container_id);
  Result<std::vector<Update>> updateContainer(const std::string& container_id, const LinuxResources& requested);
  Status postUpdateContainer(const std::string& container_id);
  Result<std::vector<Update>> stopContainer(const std::string& container_id);
  Status removeContainer(const std::string& container_id);

  // Unsolicited updates received through UpdateContainers, in arrival order.
  std::vector<Update> receivedUpdates() const;
  // Bad-input injection: raw bytes written to the plugin connection as they are.
  Status sendRaw(const std::string& bytes);
  // True when the plugin switched to StateChange after answering UNIMPLEMENTED.
  bool usesStateChangeFallback() const;
  // Zeros when no plugin is connected.
  Traffic traffic() const;
  // Why the simulator dropped connections (registration timeout, invalid mask, ...), in order.
  std::vector<std::string> disconnectReasons() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace topod::nri::sim
