// nri::Plugin: topod's NRI plugin. Owns the connection to the runtime, speaks the protocol
// (mux + ttrpc + NRI messages), converts messages to nri/types.h values and calls the agent's
// EventHandler.
//
// Lifecycle (docs/nri.md, "Lifecycle"): connect -> RegisterPlugin -> Configure (subscribe a mask valid for
// the runtime's NRI version) -> Synchronize (possibly split, `more`) -> events. When the
// connection ends or breaks (EOF, protocol error, the runtime disconnecting a slow plugin), the
// plugin reconnects and goes through registration and a full Synchronize again. How it waits
// between attempts: with a SocketWatcher (options.socket_watcher), a missing socket is waited for
// (connect the moment it appears, re-checked every backoff_max should an event be lost), and a
// socket that refuses connections is retried with exponential backoff that a re-created socket
// cuts short; without one, every failure backs off. A runtime-launched plugin
// (InheritedFdConnector) cannot reconnect: it stops.
//
// Threading: start() spawns ONE I/O thread that owns the socket, reads, dispatches to the
// EventHandler and writes replies. updateContainers() may be called from any other thread; it
// hands the request to the I/O thread and waits for the runtime's answer. stop() may be called
// from any thread except the I/O thread (i.e. not from a handler or callback).
//
// Errors never kill the process: each protocol problem is reported through `on_error` (the agent
// logs it; nri/ does not) and, when the stream can no longer be trusted, ends the connection,
// which triggers a reconnect.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "nri/event_handler.h"
#include "nri/socket_watcher.h"
#include "nri/transport.h"
#include "nri/types.h"

namespace topod::nri {

// Events topod subscribes to by default, before intersecting with what the runtime accepts:
// pod lifecycle, container create/start/update/stop/remove and (NRI >= 0.10) pod resize.
constexpr EventMask kTopodEvents =
    eventBit(Event::RunPodSandbox) | eventBit(Event::StopPodSandbox) | eventBit(Event::RemovePodSandbox) |
    eventBit(Event::CreateContainer) | eventBit(Event::StartContainer) | eventBit(Event::UpdateContainer) |
    eventBit(Event::StopContainer) | eventBit(Event::RemoveContainer) | eventBit(Event::UpdatePodSandbox);

// Every event the plugin can serve (all but ValidateContainerAdjustment: topod is no validator).
constexpr EventMask kAllServedEvents = ((EventMask{1} << 13) - 1);

struct PluginOptions {
  std::string name = "topod";
  std::string idx = "90";           // two digits; runtimes call plugins in ascending index order
  EventMask events = kTopodEvents;  // intersected with the runtime's valid events; never sent as 0
  // Reconnect backoff: first delay, doubled per failed attempt up to the maximum; reset once a
  // connection reached Synchronize or the watcher saw the socket (re)appear. With a watcher, a
  // missing socket does not grow it and backoff_max is only the safety re-check of a missing one.
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  // Watches the runtime's socket for reconnecting the moment it (re)appears; nullptr: backoff
  // only (a launched plugin has nothing to watch). Started and stopped by the plugin's I/O thread;
  // if it fails to start, the error goes to on_error and the plugin backs off as without one.
  // Must outlive the plugin.
  SocketWatcher* socket_watcher = nullptr;
  // How long updateContainers() and RegisterPlugin wait for the runtime's answer.
  std::chrono::milliseconds call_timeout{5000};
  // Times the backoff and the call deadlines; nullptr: the real clock. Must outlive the plugin.
  // (The I/O thread notices an expired RegisterPlugin at its next wake-up: socket activity, a
  // timed-out updateContainers(), or its poll timeout, which is real time.)
  const Clock* clock = nullptr;
  // Receives every protocol or connection error. Called on the I/O thread; must not block.
  // Errors that end the connection end in "; reconnecting in N ms" (or, for a launched plugin,
  // "; ... stopping"); the others were answered on a connection that stays up.
  std::function<void(const Error&)> on_error;
  // Called on the I/O thread after each completed Synchronize (the plugin is live from then on).
  std::function<void(const RuntimeInfo&)> on_synchronized;
};

// Counters for tests and metrics. Read with Plugin::stats(); monotonic over the plugin's life.
struct PluginStats {
  uint64_t connections = 0;       // successful connects
  uint64_t disconnections = 0;    // connections that ended (connected now: connections > disconnections)
  uint64_t synchronizations = 0;  // completed Synchronize sequences
  uint64_t events = 0;            // runtime->plugin requests answered (Configure/Sync included)
  uint64_t errors = 0;            // errors reported through on_error
  uint64_t socket_appeared = 0;   // reconnect waits the socket watcher cut short
};

class Plugin {
 public:
  // `handler` and `connector` must outlive the plugin.
  Plugin(PluginOptions options, EventHandler& handler, Connector& connector);
  ~Plugin();  // stops the plugin
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  // Validates the options and starts the I/O thread. Errors: invalid name/index.
  Status start();
  // Ends the connection and joins the I/O thread. Idempotent.
  void stop();
  // Blocks until the plugin stopped by itself (a launched plugin whose connection ended) or
  // stop() was called; returns why it stopped.
  Status wait();

  // Sends unsolicited updates to the runtime and waits for its answer. Returns the updates the
  // runtime reported as failed (empty on full success). Errors: not connected/synchronized yet
  // (Unavailable), called from a handler (FailedPrecondition), the runtime's error status, or no
  // answer within call_timeout (DeadlineExceeded).
  Result<std::vector<Update>> updateContainers(const std::vector<Update>& updates);

  PluginStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace topod::nri
