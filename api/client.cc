#include "api/client.h"

#include <grpcpp/grpcpp.h>

#include "api/convert.h"
#include "api/proto/topod_api.grpc.pb.h"
#include "api/socket_probe.h"

namespace topod::api {

namespace {

Error noAgent(const std::string& path, const std::string& why) {
  return Error::unavailable("no topod agent is listening on " + path + ": " + why).withReason(kNoAgentReason);
}

}  // namespace

class Client::Impl {
 public:
  Impl(std::string path, std::chrono::milliseconds timeout) : path_(std::move(path)), timeout_(timeout) {}

  // The socket is probed first, so that "no agent" says why (missing, refused, denied) instead
  // of gRPC's generic connection failure.
  template <typename Reply, typename Call>
  Result<Reply> call(Call&& rpc) {
    SocketProbeResult probe = probeSocket(path_);
    if (probe.probe != SocketProbe::Accepting) return noAgent(path_, describeProbe(probe));
    if (!stub_) {
      grpc::ChannelArguments args;
      auto channel = grpc::CreateCustomChannel("unix:" + path_, grpc::InsecureChannelCredentials(), args);
      stub_ = v1::Topod::NewStub(channel);
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout_);
    Reply reply;
    grpc::Status status = rpc(*stub_, &context, &reply);
    if (status.ok()) return reply;
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) return noAgent(path_, status.error_message());
    Error error(static_cast<ErrorCode>(static_cast<int>(status.error_code())), status.error_message());
    if (!status.error_details().empty()) return std::move(error).withReason(status.error_details());
    return error;
  }

 private:
  std::string path_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<v1::Topod::Stub> stub_;
};

Client::Client(std::string socket_path, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(std::move(socket_path), timeout)) {}
Client::~Client() = default;

Result<StatusInfo> Client::status() {
  auto reply =
      impl_->call<v1::StatusReply>([](v1::Topod::Stub& stub, grpc::ClientContext* context, v1::StatusReply* out) {
        return stub.GetStatus(context, v1::StatusRequest{}, out);
      });
  if (!reply.has_value()) return reply.error();
  return fromProto(*reply);
}

Result<std::vector<AllocationInfo>> Client::allocations() {
  auto reply = impl_->call<v1::AllocationsReply>(
      [](v1::Topod::Stub& stub, grpc::ClientContext* context, v1::AllocationsReply* out) {
        return stub.ListAllocations(context, v1::AllocationsRequest{}, out);
      });
  if (!reply.has_value()) return reply.error();
  return fromProto(*reply);
}

Result<std::vector<ContainerExplanation>> Client::explain(const ExplainQuery& query) {
  v1::ExplainRequest request;
  request.set_pod(query.pod);
  request.set_container(query.container);
  auto reply =
      impl_->call<v1::ExplainReply>([&](v1::Topod::Stub& stub, grpc::ClientContext* context, v1::ExplainReply* out) {
        return stub.Explain(context, request, out);
      });
  if (!reply.has_value()) return reply.error();
  return fromProto(*reply);
}

Result<std::vector<ContainerExplanation>> Client::whatIf(const policies::PodRequest& pod) {
  TOPOD_RETURN_IF_ERROR(validateWhatIf(pod));
  v1::WhatIfRequest request = toProto(pod);
  auto reply = impl_->call<v1::ExplainReply>([&](v1::Topod::Stub& stub, grpc::ClientContext* context,
                                                 v1::ExplainReply* out) { return stub.WhatIf(context, request, out); });
  if (!reply.has_value()) return reply.error();
  return fromProto(*reply);
}

}  // namespace topod::api
