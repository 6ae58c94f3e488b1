// FakeNotifier: records what the agent told the service manager. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "systemd/notifier.h"

namespace topod::testing {

class FakeNotifier final : public systemd::Notifier {
 public:
  explicit FakeNotifier(std::chrono::microseconds watchdog_interval = std::chrono::microseconds(0))
      : interval_(watchdog_interval) {}

  Status ready(std::string_view status) override { return record("READY=1 STATUS=" + std::string(status)); }
  Status status(std::string_view status) override { return record("STATUS=" + std::string(status)); }
  Status stopping() override { return record("STOPPING=1"); }
  Status watchdog() override { return record("WATCHDOG=1"); }
  std::chrono::microseconds watchdogInterval() const override { return interval_; }

  std::vector<std::string> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  Status record(std::string message) {
    std::lock_guard lock(mutex_);
    messages_.push_back(std::move(message));
    return okStatus();
  }
  std::chrono::microseconds interval_;
  mutable std::mutex mutex_;
  std::vector<std::string> messages_;
};

}  // namespace topod::testing
