#include "kube/client.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <thread>

#include "common/file_io.h"

namespace topod::kube {
namespace {

constexpr const char* kJson = "application/json";

bool retriable(const Result<HttpResponse>& answer) {
  if (!answer) {
    ErrorCode code = answer.error().code();
    return code == ErrorCode::Unavailable || code == ErrorCode::DeadlineExceeded;
  }
  return answer->status == 429 || answer->status >= 500;
}

std::string urlEncode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) != 0 || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(kHex[ch >> 4]);
      out.push_back(kHex[ch & 15]);
    }
  }
  return out;
}

}  // namespace

Sleeper realSleeper() {
  return [](Clock::Duration duration) { std::this_thread::sleep_for(duration); };
}

Clock::Duration Backoff::delay(int attempt) {
  double base = static_cast<double>(options_.initial_backoff.count()) * std::pow(2.0, std::min(attempt, 30));
  base = std::min(base, static_cast<double>(options_.max_backoff.count()));
  std::uniform_real_distribution<double> spread(1.0 - options_.jitter, 1.0 + options_.jitter);
  return Clock::Duration(static_cast<Clock::Duration::rep>(base * spread(random_)));
}

std::optional<Clock::Duration> parseRetryAfter(const std::string& value) {
  if (value.empty() || value.size() > 9) return std::nullopt;
  for (char ch : value) {
    if (ch < '0' || ch > '9') return std::nullopt;
  }
  return std::chrono::seconds(std::stoll(value));
}

Error errorFromResponse(const std::string& method, const std::string& path, const HttpResponse& response) {
  std::string message = method + " " + path + ": HTTP " + std::to_string(response.status);
  std::string reason;
  // A Kubernetes Status object when the server sent one; a bad body is kept short, not parsed.
  auto status = nlohmann::json::parse(response.body, nullptr, false);
  if (status.is_object()) {
    if (status.contains("message") && status["message"].is_string()) {
      message += ": " + status["message"].get<std::string>();
    }
    if (status.contains("reason") && status["reason"].is_string()) reason = status["reason"].get<std::string>();
  } else if (!response.body.empty()) {
    message += ": " + response.body.substr(0, 200);
  }
  switch (response.status) {
    case 400:
    case 415:
    case 422: return Error::invalidArgument(message);
    case 401: return Error{ErrorCode::Unauthenticated, message};
    case 403: return Error{ErrorCode::PermissionDenied, message};
    case 404: return Error::notFound(message);
    case 409: return Error{reason == "AlreadyExists" ? ErrorCode::AlreadyExists : ErrorCode::Aborted, message};
    case 410: return Error{ErrorCode::OutOfRange, message};
    case 429: return Error::resourceExhausted(message);
    default: break;
  }
  if (response.status >= 500) return Error::unavailable(message);
  return Error{ErrorCode::Unknown, message};
}

Client::Client(ClientConfig config, std::unique_ptr<HttpTransport> transport, ClientOptions options, const Clock& clock,
               Sleeper sleep, uint64_t seed)
    : config_(std::move(config)),
      transport_(std::move(transport)),
      options_(std::move(options)),
      clock_(clock),
      sleep_(std::move(sleep)),
      backoff_(options_.retry, seed),
      tokens_(std::max(1, options_.burst)),
      last_refill_(clock.now()),
      token_(config_.token) {}

Result<std::unique_ptr<Client>> Client::create(ClientConfig config, ClientOptions options) {
  auto transport = makeCurlTransport(config);
  if (!transport) return transport.error();
  return std::make_unique<Client>(std::move(config), std::move(*transport), std::move(options), steadyClock(),
                                  realSleeper());
}

void Client::throttle() {
  if (options_.qps <= 0) return;
  Clock::Duration wait{};
  {
    std::lock_guard lock(mutex_);
    auto now = clock_.now();
    double elapsed = std::chrono::duration<double>(now - last_refill_).count();
    last_refill_ = now;
    tokens_ = std::min(static_cast<double>(std::max(1, options_.burst)), tokens_ + elapsed * options_.qps);
    tokens_ -= 1;
    if (tokens_ < 0) {
      wait = std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double>(-tokens_ / options_.qps));
    }
  }
  if (wait > Clock::Duration::zero()) sleep_(wait);
}

