// HttpServer: the metrics endpoint, served by libmicrohttpd from one internal thread (epoll):
//   GET /metrics  200, the Registry's text exposition (Registry::kContentType)
//   GET /healthz  200 "ok", or 503 with the one-line reason the health callback gives
//   anything else 404; a method other than GET or HEAD 405 (with Allow: GET, HEAD).
// A scrape renders on the server's thread; the NRI path never waits for it. Slow or idle clients
// are cut off after kConnectionTimeout and at most kMaxConnections are open at once, so a
// misbehaving client cannot pile up memory.
//
// Thread-safety: start() and the destructor from one thread; the callbacks run on the server's
// thread, one request at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "metrics/listen_address.h"

struct MHD_Daemon;

namespace topod::metrics {

struct HttpHandlers {
  // The body of /metrics.
  std::function<std::string()> metrics;
  // Empty: healthy; otherwise why not (one line, sent with 503).
  std::function<std::string()> health;
};

class HttpServer {
 public:
  static constexpr unsigned kMaxConnections = 16;  // Prometheus scrapes one at a time, probes too
  static constexpr unsigned kConnectionTimeoutSeconds = 10;

  // Binds and starts serving. Errors: an address in use or not on this host (Unavailable, with
  // the errno's text), a handler missing (InvalidArgument).
  static Result<std::unique_ptr<HttpServer>> start(const ListenAddress& address, HttpHandlers handlers);
  // Stops the thread and closes every connection.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The address actually bound (port 0 replaced by the port the kernel chose).
  const ListenAddress& address() const { return bound_; }

 private:
  explicit HttpServer(HttpHandlers handlers) : handlers_(std::move(handlers)) {}
  friend struct HttpServerAccess;

  HttpHandlers handlers_;
  ListenAddress bound_;
  MHD_Daemon* daemon_ = nullptr;
};

}  // namespace topod::metrics
