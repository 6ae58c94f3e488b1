#include "kube/client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <thread>

#include "tests/fakes/fake_clock.h"

namespace topod::kube {
namespace {

// Scripted answers, and the requests it saw.
class ScriptedTransport final : public HttpTransport {
 public:
  Result<HttpResponse> send(const HttpRequest& request) override {
    requests.push_back(request);
    if (answers.empty()) return Error::internal("no scripted answer");
    auto answer = answers.front();
    answers.pop_front();
    return answer;
  }
  void reply(long status, std::string body = "{}", std::map<std::string, std::string> headers = {}) {
    answers.push_back(HttpResponse{status, std::move(headers), std::move(body)});
  }
  void fail(Error error) { answers.push_back(std::move(error)); }

  std::deque<Result<HttpResponse>> answers;
  std::vector<HttpRequest> requests;
};

std::string header(const HttpRequest& request, const std::string& name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return "";
}

struct ClientHarness {
  explicit ClientHarness(ClientConfig config = {}, ClientOptions options = {}) {
    auto owned = std::make_unique<ScriptedTransport>();
    transport = owned.get();
    options.qps = options.qps;  // keep the caller's rate settings
    client = std::make_unique<Client>(std::move(config), std::move(owned), options, clock, [this](Clock::Duration d) {
      waits.push_back(d);
      clock.advance(d);
    });
  }
  testing::FakeClock clock;
  ScriptedTransport* transport = nullptr;
  std::vector<Clock::Duration> waits;
  std::unique_ptr<Client> client;
};

ClientOptions noRateLimit() {
  ClientOptions options;
  options.qps = 0;
  return options;
}

TEST(ClientTest, GetParsesTheObjectAndSendsTheTimeout) {
  ClientOptions options = noRateLimit();
  options.timeout = std::chrono::milliseconds(1234);
  ClientHarness h({.token = "secret"}, options);
  h.transport->reply(200, R"({"metadata":{"name":"n1","resourceVersion":"7"}})");
  auto object = h.client->get("/apis/x/v1/things/n1");
  ASSERT_TRUE(object) << object.error().toString();
  EXPECT_EQ((*object)["metadata"]["resourceVersion"], "7");
  ASSERT_EQ(h.transport->requests.size(), 1u);
  EXPECT_EQ(h.transport->requests[0].method, "GET");
  EXPECT_EQ(h.transport->requests[0].timeout, std::chrono::milliseconds(1234));
  EXPECT_EQ(header(h.transport->requests[0], "Authorization"), "Bearer secret");
}

TEST(ClientTest, StatusCodesMapToErrorsWithTheServerMessage) {
  struct Row {
    long status;
    std::string body;
    ErrorCode code;
  };
  const Row rows[] = {
      {404, R"({"kind":"Status","message":"things \"n1\" not found","reason":"NotFound"})", ErrorCode::NotFound},
      {409, R"({"kind":"Status","message":"the object has been modified","reason":"Conflict"})", ErrorCode::Aborted},
      {409, R"({"kind":"Status","message":"already exists","reason":"AlreadyExists"})", ErrorCode::AlreadyExists},
      {403, R"({"message":"forbidden"})", ErrorCode::PermissionDenied},
      {401, "Unauthorized", ErrorCode::Unauthenticated},
      {422, R"({"message":"zones: Required value"})", ErrorCode::InvalidArgument},
      {410, R"({"message":"too old resource version"})", ErrorCode::OutOfRange},
  };
  for (const Row& row : rows) {
    ClientHarness h({}, noRateLimit());
    h.transport->reply(row.status, row.body);
    auto object = h.client->get("/p");
    ASSERT_FALSE(object);
    EXPECT_EQ(object.error().code(), row.code) << row.status << " " << object.error().toString();
    EXPECT_NE(object.error().message().find("HTTP " + std::to_string(row.status)), std::string::npos);
    EXPECT_EQ(h.transport->requests.size(), 1u) << "a 4xx is not retried: " << row.status;
  }
}

TEST(ClientTest, RetriesConnectionErrorsAnd5xxWithGrowingJitteredBackoff) {
  ClientOptions options = noRateLimit();
  options.retry = {.max_attempts = 4,
                   .initial_backoff = std::chrono::milliseconds(100),
                   .max_backoff = std::chrono::seconds(10),
                   .jitter = 0.2};
  ClientHarness h({}, options);
  h.transport->fail(Error::unavailable("connection refused"));
  h.transport->reply(503, R"({"message":"etcd unavailable"})");
  h.transport->fail(Error{ErrorCode::DeadlineExceeded, "timeout"});
  h.transport->reply(200, R"({"ok":true})");
  auto object = h.client->get("/p");
  ASSERT_TRUE(object) << object.error().toString();
  ASSERT_EQ(h.waits.size(), 3u);
  const double expected[] = {100, 200, 400};
  for (std::size_t i = 0; i < 3; ++i) {
    double ms = std::chrono::duration<double, std::milli>(h.waits[i]).count();
    EXPECT_GE(ms, expected[i] * 0.8) << i;
    EXPECT_LE(ms, expected[i] * 1.2) << i;
  }
}

TEST(ClientTest, GivesUpAfterMaxAttemptsWithTheLastError) {
  ClientOptions options = noRateLimit();
  options.retry.max_attempts = 2;
  ClientHarness h({}, options);
  h.transport->reply(500, R"({"message":"boom"})");
  h.transport->reply(502, "bad gateway");
  auto object = h.client->get("/p");
  ASSERT_FALSE(object);
  EXPECT_EQ(object.error().code(), ErrorCode::Unavailable);
  EXPECT_NE(object.error().message().find("HTTP 502"), std::string::npos);
  EXPECT_EQ(h.transport->requests.size(), 2u);
  EXPECT_EQ(h.waits.size(), 1u);
}

TEST(ClientTest, HonoursRetryAfterOn429) {
  ClientHarness h({}, noRateLimit());
  h.transport->reply(429, R"({"message":"too many requests"})", {{"retry-after", "3"}});
  h.transport->reply(200, "{}");
  ASSERT_TRUE(h.client->get("/p"));
  ASSERT_EQ(h.waits.size(), 1u);
  EXPECT_EQ(h.waits[0], std::chrono::seconds(3));
}

TEST(ClientTest, ParseRetryAfterAcceptsOnlySeconds) {
  EXPECT_EQ(parseRetryAfter("5"), Clock::Duration(std::chrono::seconds(5)));
  EXPECT_FALSE(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_FALSE(parseRetryAfter(""));
  EXPECT_FALSE(parseRetryAfter("99999999999"));
}

TEST(ClientTest, BadJsonBodyIsAnErrorNotACrash) {
  ClientHarness h({}, noRateLimit());
  h.transport->reply(200, "<html>proxy</html>");
  auto object = h.client->get("/p");
  ASSERT_FALSE(object);
  EXPECT_EQ(object.error().code(), ErrorCode::Internal);
}

TEST(ClientTest, RateLimitWaitsOnceTheBurstIsSpent) {
  ClientOptions options;
  options.qps = 2;
  options.burst = 2;
  ClientHarness h({}, options);
  for (int i = 0; i < 4; ++i) h.transport->reply(200, "{}");
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(h.client->get("/p"));
  // Two go at once; the third waits half a second (2 per second), the fourth another half.
  ASSERT_EQ(h.waits.size(), 2u);
  EXPECT_NEAR(std::chrono::duration<double>(h.waits[0]).count(), 0.5, 1e-6);
  EXPECT_NEAR(std::chrono::duration<double>(h.waits[1]).count(), 0.5, 1e-6);
}

TEST(ClientTest, TokenFileIsReReadWhenItRotates) {
  char dir_template[] = "/tmp/topod-kube-token-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string file = std::string(dir_template) + "/token";
  std::ofstream(file) << "first\n";
  ClientHarness h({.token_file = file}, noRateLimit());
  h.transport->reply(200, "{}");
  ASSERT_TRUE(h.client->get("/p"));
  EXPECT_EQ(header(h.transport->requests.back(), "Authorization"), "Bearer first");
  std::ofstream(file) << "second-token\n";  // another size: seen even within one mtime tick
  h.transport->reply(200, "{}");
  ASSERT_TRUE(h.client->get("/p"));
  EXPECT_EQ(header(h.transport->requests.back(), "Authorization"), "Bearer second-token");
  // A 401 re-reads the file once more and retries.
  h.transport->reply(401, "Unauthorized");
  h.transport->reply(200, "{}");
  ASSERT_TRUE(h.client->get("/p"));
  std::filesystem::remove_all(dir_template);
}

TEST(ClientTest, MergePatchAndApplyUseTheirContentTypes) {
  ClientHarness h({}, noRateLimit());
  h.transport->reply(200, "{}");
  h.transport->reply(200, "{}");
  ASSERT_TRUE(h.client->mergePatch("/p", {{"a", 1}}));
  ASSERT_TRUE(h.client->apply("/p", {{"a", 1}}, "topod", true));
  EXPECT_EQ(h.transport->requests[0].method, "PATCH");
  EXPECT_EQ(header(h.transport->requests[0], "Content-Type"), "application/merge-patch+json");
  EXPECT_EQ(header(h.transport->requests[1], "Content-Type"), "application/apply-patch+yaml");
  EXPECT_EQ(h.transport->requests[1].path, "/p?fieldManager=topod&force=true");
}

TEST(ClientTest, ListFollowsContinueTokens) {
  ClientHarness h({}, noRateLimit());
  h.transport->reply(200, R"({"metadata":{"resourceVersion":"5","continue":"abc="},"items":[{"n":1}]})");
  h.transport->reply(200, R"({"metadata":{"resourceVersion":"6"},"items":[{"n":2}]})");
  auto list = h.client->list("/apis/x/v1/things");
  ASSERT_TRUE(list) << list.error().toString();
  EXPECT_EQ(list->items.size(), 2u);
  EXPECT_EQ(list->resource_version, "6");
  EXPECT_EQ(h.transport->requests[1].path, "/apis/x/v1/things?limit=500&continue=abc%3D");
}

TEST(ClientTest, ListWithWrongTypesIsAnError) {
  ClientHarness h({}, noRateLimit());
  h.transport->reply(200, R"({"metadata":{"resourceVersion":5},"items":[]})");
  auto list = h.client->list("/apis/x/v1/things");
  ASSERT_FALSE(list);
}

TEST(ClientWatchTest, DeliversEventsAndFollowsBookmarks) {
  ClientHarness h({}, noRateLimit());
  h.transport->reply(200, R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"11"}}}
{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"15"}}}
{"type":"DELETED","object":{"metadata":{"name":"a","resourceVersion":"16"}}}
{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"20"}}}
)");
  std::vector<std::string> seen;
  auto next = h.client->watch("/apis/x/v1/things", "10", std::chrono::seconds(30), [&](const WatchEvent& e) {
    seen.push_back(e.type + " " + e.object["metadata"]["name"].get<std::string>());
    return true;
  });
  ASSERT_TRUE(next) << next.error().toString();
  EXPECT_EQ(*next, "20");
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED a", "DELETED a"}));
  EXPECT_EQ(h.transport->requests[0].path,
            "/apis/x/v1/things?watch=1&allowWatchBookmarks=true&resourceVersion=10&timeoutSeconds=30");
}

