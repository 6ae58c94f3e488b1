// SimRuntime: the runtime's side of NRI for the agent's end-to-end and crash tests. It keeps a
// model of pods and containers as containerd does (a creation the plugin refuses does not
// happen; stopped containers are not synchronized; updates and adjustments from the plugin
// change the model's cpusets), speaks the real protocol (nri::Connection, ttrpc, NRI protobuf)
// over a socket to a real nri::Plugin, and serves the plugin's unsolicited UpdateContainers.
// Single-threaded: the test thread drives it.
#pragma once

#include <poll.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nri/connection.h"
#include "nri/convert.h"
#include "nri/plugin_service.h"
#include "nri/ttrpc.h"
#include "nri/types.h"

namespace topod::testing {

namespace pb = ::nri::pkg::api::v1alpha1;

class SimRuntime {
 public:
  explicit SimRuntime(nri::UniqueFd fd) : connection_(std::make_unique<nri::Connection>(std::move(fd))) {}

  // A new connection (the plugin reconnected, or a restarted agent connected); the model stays.
  void reconnect(nri::UniqueFd fd) {
    connection_ = std::make_unique<nri::Connection>(std::move(fd));
    next_stream_ = 1;
    closed_ = false;
  }

  // The runtime goes away: the plugin sees EOF and reconnects.
  void disconnect() { connection_.reset(); }

  // RegisterPlugin, Configure, Synchronize with every pod and non-stopped container.
  Status handshake() {
    auto reg = read(std::chrono::seconds(10));
    if (!reg || reg->conn != nri::mux::kRuntimeServiceConn) return Error::unavailable("no RegisterPlugin");
    if (!respond(reg->message.header.stream_id, {})) return Error::unavailable("RegisterPlugin answer");
    pb::ConfigureRequest configure;
    configure.set_runtime_name("containerd");
    configure.set_runtime_version("v1.7.24");
    TOPOD_RETURN_IF_ERROR(call("Configure", configure).has_value() ? okStatus() : Error::unavailable("Configure"));
    pb::SynchronizeRequest sync;
    for (const auto& [id, pod] : pods) nri::podToProto(pod, sync.add_pods());
    for (const auto& [id, c] : containers) {
      if (c.state != nri::ContainerState::Stopped) nri::containerToProto(c, sync.add_containers());
    }
    auto answer = call("Synchronize", sync);
    if (!answer.has_value()) return answer.error();
    pb::SynchronizeResponse response;
    response.ParseFromString(*answer);
    for (const auto& update : response.update()) applyUpdate(update);
    return okStatus();
  }

  Status runPod(const nri::Pod& pod) {
    pods[pod.id] = pod;
    return stateChange(pb::RUN_POD_SANDBOX, pod, nullptr);
  }

  // Creates the container; on success the model holds it with the adjusted resources.
  Result<nri::Adjustment> createContainer(const nri::Container& container) {
    pb::CreateContainerRequest request;
    nri::podToProto(pods.at(container.pod_id), request.mutable_pod());
    nri::containerToProto(container, request.mutable_container());
    auto answer = call("CreateContainer", request);
    if (!answer.has_value()) return answer.error();
    pb::CreateContainerResponse response;
    response.ParseFromString(*answer);
    auto adjustment = nri::adjustmentFromProto(response.adjust());
    if (!adjustment.has_value()) return adjustment.error();
    nri::Container created = container;
    overlay(created.resources, adjustment->resources);
    created.state = nri::ContainerState::Running;
    containers[created.id] = created;
    for (const auto& update : response.update()) applyUpdate(update);
    return *adjustment;
  }

  Status updateContainer(const std::string& id, const nri::LinuxResources& requested) {
    pb::UpdateContainerRequest request;
    const nri::Container& c = containers.at(id);
    nri::podToProto(pods.at(c.pod_id), request.mutable_pod());
    nri::containerToProto(c, request.mutable_container());
    nri::resourcesToProto(requested, request.mutable_linux_resources());
    auto answer = call("UpdateContainer", request);
    if (!answer.has_value()) return answer.error();
    overlay(containers.at(id).resources, requested);
    pb::UpdateContainerResponse response;
    response.ParseFromString(*answer);
    for (const auto& update : response.update()) applyUpdate(update);
    return okStatus();
  }

  // The container stops whatever the plugin answers (as in containerd).
  Status stopContainer(const std::string& id) {
    nri::Container& c = containers.at(id);
    c.state = nri::ContainerState::Stopped;
    pb::StopContainerRequest request;
    nri::podToProto(pods.at(c.pod_id), request.mutable_pod());
    nri::containerToProto(c, request.mutable_container());
    auto answer = call("StopContainer", request);
    if (!answer.has_value()) return answer.error();
    pb::StopContainerResponse response;
    response.ParseFromString(*answer);
    for (const auto& update : response.update()) applyUpdate(update);
    return okStatus();
  }

  Status removeContainer(const std::string& id) {
    nri::Container c = containers.at(id);
    containers.erase(id);
    return stateChange(pb::REMOVE_CONTAINER, pods.at(c.pod_id), &c);
  }

