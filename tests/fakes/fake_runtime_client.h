// FakeRuntimeClient: a CRI runtime for mode criu's tests. Records every CheckpointContainer
// call; answers each container from `answers` (default: success, and it writes a small archive
// at the location as a real runtime would), Version from `version_answer`.
#pragma once

#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "cri/runtime_client.h"

namespace topod::testing {

class FakeRuntimeClient final : public cri::RuntimeClient {
 public:
  struct Call {
    std::string container_id;
    std::string location;
    std::chrono::seconds timeout;
  };

  Result<cri::RuntimeVersion> version_answer = cri::RuntimeVersion{"containerd", "v2.1.9", "v1"};
  std::map<std::string, Error> answers;  // by container id; absent = success
  bool write_archive = true;             // on success, write a non-empty file at the location

  Result<cri::RuntimeVersion> version(std::chrono::milliseconds) override { return version_answer; }

  Status checkpointContainer(const std::string& container_id, const std::string& location,
                             std::chrono::seconds timeout) override {
    {
      std::lock_guard lock(mutex_);
      calls_.push_back({container_id, location, timeout});
    }
    if (auto it = answers.find(container_id); it != answers.end()) return it->second;
    if (write_archive) {
      std::FILE* f = std::fopen(location.c_str(), "w");
      if (f == nullptr) return Error::fromErrno(errno, "fake runtime: writing " + location);
      std::fputs("checkpoint", f);
      std::fclose(f);
    }
    return okStatus();
  }

  void cancelPending() override {
    std::lock_guard lock(mutex_);
    ++cancels_;
  }

  std::vector<Call> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Call> calls_;
  int cancels_ = 0;
};

}  // namespace topod::testing