TEST(ClientWatchTest, GoneMeansRelist) {
  ClientHarness h({}, noRateLimit());
  h.transport->reply(200, R"({"type":"ERROR","object":{"kind":"Status","code":410,"message":"too old resource version"}}
)");
  auto next = h.client->watch("/p", "1", std::chrono::seconds(5), [](const WatchEvent&) { return true; });
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code(), ErrorCode::OutOfRange);
  h.transport->reply(410, R"({"message":"gone"})");
  next = h.client->watch("/p", "1", std::chrono::seconds(5), [](const WatchEvent&) { return true; });
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code(), ErrorCode::OutOfRange);
}

TEST(ClientWatchTest, GarbageEventIsAnError) {
  ClientHarness h({}, noRateLimit());
  h.transport->reply(200, "{\"type\":5}\n");
  auto next = h.client->watch("/p", "1", std::chrono::seconds(5), [](const WatchEvent&) { return true; });
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code(), ErrorCode::Internal);
}

TEST(CurlTransportTest, RefusesAConfigWithoutCa) {
  auto transport = makeCurlTransport({.server = "https://127.0.0.1:1"});
  ASSERT_FALSE(transport);
}

TEST(CurlTransportTest, ConnectionRefusedIsUnavailable) {
  // Port 1 on loopback: nothing listens there on a test machine.
  auto transport = makeCurlTransport({.server = "https://127.0.0.1:1", .ca_pem = "not a pem"});
  ASSERT_TRUE(transport);
  auto answer = (*transport)->send({.method = "GET", .path = "/", .timeout = std::chrono::milliseconds(2000)});
  ASSERT_FALSE(answer);
  EXPECT_TRUE(answer.error().code() == ErrorCode::Unavailable || answer.error().code() == ErrorCode::FailedPrecondition)
      << answer.error().toString();
}

}  // namespace
}  // namespace topod::kube
