#include "tests/tools/nri-runtime-sim/runtime_sim.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nri/plugin_service.h"
#include "tests/tools/nri-runtime-sim/runtime_sim_impl.h"

namespace topod::nri::sim {

Personality Personality::containerd17() {
  return {"containerd", "v1.7.24", "", 0x07FF, false, false, false};
}
Personality Personality::containerd21() {
  return {"containerd", "v2.1.4", "", 0x07FF, true, true, false};
}
Personality Personality::containerd22() {
  return {"containerd", "v2.2.1", "", 0x3FFF, true, true, false};
}
Personality Personality::containerd23() {
  return {"containerd", "v2.3.1", "v0.12.0", 0x3FFF, true, true, true};
}
Personality Personality::crio133() {
  return {"cri-o", "1.33.2", "", 0x1FFF, true, true, false};
}

Result<Personality> Personality::byName(const std::string& name) {
  if (name == "containerd-1.7") return containerd17();
  if (name == "containerd-2.1") return containerd21();
  if (name == "containerd-2.2") return containerd22();
  if (name == "containerd-2.3") return containerd23();
  if (name == "crio-1.33") return crio133();
  return Error::invalidArgument("unknown runtime personality \"" + name +
                                "\"; known: containerd-1.7, containerd-2.1, containerd-2.2, "
                                "containerd-2.3, crio-1.33");
}

Status RuntimeSim::Impl::start() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string& path = options_.socket_path;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return Error::invalidArgument("simulator socket path \"" + path + "\" is empty or too long");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  ::unlink(path.c_str());
  listen_fd_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listen_fd_.valid()) return Error::fromErrno(errno, "socket for " + path);
  if (::bind(listen_fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Error::fromErrno(errno, "binding " + path);
  }
  if (::listen(listen_fd_.get(), 8) != 0) return Error::fromErrno(errno, "listening on " + path);
  stopping_ = false;
  accept_thread_ = std::thread([this] { acceptLoop(); });
  return okStatus();
}

void RuntimeSim::Impl::stop() {
  stopping_ = true;
  if (listen_fd_.valid()) ::shutdown(listen_fd_.get(), SHUT_RDWR);  // wakes accept()
  std::shared_ptr<Session> session;
  {
    std::lock_guard<std::mutex> lock(mu_);
    session = session_;
  }
  // Wakes a handshake waiting on the plugin; one that starts later sees stopping_.
  if (session) closeSession(session, "runtime stopped");
  if (accept_thread_.joinable()) accept_thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    session = std::move(session_);
    ready_ = false;
  }
  if (session) {
    session->connection.shutdown();
    if (session->reader.joinable()) session->reader.join();
  }
  if (listen_fd_.valid()) {
    listen_fd_.reset();
    ::unlink(options_.socket_path.c_str());
  }
}

void RuntimeSim::Impl::acceptLoop() {
  while (!stopping_) {
    const int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_ || (errno != EINTR && errno != ECONNABORTED)) return;
      continue;
    }
    if (stopping_) {
      ::close(fd);
      return;
    }
    auto session = std::make_shared<Session>(UniqueFd(fd));
    std::shared_ptr<Session> previous;
    {
      std::lock_guard<std::mutex> lock(mu_);
      previous = std::move(session_);
      session_ = session;
      ready_ = false;
    }
    // One plugin at a time: a new connection replaces the old one.
    if (previous) {
      closeSession(previous, "replaced by a new plugin connection");
      if (previous->reader.joinable()) previous->reader.join();
    }
    session->reader = std::thread([this, session] { readLoop(session); });
    handshake(session);
  }
}

void RuntimeSim::Impl::readLoop(std::shared_ptr<Session> session) {
  while (true) {
    auto more = session->connection.readSome();
    if (!more.has_value() || !*more) break;
    while (true) {
      auto next = session->connection.nextMessage();
      // A corrupt stream from the plugin: the next readSome() returns the error and ends the
      // session, as containerd drops such a plugin.
      if (!next.has_value() || !next->has_value()) break;
      const mux::ConnMessage* message = &**next;
      if (message->conn == mux::kRuntimeServiceConn) {
        handleRuntimeCall(*session, *message);
        continue;
      }
      std::lock_guard<std::mutex> lock(session->mu);
      auto it = session->pending.find(message->message.header.stream_id);
      if (it == session->pending.end()) continue;  // late answer to a call that timed out
      it->second = message->message.oversized ? Result<ttrpc::Response>(Error::resourceExhausted("oversized answer"))
                                              : ttrpc::decodeResponse(message->message.data);
      session->cv.notify_all();
    }
  }
  std::lock_guard<std::mutex> lock(session->mu);
  session->closed = true;
  session->cv.notify_all();
}

