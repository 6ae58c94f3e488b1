#include <grpcpp/grpcpp.h>

#include <mutex>
#include <set>

#include "cri/checkpoint_error.h"
#include "cri/proto/cri_api.grpc.pb.h"
#include "cri/runtime_client.h"

namespace topod::cri {
namespace {

// The gRPC deadline is the checkpoint's timeout plus this much: the runtime is told the timeout
// itself, and its own "timed out" answer says more than a bare DEADLINE_EXCEEDED.
constexpr std::chrono::seconds kDeadlineSlack{5};

class GrpcRuntimeClient final : public RuntimeClient {
 public:
  explicit GrpcRuntimeClient(const std::string& socket_path)
      : socket_path_(socket_path),
        stub_(runtime::v1::RuntimeService::NewStub(
            grpc::CreateChannel("unix:" + socket_path, grpc::InsecureChannelCredentials()))) {}

  Result<RuntimeVersion> version(std::chrono::milliseconds timeout) override {
    runtime::v1::VersionRequest request;
    request.set_version("v1");
    runtime::v1::VersionResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout);
    const grpc::Status status = call(context, [&] { return stub_->Version(&context, request, &response); });
    if (!status.ok()) {
      // Whatever failed, nothing usable answers: the socket is missing, refuses, or is not CRI.
      const Error error = classifyCheckpointError(static_cast<int>(status.error_code()), status.error_message());
      return Error(error.code(), "CRI socket " + socket_path_ + " (Version): " + error.message())
          .withReason(kRuntimeUnreachable);
    }
    return RuntimeVersion{response.runtime_name(), response.runtime_version(), response.runtime_api_version()};
  }

  Status checkpointContainer(const std::string& container_id, const std::string& location,
                             std::chrono::seconds timeout) override {
    if (container_id.empty()) return Error::invalidArgument("CheckpointContainer: empty container id");
    if (location.empty() || location[0] != '/') {
      return Error::invalidArgument("CheckpointContainer: location \"" + location + "\" is not an absolute path");
    }
    runtime::v1::CheckpointContainerRequest request;
    request.set_container_id(container_id);
    request.set_location(location);
    request.set_timeout(timeout.count());
    runtime::v1::CheckpointContainerResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout + kDeadlineSlack);
    const grpc::Status status = call(context, [&] { return stub_->CheckpointContainer(&context, request, &response); });
    if (status.ok()) return okStatus();
    return classifyCheckpointError(static_cast<int>(status.error_code()), status.error_message())
        .withContext("CRI socket " + socket_path_ + ": CheckpointContainer " + container_id);
  }

  void cancelPending() override {
    std::lock_guard lock(mutex_);
    for (grpc::ClientContext* context : pending_) context->TryCancel();
  }

 private:
  // Runs `fn` with `context` listed as pending, so cancelPending() can end it.
  template <typename Fn>
  grpc::Status call(grpc::ClientContext& context, Fn fn) {
    {
      std::lock_guard lock(mutex_);
      pending_.insert(&context);
    }
    grpc::Status status = fn();
    std::lock_guard lock(mutex_);
    pending_.erase(&context);
    return status;
  }

  std::string socket_path_;
  std::unique_ptr<runtime::v1::RuntimeService::Stub> stub_;
  std::mutex mutex_;
  std::set<grpc::ClientContext*> pending_;  // guarded by mutex_
};

}  // namespace

Result<std::unique_ptr<RuntimeClient>> makeGrpcRuntimeClient(const std::string& socket_path) {
  if (socket_path.empty() || socket_path[0] != '/') {
    return Error::invalidArgument("CRI socket \"" + socket_path + "\" is not an absolute path");
  }
  return std::unique_ptr<RuntimeClient>(std::make_unique<GrpcRuntimeClient>(socket_path));
}

}  // namespace topod::cri
