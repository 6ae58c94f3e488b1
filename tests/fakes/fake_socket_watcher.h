// FakeSocketWatcher: the NRI socket watcher seam for tests. appear() plays the runtime's socket
// (re)appearing: it calls the plugin's callback on the test's thread, as the real watcher does on
// its own. failStart() makes the next start() fail, for the plugin's fallback to backoff.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <utility>

#include "nri/socket_watcher.h"

namespace topod::nri::testing {

class FakeSocketWatcher final : public SocketWatcher {
 public:
  Status start(std::function<void()> appeared) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++starts_;
    if (start_error_) return *std::exchange(start_error_, std::nullopt);
    appeared_ = std::move(appeared);
    return okStatus();
  }
  void stop() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (appeared_) ++stops_;
    appeared_ = nullptr;
  }

  // The socket appeared; false when nobody watches (not started, or stopped).
  bool appear() {
    std::function<void()> callback;
    {
      std::lock_guard<std::mutex> lock(mu_);
      callback = appeared_;
    }
    if (!callback) return false;
    callback();
    return true;
  }
  void failStart(Error error) {
    std::lock_guard<std::mutex> lock(mu_);
    start_error_ = std::move(error);
  }
  int starts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return starts_;
  }
  int stops() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stops_;
  }

 private:
  mutable std::mutex mu_;
  std::function<void()> appeared_;
  std::optional<Error> start_error_;
  int starts_ = 0;
  int stops_ = 0;
};

}  // namespace topod::nri::testing