void RuntimeSim::Impl::handleRuntimeCall(Session& session, const mux::ConnMessage& message) {
  const uint32_t stream = message.message.header.stream_id;
  auto request = ttrpc::decodeRequest(message.message.data);
  ttrpc::Response response;
  if (!request.has_value()) {
    response = {ErrorCode::InvalidArgument, request.error().message(), {}};
  } else if (request->service != kRuntimeServiceName) {
    response = {ErrorCode::Unimplemented, "service " + request->service, {}};
  } else if (request->method == "RegisterPlugin") {
    pb::RegisterPluginRequest registration;
    if (!registration.ParseFromString(request->payload)) {
      response = {ErrorCode::Internal, "bad RegisterPluginRequest", {}};
    } else if (Status valid = validatePluginIdentity(registration.plugin_name(), registration.plugin_idx());
               !valid.has_value()) {
      response = {ErrorCode::InvalidArgument, valid.error().message(), {}};
    } else {
      std::lock_guard<std::mutex> lock(session.mu);
      session.registered = true;
      session.name = registration.plugin_name();
      session.idx = registration.plugin_idx();
      session.cv.notify_all();
    }
  } else if (request->method == "UpdateContainers") {
    pb::UpdateContainersRequest updates;
    if (!updates.ParseFromString(request->payload)) {
      response = {ErrorCode::Internal, "bad UpdateContainersRequest", {}};
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      for (const pb::ContainerUpdate& update : updates.update()) {
        auto converted = updateFromProto(update);
        if (converted.has_value()) received_.push_back(std::move(*converted));
      }
      cv_.notify_all();
      response.payload = pb::UpdateContainersResponse().SerializeAsString();
    }
  } else {
    response = {ErrorCode::Unimplemented, "method " + request->method, {}};
  }
  auto encoded = ttrpc::encodeResponse(stream, response);
  if (encoded.has_value()) (void)session.connection.send(mux::kRuntimeServiceConn, *encoded);
}

void RuntimeSim::Impl::closeSession(const std::shared_ptr<Session>& session, const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    disconnect_reasons_.push_back(reason);
    if (session_ == session) ready_ = false;
  }
  session->connection.shutdown();
  std::lock_guard<std::mutex> lock(session->mu);
  session->closed = true;
  session->cv.notify_all();
}

Result<ttrpc::Response> RuntimeSim::Impl::call(const std::shared_ptr<Session>& session, const std::string& method,
                                               const std::string& payload, SteadyTime deadline) {
  uint32_t stream = 0;
  {
    std::lock_guard<std::mutex> lock(session->mu);
    if (session->closed) return Error::unavailable("plugin connection closed");
    stream = session->next_stream;
    session->next_stream += 2;
    session->pending[stream] = std::nullopt;
  }
  const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - std::chrono::steady_clock::now());
  auto message = ttrpc::encodeRequest(stream, {kPluginServiceName, method, payload, left.count()});
  if (!message.has_value()) return message.error().withContext(method);
  if (Status sent = session->connection.send(mux::kPluginServiceConn, *message); !sent.has_value()) {
    return Error::unavailable(method + ": " + sent.error().message());
  }
  std::unique_lock<std::mutex> lock(session->mu);
  const bool answered =
      session->cv.wait_until(lock, deadline, [&] { return session->pending[stream].has_value() || session->closed; });
  std::optional<Result<ttrpc::Response>> answer = std::move(session->pending[stream]);
  session->pending.erase(stream);
  const bool closed = session->closed;
  lock.unlock();
  if (answer.has_value()) return std::move(*answer);
  if (answered && closed) return Error::unavailable(method + ": the plugin closed the connection");
  closeSession(session, method + ": request timeout");
  return Error(ErrorCode::DeadlineExceeded, method + ": no answer within the request timeout");
}

