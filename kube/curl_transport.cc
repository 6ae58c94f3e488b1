#include <curl/curl.h>

#include <cctype>
#include <mutex>

#include "kube/transport.h"

namespace topod::kube {
namespace {

// Where a response body goes: a string, or a streaming callback that may stop the transfer.
struct BodySink {
  std::string* text = nullptr;
  const HttpTransport::DataFn* stream = nullptr;
  bool stopped = false;
};

size_t onBody(char* data, size_t size, size_t count, void* out) {
  auto* sink = static_cast<BodySink*>(out);
  if (sink->stream != nullptr && !sink->stopped) {
    // Only a successful answer streams; an error body is kept for its Status message.
    if (!(*sink->stream)(std::string_view(data, size * count))) {
      sink->stopped = true;
      return 0;  // libcurl ends the transfer with CURLE_WRITE_ERROR
    }
    return size * count;
  }
  if (sink->text != nullptr) sink->text->append(data, size * count);
  return size * count;
}

size_t onHeader(char* data, size_t size, size_t count, void* out) {
  std::string line(data, size * count);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string value = line.substr(colon + 1);
    auto first = value.find_first_not_of(" \t");
    auto last = value.find_last_not_of(" \t\r\n");
    value = first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * count;
}

// libcurl calls this about once a second while a transfer waits; non-zero aborts it.
int onProgress(void* cancelled, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return (*static_cast<const std::function<bool()>*>(cancelled))() ? 1 : 0;
}

// libcurl wants its process-wide state set up once, before any thread uses it.
void globalInit() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(ClientConfig config) : config_(std::move(config)) {}
  ~CurlTransport() override {
    if (handle_ != nullptr) curl_easy_cleanup(handle_);
  }
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Status init() {
    globalInit();
    handle_ = curl_easy_init();
    if (handle_ == nullptr) return Error::internal("curl_easy_init failed");
    return okStatus();
  }

  Result<HttpResponse> send(const HttpRequest& request) override {
    // One handle, so one kept-alive connection; requests are serialised (the publisher sends
    // one at a time anyway).
    std::lock_guard lock(mutex_);
    curl_easy_reset(handle_);
    return perform(handle_, request, nullptr);
  }

  Result<HttpResponse> stream(const HttpRequest& request, const DataFn& on_data) override {
    // A watch holds its connection for minutes: its own handle, so other calls do not wait.
    CURL* h = curl_easy_init();
    if (h == nullptr) return Error::internal("curl_easy_init failed");
    auto response = perform(h, request, &on_data);
    curl_easy_cleanup(h);
    return response;
  }

 private:
  Result<HttpResponse> perform(CURL* h, const HttpRequest& request, const DataFn* on_data) {
    HttpResponse response;
    std::string url = config_.server + request.path;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_blob ca{const_cast<char*>(config_.ca_pem.data()), config_.ca_pem.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
    curl_blob cert{const_cast<char*>(config_.client_cert_pem.data()), config_.client_cert_pem.size(), CURL_BLOB_NOCOPY};
    curl_blob key{const_cast<char*>(config_.client_key_pem.data()), config_.client_key_pem.size(), CURL_BLOB_NOCOPY};
    if (!config_.client_cert_pem.empty()) {
      curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
      curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method == "GET" || request.method == "DELETE") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    } else {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : request.headers) {
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
    // No "Expect: 100-continue" round trip for bodies.
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onBody);
    BodySink sink{.text = &response.body};
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &response.headers);
    char detail[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
    // Streaming starts once the status is known to be a success (checked on the first chunk).
    DataFn gated;
    if (on_data != nullptr) {
      gated = [&](std::string_view chunk) {
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 400) {
          response.body.append(chunk);
          return true;
        }
        return (*on_data)(chunk);
      };
      sink.stream = &gated;
    }
    if (on_data != nullptr && request.cancelled) {
      curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, onProgress);
      curl_easy_setopt(h, CURLOPT_XFERINFODATA, &request.cancelled);
      curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    CURLcode code = curl_easy_perform(h);
    curl_slist_free_all(headers);
    if (code == CURLE_WRITE_ERROR && sink.stopped) code = CURLE_OK;  // the caller ended it
    if (code == CURLE_ABORTED_BY_CALLBACK && request.cancelled && request.cancelled()) code = CURLE_OK;
    if (code != CURLE_OK) {
      std::string message = request.method + " " + url + ": " + curl_easy_strerror(code);
      if (detail[0] != '\0') message += " (" + std::string(detail) + ")";
      // libcurl's error enum is huge and open-ended: compare, not switch.
      if (code == CURLE_OPERATION_TIMEDOUT) return Error{ErrorCode::DeadlineExceeded, message};
      if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_CACERT_BADFILE ||
          code == CURLE_SSL_CIPHER) {
        return Error::failedPrecondition(message);
      }
      return Error::unavailable(message);
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
  }

  ClientConfig config_;
  std::mutex mutex_;
  CURL* handle_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<HttpTransport>> makeCurlTransport(const ClientConfig& config) {
  if (config.ca_pem.empty()) return Error::invalidArgument("no CA to verify the API server with");
  auto transport = std::make_unique<CurlTransport>(config);
  TOPOD_RETURN_IF_ERROR(transport->init());
  return std::unique_ptr<HttpTransport>(std::move(transport));
}

}  // namespace topod::kube
