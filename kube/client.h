// The Kubernetes API client: JSON objects in and out over an HttpTransport, with a bearer token
// (re-read when its file changes), a QPS/burst limit, a timeout on every call, and retries with
// jittered exponential backoff on connection errors, 429 (honouring Retry-After) and 5xx. Other
// 4xx answers are returned as errors at once:
//   404 NotFound, 409 Aborted (stale resourceVersion) or AlreadyExists (create), 410 OutOfRange
//   (watch/list resourceVersion too old), 401 Unauthenticated, 403 PermissionDenied,
//   400/415/422 InvalidArgument; retries given up: the last error (Unavailable,
//   ResourceExhausted, DeadlineExceeded).
// Messages carry the method, the path and the server's Status message.
//
// ObjectClient is the small interface the publisher uses (a fake in tests/fakes); Client is the
// real one. Thread-safety: Client serialises its own state; calls may come from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "kube/config.h"
#include "kube/transport.h"

namespace topod::kube {

class ObjectClient {
 public:
  virtual ~ObjectClient() = default;
  // `path` is an object's path ("/apis/<group>/<version>/<plural>/<name>"); `collection` the
  // path without the name.
  virtual Result<nlohmann::json> get(const std::string& path) = 0;
  virtual Result<nlohmann::json> create(const std::string& collection, const nlohmann::json& object) = 0;
  // PUT; the object's metadata.resourceVersion makes it conditional (409 when stale).
  virtual Result<nlohmann::json> replace(const std::string& path, const nlohmann::json& object) = 0;
  virtual Status remove(const std::string& path) = 0;
};

struct RetryOptions {
  int max_attempts = 4;  // tries per call, the first included
  Clock::Duration initial_backoff = std::chrono::milliseconds(250);
  Clock::Duration max_backoff = std::chrono::seconds(30);
  double jitter = 0.2;  // each wait is backoff * (1 +- jitter), uniformly
};

struct ClientOptions {
  std::chrono::milliseconds timeout{10000};  // per request
  double qps = 5;                            // sustained requests per second (client-go's default)
  int burst = 10;                            // requests allowed at once above the rate
  RetryOptions retry;
  std::string user_agent = "topod";
};

// Waits for a duration. Real: std::this_thread::sleep_for; tests: advance a fake clock.
using Sleeper = std::function<void(Clock::Duration)>;
Sleeper realSleeper();

// Jittered exponential backoff: attempt 0 waits about `initial`, each next one twice as long,
// capped at `max`. Pure apart from its random source.
class Backoff {
 public:
  Backoff(RetryOptions options, uint64_t seed) : options_(options), random_(seed) {}
  Clock::Duration delay(int attempt);

 private:
  RetryOptions options_;
  std::mt19937_64 random_;
};

// "Retry-After: <seconds>" (the API server sends seconds); std::nullopt when absent or a date.
std::optional<Clock::Duration> parseRetryAfter(const std::string& value);

// The error an HTTP answer stands for (status >= 400), with the server's Status message.
Error errorFromResponse(const std::string& method, const std::string& path, const HttpResponse& response);

struct ListResult {
  nlohmann::json items = nlohmann::json::array();
  std::string resource_version;  // the list's, to start a watch from
};

struct WatchEvent {
  std::string type;  // "ADDED", "MODIFIED", "DELETED"
  nlohmann::json object;
};

// Narrows a list or a watch, and lets another thread end a watch early.
struct WatchOptions {
  std::string label_selector;
  std::string field_selector;  // e.g. "metadata.name=worker-1": one object
  // Polled while a watch waits for data (about once a second) and between events; true ends the
  // watch at once, without error. Empty: never.
  std::function<bool()> cancelled;
};

// List + watch: what ObjectWatch (kube/object_watch.h) runs on. Client is the real one; the fake
// is tests/fakes/fake_object_client.h.
class ListWatcher {
 public:
  virtual ~ListWatcher() = default;
  // Every page of a list, with the list's resourceVersion. Errors as for Client::call().
  virtual Result<ListResult> list(const std::string& collection, const WatchOptions& options) = 0;
  // One watch from `resource_version`, as Client::watch below, narrowed by `options`.
  virtual Result<std::string> watch(const std::string& collection, const std::string& resource_version,
                                    std::chrono::seconds timeout, const WatchOptions& options,
                                    const std::function<bool(const WatchEvent&)>& on_event) = 0;
};

class Client final : public ObjectClient, public ListWatcher {
 public:
  Client(ClientConfig config, std::unique_ptr<HttpTransport> transport, ClientOptions options, const Clock& clock,
         Sleeper sleep, uint64_t seed = std::random_device{}());

  // The real thing: libcurl transport, steady clock, real sleeps.
  static Result<std::unique_ptr<Client>> create(ClientConfig config, ClientOptions options);

  Result<nlohmann::json> get(const std::string& path) override;
  Result<nlohmann::json> create(const std::string& collection, const nlohmann::json& object) override;
  Result<nlohmann::json> replace(const std::string& path, const nlohmann::json& object) override;
  Status remove(const std::string& path) override;
  // RFC 7386 merge patch (arrays are replaced whole).
  Result<nlohmann::json> mergePatch(const std::string& path, const nlohmann::json& patch);
  // Server-side apply as `field_manager`; `force` takes fields over from other managers.
  Result<nlohmann::json> apply(const std::string& path, const nlohmann::json& object, const std::string& field_manager,
                               bool force);
  // Every page of a list (limit/continue), with the list's resourceVersion.
  Result<ListResult> list(const std::string& collection, const std::string& label_selector = "");
  Result<ListResult> list(const std::string& collection, const WatchOptions& options) override;

  // One watch from `resource_version` (a list's), with bookmarks: `on_event` gets every ADDED,
  // MODIFIED and DELETED event until the server ends the watch after about `timeout` or
  // `on_event` returns false. Returns the resourceVersion to watch on from (bookmarks advance
  // it). Errors: OutOfRange when the version is too old (410 Gone, as a status or as an ERROR
  // event): list again and watch from the new list's version; others as for call(). Not
  // retried: the caller loops (list, then watch, watch, ...). `label_selector` as for list().
  Result<std::string> watch(const std::string& collection, const std::string& resource_version,
                            std::chrono::seconds timeout, const std::function<bool(const WatchEvent&)>& on_event);
  Result<std::string> watch(const std::string& collection, const std::string& resource_version,
                            std::chrono::seconds timeout, const WatchOptions& options,
                            const std::function<bool(const WatchEvent&)>& on_event) override;

  // The raw call with retries: a response with status < 400, or the error.
  Result<HttpResponse> call(const std::string& method, const std::string& path, const std::string& body,
                            const std::string& content_type);

 private:
  Result<nlohmann::json> callJson(const std::string& method, const std::string& path, const std::string& body,
                                  const std::string& content_type);
  // Waits for a rate-limit token.
  void throttle();
  // "Bearer <token>" or "" (re-reads the token file when it changed).
  Result<std::string> authorization(bool force_reread);

  ClientConfig config_;
  std::unique_ptr<HttpTransport> transport_;
  ClientOptions options_;
  const Clock& clock_;
  Sleeper sleep_;
  std::mutex mutex_;
  Backoff backoff_;
  double tokens_;
  Clock::TimePoint last_refill_;
  std::string token_;
  int64_t token_mtime_ns_ = -1;
  int64_t token_size_ = -1;
};

}  // namespace topod::kube
