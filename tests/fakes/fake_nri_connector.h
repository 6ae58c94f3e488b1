// FakeNriConnector: the NRI transport seam for tests. Every connect() creates a socketpair,
// hands one end to the plugin and keeps the other for the test, which plays the runtime on it
// (raw bytes, or through nri::Connection). Header-only so any test target can use it.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "nri/transport.h"

namespace topod::nri::testing {

class FakeNriConnector final : public Connector {
 public:
  explicit FakeNriConnector(bool can_reconnect = true) : can_reconnect_(can_reconnect) {}

  Result<UniqueFd> connect() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++attempts_;
    if (!failures_.empty()) {
      Error error = failures_.front();
      failures_.pop_front();
      return error;
    }
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      return Error::fromErrno(errno, "socketpair");
    }
    peers_.emplace_back(fds[1]);
    cv_.notify_all();
    return UniqueFd(fds[0]);
  }
  bool canReconnect() const override { return can_reconnect_; }
  std::string describe() const override { return "fake connector"; }

  // The runtime's end of the next connection the plugin makes; invalid on timeout.
  UniqueFd waitForPeer(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return !peers_.empty(); })) return UniqueFd();
    UniqueFd peer = std::move(peers_.front());
    peers_.pop_front();
    return peer;
  }
  // The next connect() fails with `error` (queued; one per call).
  void failNextConnect(Error error) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_.push_back(std::move(error));
  }
  int attempts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return attempts_;
  }

 private:
  const bool can_reconnect_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<UniqueFd> peers_;
  std::deque<Error> failures_;
  int attempts_ = 0;
};

}  // namespace topod::nri::testing
