// Internals of RuntimeSim shared by runtime_sim.cc (listener, sessions, handshake) and
// runtime_sim_events.cc (events). Not part of the simulator's API.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "nri/connection.h"
#include "nri/convert.h"
#include "nri/thread_annotations.h"
#include "nri/ttrpc.h"
#include "tests/tools/nri-runtime-sim/runtime_sim.h"

namespace topod::nri::sim {

using SteadyTime = std::chrono::steady_clock::time_point;

// One plugin connection: the socket, its reader thread and the calls waiting for answers.
struct Session {
  explicit Session(UniqueFd fd) : connection(std::move(fd)) {}

  Connection connection;
  std::thread reader;
  std::mutex mu;
  std::condition_variable cv;
  bool registered TOPOD_GUARDED_BY(mu) = false;
  bool closed TOPOD_GUARDED_BY(mu) = false;
  std::string name TOPOD_GUARDED_BY(mu);
  std::string idx TOPOD_GUARDED_BY(mu);
  uint32_t next_stream TOPOD_GUARDED_BY(mu) = 1;
  std::map<uint32_t, std::optional<Result<ttrpc::Response>>> pending TOPOD_GUARDED_BY(mu);
};

class RuntimeSim::Impl {
 public:
  explicit Impl(SimOptions options) : options_(std::move(options)) {}

  Status start();
  void stop();

  Result<PluginInfo> waitForPlugin(std::chrono::milliseconds timeout, uint64_t after_generation);
  bool pluginConnected() const;

  // Calls the plugin on conn 1 and waits until `deadline`. On timeout the session is closed
  // (the runtime drops slow plugins) and DeadlineExceeded returned.
  Result<ttrpc::Response> call(const std::shared_ptr<Session>& session, const std::string& method,
                               const std::string& payload, SteadyTime deadline);
  void closeSession(const std::shared_ptr<Session>& session, const std::string& reason);

  // Sends an event to the ready plugin if it subscribed. nullopt: not subscribed (skipped).
  // `notification` events use StateChange (pre-0.12 personalities or after a fallback).
  Result<std::optional<std::string>> deliver(Event event, const std::string& method, const std::string& payload,
                                             bool notification, const pb::PodSandbox* pod,
                                             const pb::Container* container);
  // Proto of a pod / container from the node state (pod: nullptr when unknown).
  bool podProto(const std::string& pod_id, pb::PodSandbox* out) const;
  bool containerProto(const std::string& container_id, pb::Container* out) const;

  SimOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Pod> pods_ TOPOD_GUARDED_BY(mu_);
  std::map<std::string, Container> containers_ TOPOD_GUARDED_BY(mu_);
  std::vector<Update> received_ TOPOD_GUARDED_BY(mu_);
  std::vector<std::string> disconnect_reasons_ TOPOD_GUARDED_BY(mu_);
  std::shared_ptr<Session> session_ TOPOD_GUARDED_BY(mu_);
  bool ready_ TOPOD_GUARDED_BY(mu_) = false;
  PluginInfo plugin_ TOPOD_GUARDED_BY(mu_);
  EventMask subscribed_ TOPOD_GUARDED_BY(mu_) = 0;
  uint64_t generation_ TOPOD_GUARDED_BY(mu_) = 0;
  bool fallback_ TOPOD_GUARDED_BY(mu_) = false;

  // The runtime's NRI lock: one handshake or event at a time.
  std::mutex event_mu_;

 private:
  void acceptLoop();
  void readLoop(std::shared_ptr<Session> session);
  void handleRuntimeCall(Session& session, const mux::ConnMessage& message);
  void handshake(const std::shared_ptr<Session>& session);

  UniqueFd listen_fd_;
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace topod::nri::sim
