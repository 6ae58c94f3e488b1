#include "nri/plugin.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "nri/connection.h"
#include "nri/convert.h"
#include "nri/plugin_service.h"
#include "nri/thread_annotations.h"

namespace topod::nri {
namespace {

using UpdateResult = Result<std::vector<Update>>;

// Where the I/O thread puts the answer an updateContainers() caller waits for. `result` is
// guarded by Impl::mu_ and announced on Impl::answered_cv_.
struct CallSlot {
  std::optional<UpdateResult> result;
};

// What the I/O thread waits for on conn 2 (topod's calls to the runtime).
struct PendingCall {
  enum class Kind { Register, UpdateContainers } kind;
  Clock::TimePoint deadline;
  std::shared_ptr<CallSlot> slot;  // UpdateContainers only
};

struct OutgoingUpdate {
  std::vector<Update> updates;
  std::shared_ptr<CallSlot> slot;
};

}  // namespace

class Plugin::Impl {
 public:
  Impl(PluginOptions options, EventHandler& handler, Connector& connector)
      : options_(std::move(options)),
        clock_(options_.clock != nullptr ? *options_.clock : steadyClock()),
        handler_(handler),
        connector_(connector) {}

  ~Impl() { stop(); }

  Status start() {
    TOPOD_RETURN_IF_ERROR(validatePluginIdentity(options_.name, options_.idx));
    if (options_.events == 0) {
      return Error::invalidArgument("NRI plugin options: the event mask must not be 0");
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (io_thread_.joinable() || finished_) {
      return Error::failedPrecondition("NRI plugin " + options_.name + " was already started");
    }
    wake_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_fd_.valid()) return Error::fromErrno(errno, "creating the NRI plugin's eventfd");
    io_thread_ = std::thread([this] { run(); });
    return okStatus();
  }

  void stop() {
    stopping_ = true;
    {
      std::lock_guard<std::mutex> lock(mu_);  // a backoff wait checks stopping_ under mu_
    }
    backoff_cv_.notify_all();
    wake();
    if (io_thread_.joinable() && std::this_thread::get_id() != io_thread_.get_id()) {
      io_thread_.join();
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (!finished_ && !io_thread_.joinable()) {  // never started: wait() must not block
      finished_ = true;
      final_status_ = Error(ErrorCode::Cancelled, "NRI plugin stopped before it started");
      finished_cv_.notify_all();
    }
  }

  Status wait() {
    std::unique_lock<std::mutex> lock(mu_);
    finished_cv_.wait(lock, [this] { return finished_; });
    return final_status_;
  }

  UpdateResult updateContainers(const std::vector<Update>& updates) {
    if (std::this_thread::get_id() == io_thread_id_.load()) {
      return Error::failedPrecondition(
          "updateContainers called from an NRI event handler; the runtime holds its lock while "
          "it waits for the handler, so reply first and send updates afterwards");
    }
    auto slot = std::make_shared<CallSlot>();
    std::unique_lock<std::mutex> lock(mu_);
    if (!live_) {
      return Error::unavailable("NRI plugin " + options_.name + " is not connected and synchronized with the runtime");
    }
    const Clock::TimePoint deadline = clock_.now() + options_.call_timeout;
    outgoing_.push_back({updates, slot});
    lock.unlock();
    wake();
    lock.lock();
    if (!clock_.waitUntil(lock, answered_cv_, deadline, [&] { return slot->result.has_value(); })) {
      lock.unlock();
      wake();  // the I/O thread expires the call now rather than at its next poll timeout
      return Error(ErrorCode::DeadlineExceeded, "UpdateContainers: no answer from the runtime within " +
                                                    std::to_string(options_.call_timeout.count()) + " ms");
    }
    return std::move(*slot->result);
  }

  PluginStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  void wake() {
    if (!wake_fd_.valid()) return;
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
  }

  void report(const Error& error) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.errors;
    }
    if (options_.on_error) options_.on_error(error);
  }

  // Errors that end a connection (or a connection attempt) say what the plugin does next, so
  // that the agent can log them as they are; per-message errors, answered on a connection that
  // stays up, are reported without it.
  Error whatNext(const Error& error, std::chrono::milliseconds retry) const {
    const std::string next = connector_.canReconnect() ? "; reconnecting in " + std::to_string(retry.count()) + " ms"
                                                       : "; a runtime-launched plugin cannot reconnect, stopping";
    return Error(error.code(), error.message() + next, error.sysErrno());
  }