  Status removePod(const std::string& pod_id) {
    nri::Pod pod = pods.at(pod_id);
    for (auto it = containers.begin(); it != containers.end();) {
      it = it->second.pod_id == pod_id ? containers.erase(it) : std::next(it);
    }
    pods.erase(pod_id);
    return stateChange(pb::REMOVE_POD_SANDBOX, pod, nullptr);
  }

  // Serves unsolicited UpdateContainers for up to `timeout`, or until `until` holds.
  template <typename Pred>
  bool pumpUntil(Pred until, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!until()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      auto message = read(std::min(left, std::chrono::milliseconds(50)));
      if (message) serveRuntimeCall(*message);
    }
    return true;
  }

  CpuSet cpusOf(const std::string& id) const {
    const auto& r = containers.at(id).resources;
    return r.cpuset_cpus ? *r.cpuset_cpus : CpuSet{};
  }

  std::map<std::string, nri::Pod> pods;
  std::map<std::string, nri::Container> containers;
  int unsolicited_batches = 0;

 private:
  static void overlay(nri::LinuxResources& into, const nri::LinuxResources& from) {
    if (from.cpu_shares) into.cpu_shares = from.cpu_shares;
    if (from.cpu_quota) into.cpu_quota = from.cpu_quota;
    if (from.cpu_period) into.cpu_period = from.cpu_period;
    if (from.cpuset_cpus) into.cpuset_cpus = from.cpuset_cpus;
    if (from.cpuset_mems) into.cpuset_mems = from.cpuset_mems;
    if (from.memory_limit) into.memory_limit = from.memory_limit;
  }

  void applyUpdate(const pb::ContainerUpdate& proto) {
    auto update = nri::updateFromProto(proto);
    if (!update.has_value()) return;
    auto it = containers.find(update->container_id);
    if (it != containers.end()) overlay(it->second.resources, update->resources);
  }

  Status stateChange(pb::Event event, const nri::Pod& pod, const nri::Container* container) {
    pb::StateChangeEvent request;
    request.set_event(event);
    nri::podToProto(pod, request.mutable_pod());
    if (container != nullptr) nri::containerToProto(*container, request.mutable_container());
    auto answer = call("StateChange", request);
    return answer.has_value() ? okStatus() : Status(answer.error());
  }

  std::optional<nri::mux::ConnMessage> read(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto message = connection_->nextMessage();
      if (!message.has_value()) {  // the agent's stream is corrupt
        closed_ = true;
        return std::nullopt;
      }
      if (message->has_value()) return std::move(*message);
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd pfd{connection_->fd(), POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      auto more = connection_->readSome();
      if (!more.has_value() || !*more) {
        closed_ = true;
        return std::nullopt;
      }
    }
  }

  bool respond(uint32_t stream, const nri::ttrpc::Response& response) {
    auto encoded = nri::ttrpc::encodeResponse(stream, response);
    return encoded.has_value() && connection_->send(nri::mux::kRuntimeServiceConn, *encoded).has_value();
  }

  void serveRuntimeCall(const nri::mux::ConnMessage& message) {
    if (message.conn != nri::mux::kRuntimeServiceConn) return;
    auto request = nri::ttrpc::decodeRequest(message.message.data);
    if (!request.has_value()) return;
    if (request->method != "UpdateContainers") {
      respond(message.message.header.stream_id, {.code = ErrorCode::Unimplemented, .message = request->method});
      return;
    }
    pb::UpdateContainersRequest updates;
    updates.ParseFromString(request->payload);
    for (const auto& update : updates.update()) applyUpdate(update);
    ++unsolicited_batches;
    respond(message.message.header.stream_id, {.payload = pb::UpdateContainersResponse().SerializeAsString()});
  }

  // Calls the plugin and waits for its answer, serving its own calls meanwhile. Error: the
  // plugin's error status (a refusal), or Unavailable when the connection broke.
  template <typename Message>
  Result<std::string> call(const std::string& method, const Message& message) {
    if (closed_) return Error::unavailable("connection closed");
    uint32_t stream = next_stream_;
    next_stream_ += 2;
    auto encoded = nri::ttrpc::encodeRequest(stream, {nri::kPluginServiceName, method, message.SerializeAsString(), 0});
    if (!encoded.has_value() || !connection_->send(nri::mux::kPluginServiceConn, *encoded).has_value()) {
      closed_ = true;
      return Error::unavailable(method + ": send failed");
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto answer = read(std::chrono::milliseconds(100));
      if (!answer) {
        if (closed_) return Error::unavailable(method + ": connection closed");
        continue;
      }
      if (answer->conn == nri::mux::kRuntimeServiceConn) {
        serveRuntimeCall(*answer);
        continue;
      }
      if (answer->message.header.stream_id != stream) continue;
      auto response = nri::ttrpc::decodeResponse(answer->message.data);
      if (!response.has_value()) return response.error();
      if (response->code != ErrorCode::Ok) return Error(response->code, response->message);
      return response->payload;
    }
    return Error(ErrorCode::DeadlineExceeded, method + ": no answer");
  }

  std::unique_ptr<nri::Connection> connection_;
  uint32_t next_stream_ = 1;
  bool closed_ = false;

 public:
  bool closed() const { return closed_; }
};

}  // namespace topod::testing
