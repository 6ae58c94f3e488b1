// RawRuntime: the runtime's end of a FakeNriConnector socketpair, driven step by step by a test
// (scripted handshakes, hand-made bad input). Single-threaded: the test thread owns it.
#pragma once

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include "nri/connection.h"
#include "nri/plugin_service.h"

namespace topod::nri::testing {

class RawRuntime {
 public:
  explicit RawRuntime(UniqueFd fd) : connection_(std::move(fd)) {}

  // The next message from the plugin, or nullopt on timeout/EOF/error.
  std::optional<mux::ConnMessage> read(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto message = connection_.nextMessage();
      if (!message.has_value()) return std::nullopt;  // the plugin's stream is corrupt
      if (message->has_value()) return std::move(*message);
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd pfd{connection_.fd(), POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      auto more = connection_.readSome();
      if (!more.has_value() || !*more) return std::nullopt;
    }
  }

  // True when the plugin closed its end (EOF) within the timeout.
  bool waitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd pfd{connection_.fd(), POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0) continue;
      auto more = connection_.readSome();
      if (!more.has_value() || !*more) return true;
      // Discards what the plugin still sent; a corrupt stream ends at the next readSome().
      for (auto message = connection_.nextMessage(); message.has_value() && message->has_value();
           message = connection_.nextMessage()) {
      }
    }
    return false;
  }

  // Reads the plugin's RegisterPlugin request; returns its stream id (0 if none arrived).
  uint32_t expectRegister(pb::RegisterPluginRequest* out = nullptr) {
    auto message = read();
    if (!message || message->conn != mux::kRuntimeServiceConn) return 0;
    auto request = ttrpc::decodeRequest(message->message.data);
    if (!request.has_value() || request->method != "RegisterPlugin") return 0;
    if (out != nullptr) out->ParseFromString(request->payload);
    return message->message.header.stream_id;
  }

  // Calls the plugin (conn 1) and waits for its answer.
  template <typename Message>
  std::optional<ttrpc::Response> call(const std::string& method, const Message& message) {
    const uint32_t stream = next_stream_;
    next_stream_ += 2;
    if (!send(mux::kPluginServiceConn,
              *ttrpc::encodeRequest(stream, {kPluginServiceName, method, message.SerializeAsString(), 0}))) {
      return std::nullopt;
    }
    auto answer = read();
    if (!answer || answer->conn != mux::kPluginServiceConn || answer->message.header.stream_id != stream) {
      return std::nullopt;
    }
    auto response = ttrpc::decodeResponse(answer->message.data);
    if (!response.has_value()) return std::nullopt;
    return *response;
  }

  bool respond(uint32_t stream, const ttrpc::Response& response) {
    return send(mux::kRuntimeServiceConn, *ttrpc::encodeResponse(stream, response));
  }
  bool send(uint32_t conn, const std::string& message) { return connection_.send(conn, message).has_value(); }
  bool sendRaw(const std::string& bytes) {
    return ::write(connection_.fd(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  }
  // Continues numbering after a stream id the test used by hand.
  void streamIdsAfter(uint32_t used) { next_stream_ = used + 2; }

  // Register + Configure + one-message Synchronize: the plugin is live afterwards.
  bool handshake(const std::string& runtime = "containerd", const std::string& version = "v1.7.24") {
    const uint32_t reg = expectRegister();
    if (reg == 0 || !respond(reg, {})) return false;
    pb::ConfigureRequest configure;
    configure.set_runtime_name(runtime);
    configure.set_runtime_version(version);
    auto configured = call("Configure", configure);
    if (!configured || configured->code != ErrorCode::Ok) return false;
    auto synced = call("Synchronize", pb::SynchronizeRequest());
    return synced && synced->code == ErrorCode::Ok;
  }

  Connection& connection() { return connection_; }

 private:
  Connection connection_;
  uint32_t next_stream_ = 1;
};

}  // namespace topod::nri::testing