Result<std::string> Client::authorization(bool force_reread) {
  std::lock_guard lock(mutex_);
  if (!config_.token_file.empty()) {
    struct stat info {};
    if (::stat(config_.token_file.c_str(), &info) != 0) {
      if (!token_.empty()) return "Bearer " + token_;  // keep the last good token meanwhile
      return Error::fromErrno(errno, "token file " + config_.token_file);
    }
    int64_t mtime = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
    if (force_reread || mtime != token_mtime_ns_ || info.st_size != token_size_) {
      // An unreadable token file reads as empty: the last good token stays in use.
      auto text = readRegularFile(config_.token_file, {.no_follow = false});
      std::string token = text.has_value() ? std::move(*text) : std::string();
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
        token.pop_back();
      }
      if (!token.empty()) {
        token_ = std::move(token);
        token_mtime_ns_ = mtime;
        token_size_ = info.st_size;
      }
    }
  }
  if (token_.empty()) return std::string();
  return "Bearer " + token_;
}

Result<HttpResponse> Client::call(const std::string& method, const std::string& path, const std::string& body,
                                  const std::string& content_type) {
  bool reread_token = false;
  Result<HttpResponse> answer = Error::internal("no attempt made");
  const int attempts = std::max(1, options_.retry.max_attempts);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    throttle();
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    request.timeout = options_.timeout;
    request.headers.emplace_back("Accept", kJson);
    request.headers.emplace_back("User-Agent", options_.user_agent);
    if (!content_type.empty()) request.headers.emplace_back("Content-Type", content_type);
    auto auth = authorization(reread_token);
    if (!auth) return auth.error();
    if (!auth->empty()) request.headers.emplace_back("Authorization", *auth);
    answer = transport_->send(request);
    if (answer && answer->status < 400) return answer;
    // A rotated token may have been replaced since the last read: one more try with a fresh read.
    if (answer && answer->status == 401 && !config_.token_file.empty() && !reread_token) {
      reread_token = true;
      continue;
    }
    if (!retriable(answer) || attempt + 1 == attempts) break;
    Clock::Duration wait;
    {
      std::lock_guard lock(mutex_);
      wait = backoff_.delay(attempt);
    }
    if (answer && answer->status == 429) {
      auto it = answer->headers.find("retry-after");
      if (it != answer->headers.end()) {
        if (auto after = parseRetryAfter(it->second)) wait = std::min(*after, options_.retry.max_backoff);
      }
    }
    sleep_(wait);
  }
  if (!answer) return answer.error();
  return errorFromResponse(method, path, *answer);
}

Result<nlohmann::json> Client::callJson(const std::string& method, const std::string& path, const std::string& body,
                                        const std::string& content_type) {
  auto answer = call(method, path, body, content_type);
  if (!answer) return answer.error();
  auto parsed = nlohmann::json::parse(answer->body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Error::internal(method + " " + path + ": HTTP " + std::to_string(answer->status) +
                           " with a body that is not a JSON object");
  }
  return parsed;
}

Result<nlohmann::json> Client::get(const std::string& path) {
  return callJson("GET", path, "", "");
}

Result<nlohmann::json> Client::create(const std::string& collection, const nlohmann::json& object) {
  return callJson("POST", collection, object.dump(), kJson);
}

Result<nlohmann::json> Client::replace(const std::string& path, const nlohmann::json& object) {
  return callJson("PUT", path, object.dump(), kJson);
}

Status Client::remove(const std::string& path) {
  auto answer = call("DELETE", path, "", "");
  if (!answer) return answer.error();
  return okStatus();
}

Result<nlohmann::json> Client::mergePatch(const std::string& path, const nlohmann::json& patch) {
  return callJson("PATCH", path, patch.dump(), "application/merge-patch+json");
}

Result<nlohmann::json> Client::apply(const std::string& path, const nlohmann::json& object,
                                     const std::string& field_manager, bool force) {
  // JSON is YAML, so the apply body can be the JSON text.
  std::string query = "?fieldManager=" + urlEncode(field_manager) + (force ? "&force=true" : "");
  return callJson("PATCH", path + query, object.dump(), "application/apply-patch+yaml");
}

Result<ListResult> Client::list(const std::string& collection, const std::string& label_selector) {
  return list(collection, WatchOptions{.label_selector = label_selector, .field_selector = "", .cancelled = {}});
}

