// Shared by the nri::Plugin tests that play the runtime byte by byte over a FakeNriConnector
// socketpair (plugin_test.cc: lifecycle; plugin_bad_input_test.cc: bad input).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "nri/mux.h"
#include "nri/plugin.h"
#include "nri/plugin_service.h"
#include "nri/ttrpc.h"
#include "tests/fakes/fake_nri_connector.h"
#include "tests/nri/raw_runtime.h"
#include "tests/nri/recording_handler.h"

namespace topod::nri::testing {

class PluginTest : public ::testing::Test {
 protected:
  PluginOptions options() {
    using namespace std::chrono_literals;
    PluginOptions out;
    out.name = "topod";
    out.idx = "42";
    out.backoff_initial = 10ms;
    out.backoff_max = 50ms;
    out.call_timeout = 2s;
    out.on_error = [this](const Error& e) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        errors_.push_back(e);
        ++reports_;
      }
      reported_.notify_all();
    };
    // Stats are bumped before either callback runs, so a report is when they may have changed.
    out.on_synchronized = [this](const RuntimeInfo&) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++reports_;
      }
      reported_.notify_all();
    };
    return out;
  }

  std::vector<Error> errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }
  // Counters and errors are reported after the answer is written, so a test may see the answer
  // first: waits until `pred` holds, checking it again after each error or Synchronize the
  // plugin reports (options() wires both). The bound turns a hang into a failure.
  template <typename Pred>
  bool eventually(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      uint64_t seen = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen = reports_;
      }
      if (pred()) return true;
      std::unique_lock<std::mutex> lock(mu_);
      if (!reported_.wait_until(lock, deadline, [&] { return reports_ != seen; })) {
        lock.unlock();
        return pred();
      }
    }
  }
  bool sawError(ErrorCode code) {
    for (const Error& e : errors()) {
      if (e.code() == code) return true;
    }
    return false;
  }
  // Whether some reported error's message contains `text`.
  bool sawErrorSaying(const std::string& text) {
    for (const Error& e : errors()) {
      if (e.message().find(text) != std::string::npos) return true;
    }
    return false;
  }

  std::mutex mu_;
  std::condition_variable reported_;
  uint64_t reports_ = 0;  // errors and Synchronizes reported, under mu_
  std::vector<Error> errors_;
  RecordingHandler handler_;
  FakeNriConnector connector_;
};

// A mux frame header with any connection id and length, valid or not.
inline std::string frameHeader(uint32_t conn, uint32_t length) {
  std::string out;
  for (uint32_t v : {conn, length}) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
  }
  return out;
}

// The frames of one Plugin-service request on conn 1, as a runtime sends them.
inline std::string requestFrame(uint32_t stream, const std::string& method, const std::string& payload,
                                const std::string& service = kPluginServiceName) {
  auto message = ttrpc::encodeRequest(stream, {service, method, payload, 0});
  std::string out;
  mux::appendMessageFrames(out, mux::kPluginServiceConn, *message);
  return out;
}

}  // namespace topod::nri::testing
