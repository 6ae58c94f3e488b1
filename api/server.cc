#include "api/server.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "api/convert.h"
#include "api/proto/topod_api.grpc.pb.h"
#include "api/socket_probe.h"
#include "state/state_file.h"

namespace topod::api {

namespace {

// Requests are a few hundred bytes; a what-if pod of kMaxWhatIfContainers stays far below this.
constexpr int kMaxRequestBytes = 64 * 1024;
// How long stop() lets calls in flight finish.
constexpr std::chrono::seconds kShutdownGrace{2};

grpc::Status toGrpc(const Error& error) {
  // topod's codes are numbered as gRPC's (common/error.h); the reason travels as the details.
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(error.code())), error.message(), error.reason());
}

class Service final : public v1::Topod::Service {
 public:
  explicit Service(const Backend& backend) : backend_(backend) {}

  grpc::Status GetStatus(grpc::ServerContext*, const v1::StatusRequest*, v1::StatusReply* reply) override {
    auto status = backend_.status();
    if (!status.has_value()) return toGrpc(status.error());
    status->agent_version = TOPOD_API_VERSION;
    *reply = toProto(*status);
    return grpc::Status::OK;
  }

  grpc::Status ListAllocations(grpc::ServerContext*, const v1::AllocationsRequest*,
                               v1::AllocationsReply* reply) override {
    auto allocations = backend_.allocations();
    if (!allocations.has_value()) return toGrpc(allocations.error());
    *reply = toProto(*allocations);
    return grpc::Status::OK;
  }

  grpc::Status Explain(grpc::ServerContext*, const v1::ExplainRequest* request, v1::ExplainReply* reply) override {
    if (request->pod().empty()) return toGrpc(Error::invalidArgument("explain: which pod? (namespace/name or UID)"));
    if (request->pod().size() > 2 * kMaxNameBytes + 1 || request->container().size() > kMaxNameBytes) {
      return toGrpc(Error::invalidArgument("explain: pod or container name too long"));
    }
    auto explained = backend_.explain(ExplainQuery{.pod = request->pod(), .container = request->container()});
    if (!explained.has_value()) return toGrpc(explained.error());
    *reply = toProto(*explained);
    return grpc::Status::OK;
  }

  grpc::Status WhatIf(grpc::ServerContext*, const v1::WhatIfRequest* request, v1::ExplainReply* reply) override {
    auto pod = fromProto(*request);
    if (!pod.has_value()) return toGrpc(pod.error());
    auto explained = backend_.whatIf(*pod);
    if (!explained.has_value()) return toGrpc(explained.error());
    *reply = toProto(*explained);
    return grpc::Status::OK;
  }

 private:
  const Backend& backend_;
};

}  // namespace

Status prepareSocketPath(const std::string& socket_path) {
  const std::filesystem::path path(socket_path);
  if (!path.is_absolute()) return Error::invalidArgument("API socket " + socket_path + ": not an absolute path");
  const std::string parent = path.parent_path().string();
  Status dir = agent::ensureDirectory(parent);
  if (!dir.has_value()) return dir.error().withContext("API socket directory");
  SocketProbeResult probe = probeSocket(socket_path);
  switch (probe.probe) {
    case SocketProbe::Missing: return okStatus();
    case SocketProbe::Refused:
      // A socket nobody serves: a crashed agent's. Replaced.
      if (::unlink(socket_path.c_str()) != 0 && errno != ENOENT) {
        return Error::fromErrno(errno, "API socket " + socket_path + ": removing the stale socket");
      }
      return okStatus();
    case SocketProbe::Accepting:
      return Error::failedPrecondition("API socket " + socket_path +
                                       ": another process (another topod agent?) serves it; stop it or set "
                                       "[api] socket_path to another path");
    case SocketProbe::NotSocket:
      return Error::failedPrecondition("API socket " + socket_path + ": exists and is not a socket; not replaced");
    case SocketProbe::Denied:
    case SocketProbe::TooLong:
    case SocketProbe::Failed:
      return Error(ErrorCode::FailedPrecondition, "API socket " + socket_path + ": " + describeProbe(probe),
                   probe.sys_errno);
  }
  return okStatus();
}

class Server::Impl {
 public:
  Impl(std::string path, const Backend& backend) : path_(std::move(path)), service_(backend) {}
  ~Impl() { stop(); }

  Status start() {
    TOPOD_RETURN_IF_ERROR(prepareSocketPath(path_));
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + path_, grpc::InsecureServerCredentials());
    builder.RegisterService(&service_);
    builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
    // One completion queue and at most two polling threads: the API serves one operator at a time.
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, 1);
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 2);
    server_ = builder.BuildAndStart();
    if (!server_) return Error::unavailable("API socket " + path_ + ": gRPC could not listen on it");
    if (::chmod(path_.c_str(), 0600) != 0) {
      int err = errno;
      stop();
      return Error::fromErrno(err, "API socket " + path_ + ": chmod 0600");
    }
    return okStatus();
  }

  void stop() {
    if (!server_) return;
    // Calls still running after this are cancelled: every call answers from memory.
    server_->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
    server_->Wait();
    server_.reset();
    ::unlink(path_.c_str());
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  Service service_;
  std::unique_ptr<grpc::Server> server_;
};

Result<std::unique_ptr<Server>> Server::start(const std::string& socket_path, const Backend& backend) {
  auto impl = std::make_unique<Impl>(socket_path, backend);
  TOPOD_RETURN_IF_ERROR(impl->start());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;
void Server::stop() {
  impl_->stop();
}
const std::string& Server::socketPath() const {
  return impl_->path();
}

}  // namespace topod::api
