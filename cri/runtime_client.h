// The container runtime's CRI RuntimeService (runtime.v1) as topod uses it: reachability
// (Version) and CheckpointContainer (KEP-2008), for eviction mode criu (docs/eviction.md).
// GrpcRuntimeClient (makeGrpcRuntimeClient) speaks gRPC over the runtime's unix socket;
// tests use tests/fakes/fake_runtime_client.h.
//
// Errors carry a stable reason (cri/checkpoint_error.h) so callers never match message text:
// RuntimeUnreachable, CheckpointUnsupported (containerd 1.7 answers Unimplemented),
// CriuMissing, CheckpointTimeout, ContainerNotFound, CheckpointFailed, Cancelled.
//
// Thread-safety: every method may be called from any thread; cancelPending() from another
// thread ends calls in flight with reason Cancelled.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/result.h"

namespace topod::cri {

struct RuntimeVersion {
  std::string runtime_name;         // "containerd"
  std::string runtime_version;      // "v2.1.9"
  std::string runtime_api_version;  // "v1"
};

class RuntimeClient {
 public:
  virtual ~RuntimeClient() = default;

  // The runtime's Version answer within `timeout`; RuntimeUnreachable when nothing answers.
  virtual Result<RuntimeVersion> version(std::chrono::milliseconds timeout) = 0;

  // Asks the runtime to checkpoint the running container `container_id` into the archive
  // `location` (an absolute path on the node; the runtime writes it), taking at most `timeout`
  // (also sent to the runtime, which stops criu then). The container keeps running.
  virtual Status checkpointContainer(const std::string& container_id, const std::string& location,
                                     std::chrono::seconds timeout) = 0;

  // Ends the calls in flight (a stopping agent must not wait out a checkpoint's timeout).
  virtual void cancelPending() = 0;
};

// A client of the runtime at unix socket `socket_path` (absolute). Connects lazily: creating it
// never blocks and succeeds while the runtime is down. InvalidArgument for a relative path.
Result<std::unique_ptr<RuntimeClient>> makeGrpcRuntimeClient(const std::string& socket_path);

}  // namespace topod::cri
