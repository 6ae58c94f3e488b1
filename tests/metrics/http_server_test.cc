// The metrics server on 127.0.0.1 with a port the kernel picks, scraped over real HTTP with libcurl.
#include "metrics/http_server.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "metrics/registry.h"

namespace topod::metrics {
namespace {

struct Reply {
  long status = 0;
  std::string body;
  std::string content_type;
  std::string headers;
  bool ok = false;
};

size_t appendTo(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

Reply fetch(const std::string& url, const char* method = "GET") {
  Reply reply;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return reply;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  if (std::string(method) == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendTo);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, appendTo);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  reply.ok = curl_easy_perform(curl) == CURLE_OK;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  char* type = nullptr;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
  if (type != nullptr) reply.content_type = type;
  curl_easy_cleanup(curl);
  return reply;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.counter("topod_scrapes_total", "Scrapes.").inc(7);
    auto server = HttpServer::start(ListenAddress{.host = "127.0.0.1", .ipv6 = false, .port = 0},
                                    HttpHandlers{.metrics = [this] { return registry_.render(); },
                                                 .health =
                                                     [this] {
                                                       std::lock_guard lock(mutex_);
                                                       return health_problem_;
                                                     }});
    ASSERT_TRUE(server.has_value()) << server.error().toString();
    server_ = std::move(*server);
    ASSERT_NE(server_->address().port, 0);
    base_ = "http://127.0.0.1:" + std::to_string(server_->address().port);
  }

  Registry registry_;
  void setHealthProblem(std::string problem) {
    std::lock_guard lock(mutex_);
    health_problem_ = std::move(problem);
  }

  std::mutex mutex_;
  std::string health_problem_;  // read on the server's thread
  std::unique_ptr<HttpServer> server_;
  std::string base_;
};

TEST_F(HttpServerTest, ServesMetrics) {
  Reply reply = fetch(base_ + "/metrics");
  ASSERT_TRUE(reply.ok);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(reply.body, registry_.render());
  EXPECT_NE(reply.body.find("topod_scrapes_total 7\n"), std::string::npos);
}

TEST_F(HttpServerTest, HealthzSaysOkOrWhyNot) {
  Reply ok = fetch(base_ + "/healthz");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "ok\n");
  setHealthProblem("state: the journal refuses writes");
  Reply bad = fetch(base_ + "/healthz");
  EXPECT_EQ(bad.status, 503);
  EXPECT_EQ(bad.body, "state: the journal refuses writes\n");
}

TEST_F(HttpServerTest, UnknownPathIs404AndOtherMethods405) {
  EXPECT_EQ(fetch(base_ + "/").status, 404);
  EXPECT_EQ(fetch(base_ + "/metrics/x").status, 404);
  Reply post = fetch(base_ + "/metrics", "POST");
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(post.headers.find("Allow: GET, HEAD"), std::string::npos) << post.headers;
  EXPECT_EQ(fetch(base_ + "/healthz", "DELETE").status, 405);
  Reply head = fetch(base_ + "/metrics", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

TEST_F(HttpServerTest, ConcurrentScrapesAllGetTheWholeText) {
  constexpr int kClients = 8;
  constexpr int kScrapesEach = 25;
  const std::string expected = registry_.render();
  std::atomic<int> good{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < kScrapesEach; ++i) {
        Reply reply = fetch(base_ + "/metrics");
        if (reply.ok && reply.status == 200 && reply.body == expected) ++good;
      }
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_EQ(good.load(), kClients * kScrapesEach);
}

TEST_F(HttpServerTest, AnAddressInUseIsAnErrorNotACrash) {
  auto second = HttpServer::start(server_->address(), HttpHandlers{.metrics = [] { return std::string(); },
                                                                   .health = [] { return std::string(); }});
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message().find("listening on 127.0.0.1:"), std::string::npos) << second.error().message();
  EXPECT_EQ(second.error().reason(), "bind");
}

TEST(HttpServerStartTest, RefusesMissingHandlers) {
  auto server = HttpServer::start(ListenAddress{.host = "127.0.0.1", .ipv6 = false, .port = 0}, HttpHandlers{});
  EXPECT_FALSE(server.has_value());
}

TEST(HttpServerStartTest, StoppingClosesTheListeningSocket) {
  ListenAddress bound;
  {
    auto server = HttpServer::start(
        ListenAddress{.host = "127.0.0.1", .ipv6 = false, .port = 0},
        HttpHandlers{.metrics = [] { return std::string("x"); }, .health = [] { return std::string(); }});
    ASSERT_TRUE(server.has_value());
    bound = (*server)->address();
  }
  // The same port is free again at once.
  auto again = HttpServer::start(
      bound, HttpHandlers{.metrics = [] { return std::string("x"); }, .health = [] { return std::string(); }});
  ASSERT_TRUE(again.has_value()) << again.error().toString();
  EXPECT_FALSE(fetch("http://127.0.0.1:" + std::to_string(bound.port) + "/nothing").body.empty());
}

}  // namespace
}  // namespace topod::metrics
