// The HTTP seam under the Kubernetes client: one request in, one response out. The real one is
// libcurl (curl_transport.h); tests script a fake. No HTTP or TLS is written by hand.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "kube/config.h"

namespace topod::kube {

struct HttpRequest {
  std::string method;  // "GET", "POST", "PUT", "PATCH", "DELETE"
  std::string path;    // "/apis/...?...", appended to the server URL
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Whole-request limit (connect, TLS, send, answer).
  std::chrono::milliseconds timeout{10000};
  // For stream(): polled while waiting for data (about once a second); true ends the request
  // early, which is not an error. Empty: never.
  std::function<bool()> cancelled;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Any HTTP status is a response. Errors: Unavailable (could not connect, connection reset),
  // DeadlineExceeded (timeout), FailedPrecondition (TLS: the server's certificate does not
  // verify, or the client's is refused). Thread-safe.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;

  // Like send(), but hands the body to `on_data` piece by piece as it arrives (a watch); the
  // returned response has an empty body. `on_data` returning false ends the request early,
  // which is not an error. The default delivers send()'s body in one piece (fakes need no more).
  using DataFn = std::function<bool(std::string_view)>;
  virtual Result<HttpResponse> stream(const HttpRequest& request, const DataFn& on_data) {
    auto response = send(request);
    if (!response) return response;
    if (response->status < 400) {
      (void)on_data(response->body);
      response->body.clear();
    }
    return response;
  }
};

// libcurl, TLS verified against config.ca_pem, the client certificate when set. The bearer
// token is the client's business (it arrives as a header). Errors: a CA or key libcurl cannot use.
Result<std::unique_ptr<HttpTransport>> makeCurlTransport(const ClientConfig& config);

}  // namespace topod::kube