Result<ListResult> Client::list(const std::string& collection, const WatchOptions& options) {
  // Pages of this many items keep one answer small on big clusters.
  constexpr int kPageSize = 500;
  ListResult out;
  std::string continue_token;
  for (;;) {
    std::string query = "?limit=" + std::to_string(kPageSize);
    if (!options.label_selector.empty()) query += "&labelSelector=" + urlEncode(options.label_selector);
    if (!options.field_selector.empty()) query += "&fieldSelector=" + urlEncode(options.field_selector);
    if (!continue_token.empty()) query += "&continue=" + urlEncode(continue_token);
    auto page = callJson("GET", collection + query, "", "");
    if (!page) return page.error();
    try {
      if (page->contains("items") && (*page)["items"].is_array()) {
        for (auto& item : (*page)["items"]) out.items.push_back(std::move(item));
      }
      const auto metadata = page->value("metadata", nlohmann::json::object());
      out.resource_version = metadata.value("resourceVersion", out.resource_version);
      continue_token = metadata.value("continue", "");
    } catch (const nlohmann::json::exception& e) {
      return Error::internal("GET " + collection + ": unexpected list metadata: " + e.what());
    }
    if (continue_token.empty()) break;
  }
  return out;
}

}  // namespace topod::kube

namespace topod::kube {

Result<std::string> Client::watch(const std::string& collection, const std::string& resource_version,
                                  std::chrono::seconds timeout,
                                  const std::function<bool(const WatchEvent&)>& on_event) {
  return watch(collection, resource_version, timeout, WatchOptions{}, on_event);
}

Result<std::string> Client::watch(const std::string& collection, const std::string& resource_version,
                                  std::chrono::seconds timeout, const WatchOptions& options,
                                  const std::function<bool(const WatchEvent&)>& on_event) {
  throttle();
  HttpRequest request;
  request.method = "GET";
  request.path = collection + "?watch=1&allowWatchBookmarks=true&resourceVersion=" + urlEncode(resource_version) +
                 "&timeoutSeconds=" + std::to_string(timeout.count());
  if (!options.label_selector.empty()) request.path += "&labelSelector=" + urlEncode(options.label_selector);
  if (!options.field_selector.empty()) request.path += "&fieldSelector=" + urlEncode(options.field_selector);
  request.cancelled = options.cancelled;
  // The server ends the watch at timeoutSeconds; the client allows it the usual timeout more.
  request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout) + options_.timeout;
  request.headers.emplace_back("Accept", kJson);
  request.headers.emplace_back("User-Agent", options_.user_agent);
  auto auth = authorization(false);
  if (!auth) return auth.error();
  if (!auth->empty()) request.headers.emplace_back("Authorization", *auth);

  std::string version = resource_version;
  std::string pending;
  std::optional<Error> failure;
  // Events are newline-delimited JSON objects; a chunk may hold parts of several.
  auto on_data = [&](std::string_view chunk) {
    pending.append(chunk);
    std::size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      if (line.empty()) continue;
      auto event = nlohmann::json::parse(line, nullptr, false);
      if (!event.is_object() || !event.contains("type") || !event["type"].is_string() || !event.contains("object") ||
          !event["object"].is_object()) {
        failure = Error::internal("GET " + request.path + ": a watch event that is not {type, object}");
        return false;
      }
      std::string type = event["type"].get<std::string>();
      const nlohmann::json& object = event["object"];
      if (type == "ERROR") {
        long code = object.contains("code") && object["code"].is_number_integer() ? object["code"].get<long>() : 500;
        failure = errorFromResponse("GET", request.path, HttpResponse{code, {}, object.dump()});
        return false;
      }
      auto metadata = object.find("metadata");
      if (metadata != object.end() && metadata->is_object()) {
        auto rv = metadata->find("resourceVersion");
        if (rv != metadata->end() && rv->is_string()) version = rv->get<std::string>();
      }
      if (type == "BOOKMARK") continue;
      if (!on_event(WatchEvent{type, object})) return false;
      if (options.cancelled && options.cancelled()) return false;
    }
    return true;
  };
  auto response = transport_->stream(request, on_data);
  if (failure) return *failure;
  if (!response) return response.error();
  if (response->status >= 400) return errorFromResponse("GET", request.path, *response);
  return version;
}

}  // namespace topod::kube
