#include "metrics/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

namespace topod::metrics {

// The C callback's way into the server's private members.
struct HttpServerAccess {
  static const HttpHandlers& handlers(const HttpServer& server) { return server.handlers_; }
};

namespace {

MHD_Result respond(MHD_Connection* connection, unsigned status, const std::string& body, const char* content_type,
                   const char* allow = nullptr) {
  MHD_Response* response =
      MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  if (allow != nullptr) MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
  MHD_Result queued = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return queued;
}

MHD_Result handle(void* context, MHD_Connection* connection, const char* url, const char* method, const char* version,
                  const char* upload_data, size_t* upload_data_size, void** request_state) {
  (void)version;
  (void)upload_data;
  (void)upload_data_size;
  (void)request_state;
  const HttpHandlers& handlers = HttpServerAccess::handlers(*static_cast<const HttpServer*>(context));
  constexpr const char* kText = "text/plain; charset=utf-8";
  const std::string_view verb(method);
  if (verb != MHD_HTTP_METHOD_GET && verb != MHD_HTTP_METHOD_HEAD) {
    // Answered before any body is read; libmicrohttpd then closes the connection.
    return respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", kText, "GET, HEAD");
  }
  const std::string_view path(url);
  if (path == "/metrics") {
    return respond(connection, MHD_HTTP_OK, handlers.metrics(), "text/plain; version=0.0.4; charset=utf-8");
  }
  if (path == "/healthz") {
    std::string problem = handlers.health();
    if (problem.empty()) return respond(connection, MHD_HTTP_OK, "ok\n", kText);
    return respond(connection, MHD_HTTP_SERVICE_UNAVAILABLE, problem + "\n", kText);
  }
  return respond(connection, MHD_HTTP_NOT_FOUND, "not found; try /metrics or /healthz\n", kText);
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(const ListenAddress& address, HttpHandlers handlers) {
  if (!handlers.metrics || !handlers.health) return Error::invalidArgument("metrics server: a handler is missing");
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(handlers)));
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = address.ipv6 ? AF_INET6 : AF_INET;
  if (address.ipv6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(address.port);
    if (::inet_pton(AF_INET6, address.host.c_str(), &in6->sin6_addr) != 1) {
      return Error::invalidArgument("metrics server: " + address.host + " is not an IPv6 address");
    }
    length = sizeof(sockaddr_in6);
  } else {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&storage);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(address.port);
    if (::inet_pton(AF_INET, address.host.c_str(), &in4->sin_addr) != 1) {
      return Error::invalidArgument("metrics server: " + address.host + " is not an IPv4 address");
    }
    length = sizeof(sockaddr_in);
  }
  // Our own socket, so that a bind error reaches the caller with its errno (libmicrohttpd would
  // only print it); the daemon takes it over.
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Error::fromErrno(errno, "metrics server: socket");
  int one = 1;
  // A restarted topod rebinds at once although the old connections linger in TIME_WAIT.
  (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (address.ipv6) (void)::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  // Fewer pending connections than that are never needed: scrapes and probes come a few a minute.
  constexpr int kBacklog = 16;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 || ::listen(fd, kBacklog) != 0) {
    int err = errno;
    ::close(fd);
    return Error::fromErrno(err, "metrics server: listening on " + address.toString()).withReason("bind");
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  server->bound_ = address;
  server->bound_.port = ntohs(address.ipv6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD;
  if (address.ipv6) flags |= MHD_USE_IPv6;
  server->daemon_ = MHD_start_daemon(flags, 0, nullptr, nullptr, &handle, server.get(), MHD_OPTION_LISTEN_SOCKET, fd,
                                     MHD_OPTION_CONNECTION_LIMIT, kMaxConnections, MHD_OPTION_CONNECTION_TIMEOUT,
                                     kConnectionTimeoutSeconds, MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    // Not closed here: whether libmicrohttpd already did is not documented, and a second close
    // could hit a descriptor another thread just opened. `topod run` exits on this error.
    return Error::internal("metrics server: libmicrohttpd did not start on " + address.toString());
  }
  return server;
}

HttpServer::~HttpServer() {
  // Joins the thread and closes the connections and the listening socket (ours included).
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

}  // namespace topod::metrics