  // Hands an updateContainers() caller its answer (once; a late second answer is dropped).
  void settle(const std::shared_ptr<CallSlot>& slot, UpdateResult result) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!slot->result) slot->result = std::move(result);
    }
    answered_cv_.notify_all();
  }

  void drainWake() {
    uint64_t value = 0;
    [[maybe_unused]] ssize_t n = ::read(wake_fd_.get(), &value, sizeof(value));
  }

  // The socket watcher's callback (its own thread): wakes a reconnect wait.
  void socketAppeared() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      socket_appeared_ = true;
    }
    backoff_cv_.notify_all();
  }

  // Waits before the next connect: `delay` on the clock, or until the watcher reports the socket,
  // or stop(). Returns true when the socket appeared (the caller resets its backoff).
  bool waitToReconnect(std::chrono::milliseconds delay) {
    bool appeared = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      clock_.waitUntil(lock, backoff_cv_, clock_.now() + delay,
                       [this] { return stopping_.load() || socket_appeared_; });
      appeared = socket_appeared_;
      if (appeared) ++stats_.socket_appeared;
    }
    drainWake();
    return appeared;
  }

  // A connect error that means "no socket there (yet)", as opposed to one that refuses.
  static bool socketMissing(const Error& error) { return error.sysErrno() == ENOENT || error.sysErrno() == ENOTDIR; }

  void run() {
    io_thread_id_ = std::this_thread::get_id();
    SocketWatcher* watcher = options_.socket_watcher;
    if (watcher != nullptr) {
      Status watching = watcher->start([this] { socketAppeared(); });
      if (!watching.has_value()) {
        report(watching.error().withContext("watching the NRI socket; reconnecting with backoff only"));
        watcher = nullptr;
      }
    }
    std::chrono::milliseconds backoff = options_.backoff_initial;
    Status final_status = okStatus();
    while (!stopping_) {
      {
        // An appearance from now on is news for the wait after this attempt.
        std::lock_guard<std::mutex> lock(mu_);
        socket_appeared_ = false;
      }
      auto fd = connector_.connect();
      if (!fd.has_value()) {
        const bool wait_for_socket = watcher != nullptr && socketMissing(fd.error());
        const auto delay = wait_for_socket ? options_.backoff_max : backoff;
        Error error = fd.error().withContext("NRI plugin connecting via " + connector_.describe());
        report(wait_for_socket ? Error(error.code(),
                                       error.message() + "; reconnecting when the socket appears (re-checking every " +
                                           std::to_string(options_.backoff_max.count()) + " ms)",
                                       error.sysErrno())
                               : whatNext(error, backoff));
        if (!connector_.canReconnect()) {
          final_status = fd.error();
          break;
        }
        if (waitToReconnect(delay)) {
          backoff = options_.backoff_initial;
        } else if (!wait_for_socket) {
          backoff = std::min(backoff * 2, options_.backoff_max);
        }
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.connections;
      }
      bool reached_sync = false;
      Status ended = serve(std::move(*fd), &reached_sync);
      goOffline();
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.disconnections;
      }
      if (stopping_) break;
      if (reached_sync) backoff = options_.backoff_initial;
      report(whatNext(ended.error().withContext("NRI connection to the runtime ended"), backoff));
      if (!connector_.canReconnect()) {
        final_status = ended;
        break;
      }
      if (waitToReconnect(backoff)) {
        backoff = options_.backoff_initial;
      } else {
        backoff = std::min(backoff * 2, options_.backoff_max);
      }
    }
    goOffline();
    if (watcher != nullptr) watcher->stop();
    std::lock_guard<std::mutex> lock(mu_);
    final_status_ = final_status;
    finished_ = true;
    finished_cv_.notify_all();
  }

  // Marks the plugin offline and fails every call still waiting for the runtime.
  void goOffline() {
    std::deque<OutgoingUpdate> outgoing;
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_ = false;
      outgoing.swap(outgoing_);
    }
    const Error gone = Error::unavailable("the NRI connection to the runtime ended");
    for (auto& call : outgoing) settle(call.slot, gone);
    for (auto& [id, call] : pending_) {
      if (call.slot) settle(call.slot, gone);
    }
    pending_.clear();
  }

  // One connection's life. Always returns an error saying why it ended (or Cancelled on stop).
  Status serve(UniqueFd fd, bool* reached_sync) {
    // A runtime that stops reading must not block the I/O thread forever in send().
    const auto send_timeout = std::chrono::duration_cast<std::chrono::microseconds>(options_.call_timeout);
    timeval tv{static_cast<time_t>(send_timeout.count() / 1000000),
               static_cast<suseconds_t>(send_timeout.count() % 1000000)};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    Connection connection(std::move(fd));
    PluginService service(options_.events, handler_, [this](const Error& e) { report(e); });
    next_stream_id_ = 1;
    server_rules_ = ttrpc::ServerRules();

    // RegisterPlugin goes out first; its answer is handled whenever it arrives, because the
    // runtime may send Configure before we read that answer (docs/nri.md, "Registration order").
    pb::RegisterPluginRequest register_request;
    register_request.set_plugin_name(options_.name);
    register_request.set_plugin_idx(options_.idx);
    TOPOD_RETURN_IF_ERROR(call(connection, "RegisterPlugin", register_request.SerializeAsString(),
                               {PendingCall::Kind::Register, clock_.now() + options_.call_timeout, nullptr}));

    while (!stopping_) {
      pollfd pfds[2] = {{connection.fd(), POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
      const int rc = ::poll(pfds, 2, pollTimeoutMs());
      if (rc < 0 && errno != EINTR) return Error::fromErrno(errno, "polling the NRI socket");
      TOPOD_RETURN_IF_ERROR(expireCalls());
      if (pfds[1].revents != 0) {
        drainWake();
        TOPOD_RETURN_IF_ERROR(sendOutgoing(connection));
      }
      if (pfds[0].revents == 0) continue;
      auto more = connection.readSome();
      if (!more.has_value()) return more.error();
      if (!*more) return Error::unavailable("the runtime closed the NRI connection");
      // Every complete message is answered before a corruption that follows it in the same
      // read ends the connection (nextMessage() returns the corruption last).
      while (true) {
        auto message = connection.nextMessage();
        if (!message.has_value()) return message.error();
        if (!message->has_value()) break;
        TOPOD_RETURN_IF_ERROR(handleMessage(connection, service, std::move(**message)));
        if (service.synchronized() && !*reached_sync) {
          *reached_sync = true;
          {
            std::lock_guard<std::mutex> lock(mu_);
            live_ = true;
            ++stats_.synchronizations;
          }
          if (options_.on_synchronized) options_.on_synchronized(service.runtime());
        }
      }
    }
    return Error(ErrorCode::Cancelled, "NRI plugin stopped");
  }

  int pollTimeoutMs() const {
    if (pending_.empty()) return -1;
    auto earliest = Clock::TimePoint::max();
    for (const auto& [id, call] : pending_) earliest = std::min(earliest, call.deadline);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(earliest - clock_.now());
    return static_cast<int>(std::max<int64_t>(0, left.count()) + 1);
  }

  Status expireCalls() {
    const auto now = clock_.now();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.deadline > now) {
        ++it;
        continue;
      }
      if (it->second.kind == PendingCall::Kind::Register) {
        return Error(ErrorCode::DeadlineExceeded, "the runtime did not answer RegisterPlugin within " +
                                                      std::to_string(options_.call_timeout.count()) + " ms");
      }
      settle(it->second.slot, Error(ErrorCode::DeadlineExceeded, "UpdateContainers: no answer from the runtime"));
      it = pending_.erase(it);
    }
    return okStatus();
  }

  Status call(Connection& connection, const char* method, std::string payload, PendingCall pending) {
    ttrpc::Request request{kRuntimeServiceName, method, std::move(payload),
                           std::chrono::duration_cast<std::chrono::nanoseconds>(options_.call_timeout).count()};
    const uint32_t stream_id = next_stream_id_;
    next_stream_id_ += 2;  // client streams are odd and increasing (docs/nri.md, "ttrpc messages")
    auto message = ttrpc::encodeRequest(stream_id, request);
    if (!message.has_value()) return message.error().withContext(method);
    TOPOD_RETURN_IF_ERROR(connection.send(mux::kRuntimeServiceConn, *message));
    pending_.emplace(stream_id, std::move(pending));
    return okStatus();
  }

  Status sendOutgoing(Connection& connection) {
    std::deque<OutgoingUpdate> outgoing;
    {
      std::lock_guard<std::mutex> lock(mu_);
      outgoing.swap(outgoing_);
    }
    for (OutgoingUpdate& item : outgoing) {
      pb::UpdateContainersRequest request;
      for (const Update& update : item.updates) updateToProto(update, request.add_update());
      Status sent = call(connection, "UpdateContainers", request.SerializeAsString(),
                         {PendingCall::Kind::UpdateContainers, clock_.now() + options_.call_timeout, item.slot});
      if (!sent.has_value()) {
        settle(item.slot, sent.error());
        return sent;
      }
    }
    return okStatus();
  }

  Status handleMessage(Connection& connection, PluginService& service, mux::ConnMessage in) {
    const ttrpc::Header& header = in.message.header;
    if (in.conn == mux::kPluginServiceConn) {
      auto verdict = server_rules_.check(in.message);
      if (!verdict.has_value()) return verdict.error();
      ttrpc::Response response;
      if (!verdict->request) {
        response = std::move(verdict->refusal);
        report(Error(response.code, "refused a runtime request: " + response.message));
      } else {
        response = service.handle(*verdict->request);
        if (response.code != ErrorCode::Ok) {
          report(Error(response.code, "answered " + verdict->request->method + " with an error: " + response.message));
        }
      }
      auto encoded = ttrpc::encodeResponse(header.stream_id, response);
      if (!encoded.has_value()) {
        report(encoded.error().withContext("answering the runtime"));
        encoded = ttrpc::encodeResponse(header.stream_id, {encoded.error().code(), encoded.error().message(), {}});
        if (!encoded.has_value()) return encoded.error();
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.events;
      }
      return connection.send(mux::kPluginServiceConn, *encoded);
    }

    // Runtime service connection: answers to our calls.
    if (header.type != static_cast<uint8_t>(ttrpc::MessageType::Response)) {
      return Error::dataLoss("ttrpc message type " + std::to_string(header.type) +
                             " on the runtime service connection; expected responses only");
    }
    auto it = pending_.find(header.stream_id);
    if (it == pending_.end()) {
      report(Error::notFound("runtime answered unknown ttrpc stream " + std::to_string(header.stream_id)));
      return okStatus();
    }
    PendingCall pending = std::move(it->second);
    pending_.erase(it);
    Result<ttrpc::Response> response =
        in.message.oversized ? Result<ttrpc::Response>(Error::resourceExhausted("runtime answer exceeds 4 MiB"))
                             : ttrpc::decodeResponse(in.message.data);
    if (pending.kind == PendingCall::Kind::Register) {
      if (!response.has_value()) return response.error().withContext("RegisterPlugin");
      if (response->code != ErrorCode::Ok) {
        return Error(response->code, "the runtime refused RegisterPlugin: " + response->message);
      }
      return okStatus();
    }
    settle(pending.slot, updateContainersResult(response));
    return okStatus();
  }

  static UpdateResult updateContainersResult(const Result<ttrpc::Response>& response) {
    if (!response.has_value()) return response.error().withContext("UpdateContainers");
    pb::UpdateContainersResponse answer;
    if (!answer.ParseFromString(response->payload)) {
      return Error::invalidArgument(
          "UpdateContainers: the runtime's answer is not a valid "
          "UpdateContainersResponse");
    }
    std::vector<Update> failed;
    for (const pb::ContainerUpdate& update : answer.failed()) {
      auto converted = updateFromProto(update);
      if (converted.has_value()) failed.push_back(std::move(*converted));
    }
    if (response->code != ErrorCode::Ok && failed.empty()) {
      return Error(response->code, "UpdateContainers: " + response->message);
    }
    return failed;
  }

  const PluginOptions options_;
  const Clock& clock_;
  EventHandler& handler_;
  Connector& connector_;

  std::atomic<bool> stopping_{false};
  std::atomic<std::thread::id> io_thread_id_{};
  UniqueFd wake_fd_;
  std::thread io_thread_;

  mutable std::mutex mu_;
  std::condition_variable finished_cv_;
  std::condition_variable backoff_cv_;   // stop() or the socket appearing during a reconnect wait
  std::condition_variable answered_cv_;  // a CallSlot got its result
  bool live_ TOPOD_GUARDED_BY(mu_) = false;
  bool socket_appeared_ TOPOD_GUARDED_BY(mu_) = false;  // the watcher saw it since the last attempt
  bool finished_ TOPOD_GUARDED_BY(mu_) = false;
  Status final_status_ TOPOD_GUARDED_BY(mu_);
  std::deque<OutgoingUpdate> outgoing_ TOPOD_GUARDED_BY(mu_);
  PluginStats stats_ TOPOD_GUARDED_BY(mu_);

  // I/O thread only.
  std::map<uint32_t, PendingCall> pending_;
  uint32_t next_stream_id_ = 1;
  ttrpc::ServerRules server_rules_;  // conn 1, per connection
};

Plugin::Plugin(PluginOptions options, EventHandler& handler, Connector& connector)
    : impl_(std::make_unique<Impl>(std::move(options), handler, connector)) {}
Plugin::~Plugin() = default;
Status Plugin::start() {
  return impl_->start();
}
void Plugin::stop() {
  impl_->stop();
}
Status Plugin::wait() {
  return impl_->wait();
}
Result<std::vector<Update>> Plugin::updateContainers(const std::vector<Update>& updates) {
  return impl_->updateContainers(updates);
}
PluginStats Plugin::stats() const {
  return impl_->stats();
}

}  // namespace topod::nri