void RuntimeSim::Impl::handshake(const std::shared_ptr<Session>& session) {
  std::lock_guard<std::mutex> event_lock(event_mu_);
  {
    // Waits in slices so that stop() is noticed even for a session it could not see yet.
    const auto registration_deadline = std::chrono::steady_clock::now() + options_.registration_timeout;
    std::unique_lock<std::mutex> lock(session->mu);
    while (!session->registered && !session->closed && !stopping_ &&
           std::chrono::steady_clock::now() < registration_deadline) {
      session->cv.wait_for(lock, std::chrono::milliseconds(20));
    }
    if (!session->registered) {
      lock.unlock();
      closeSession(session, stopping_ ? "runtime stopped" : "registration timeout");
      return;
    }
  }
  const Personality& personality = options_.personality;
  pb::ConfigureRequest configure;
  configure.set_runtime_name(personality.runtime_name);
  configure.set_runtime_version(personality.runtime_version);
  configure.set_nri_version(personality.nri_version);
  if (personality.send_timeouts) {
    configure.set_registration_timeout(options_.registration_timeout.count());
    configure.set_request_timeout(options_.request_timeout.count());
  }
  auto configured = call(session, "Configure", configure.SerializeAsString(),
                         std::chrono::steady_clock::now() + options_.request_timeout);
  pb::ConfigureResponse mask;
  if (!configured.has_value() || configured->code != ErrorCode::Ok || !mask.ParseFromString(configured->payload)) {
    closeSession(session, "Configure failed");
    return;
  }
  const auto events = static_cast<EventMask>(mask.events());
  if ((events & ~personality.valid_events) != 0) {
    closeSession(session, "invalid plugin events " + std::to_string(events));
    return;
  }

  // Synchronize: all pods, then all non-exited containers, split as configured.
  std::vector<pb::PodSandbox> pods;
  std::vector<pb::Container> containers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, pod] : pods_) podToProto(pod, &pods.emplace_back());
    for (const auto& [id, container] : containers_) {
      if (container.state != ContainerState::Stopped) containerToProto(container, &containers.emplace_back());
    }
  }
  const size_t total = pods.size() + containers.size();
  const size_t per_message = (personality.split_sync && options_.sync_objects_per_message > 0)
                                 ? options_.sync_objects_per_message
                                 : std::max<size_t>(total, 1);
  const auto deadline = std::chrono::steady_clock::now() + options_.request_timeout;
  size_t next = 0;
  size_t messages = 0;
  std::vector<Update> sync_updates;
  do {
    pb::SynchronizeRequest request;
    for (size_t n = 0; n < per_message && next < total; ++n, ++next) {
      if (next < pods.size()) {
        *request.add_pods() = pods[next];
      } else {
        *request.add_containers() = containers[next - pods.size()];
      }
    }
    const bool more = next < total;
    request.set_more(more);
    ++messages;
    auto answer = call(session, "Synchronize", request.SerializeAsString(), deadline);
    pb::SynchronizeResponse response;
    if (!answer.has_value() || answer->code != ErrorCode::Ok || !response.ParseFromString(answer->payload)) {
      closeSession(session, "Synchronize failed");
      return;
    }
    if (more && !response.more()) {
      closeSession(session, "plugin does not handle split sync requests");
      return;
    }
    if (!more) {
      for (const pb::ContainerUpdate& update : response.update()) {
        auto converted = updateFromProto(update);
        if (converted.has_value()) sync_updates.push_back(std::move(*converted));
      }
    }
  } while (next < total);

  std::lock_guard<std::mutex> lock(mu_);
  if (session_ != session) return;
  std::lock_guard<std::mutex> session_lock(session->mu);
  if (session->closed) return;
  plugin_.name = session->name;
  plugin_.idx = session->idx;
  plugin_.events = events;
  plugin_.generation = ++generation_;
  plugin_.sync_messages = messages;
  plugin_.sync_updates = std::move(sync_updates);
  subscribed_ = events == 0 ? personality.valid_events : events;
  fallback_ = false;
  ready_ = true;
  cv_.notify_all();
}

Result<PluginInfo> RuntimeSim::Impl::waitForPlugin(std::chrono::milliseconds timeout, uint64_t after_generation) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return ready_ && plugin_.generation > after_generation; })) {
    return Error(ErrorCode::DeadlineExceeded,
                 "no plugin synchronized with the simulator within " + std::to_string(timeout.count()) + " ms");
  }
  return plugin_;
}

bool RuntimeSim::Impl::pluginConnected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ready_;
}

// ---- RuntimeSim forwarding ----------------------------------------------------------------------

RuntimeSim::RuntimeSim(SimOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
RuntimeSim::~RuntimeSim() {
  stop();
}
Status RuntimeSim::start() {
  return impl_->start();
}
void RuntimeSim::stop() {
  impl_->stop();
}
Status RuntimeSim::restart() {
  impl_->stop();
  return impl_->start();
}
Result<PluginInfo> RuntimeSim::waitForPlugin(std::chrono::milliseconds timeout, uint64_t after_generation) {
  return impl_->waitForPlugin(timeout, after_generation);
}
bool RuntimeSim::pluginConnected() const {
  return impl_->pluginConnected();
}

void RuntimeSim::addPod(const Pod& pod) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  impl_->pods_[pod.id] = pod;
}
void RuntimeSim::addContainer(const Container& container) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  impl_->containers_[container.id] = container;
}
std::vector<Update> RuntimeSim::receivedUpdates() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->received_;
}
bool RuntimeSim::usesStateChangeFallback() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->fallback_;
}
std::vector<std::string> RuntimeSim::disconnectReasons() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->disconnect_reasons_;
}
Traffic RuntimeSim::traffic() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  if (!impl_->session_) return {};
  return {impl_->session_->connection.bytesSent(), impl_->session_->connection.bytesReceived()};
}
Status RuntimeSim::sendRaw(const std::string& bytes) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard<std::mutex> lock(impl_->mu_);
    session = impl_->session_;
  }
  if (!session) return Error::unavailable("no plugin connection");
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::send(session->connection.fd(), bytes.data() + written, bytes.size() - written, MSG_NOSIGNAL);
    if (n < 0) return Error::fromErrno(errno, "writing raw bytes to the plugin");
    written += static_cast<size_t>(n);
  }
  return okStatus();
}

}  // namespace topod::nri::sim
