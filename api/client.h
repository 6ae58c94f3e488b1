// The local API's client, for the CLI: one call per method of api::Backend, over the agent's
// unix socket. When nothing serves the socket (no such file, connection refused, permission
// denied) every call fails with Unavailable and the reason kNoAgentReason, with a message that
// says which.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "api/backend.h"
#include "common/result.h"

namespace topod::api {

inline constexpr std::string_view kNoAgentReason = "NoAgent";
// How long a call may take, connection included (the agent answers from memory).
inline constexpr std::chrono::milliseconds kDefaultCallTimeout{5000};

class Client {
 public:
  explicit Client(std::string socket_path, std::chrono::milliseconds timeout = kDefaultCallTimeout);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Result<StatusInfo> status();
  Result<std::vector<AllocationInfo>> allocations();
  Result<std::vector<ContainerExplanation>> explain(const ExplainQuery& query);
  Result<std::vector<ContainerExplanation>> whatIf(const policies::PodRequest& pod);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace topod::api
