#include "kube/object_watch.h"

#include <gtest/gtest.h>

#include <thread>

#include "kube/nrt_object.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_client.h"

namespace topod::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kCollection = "/apis/x/v1/things";

nlohmann::json thing(const std::string& name, int value) {
  return {{"metadata", {{"name", name}}}, {"value", value}};
}

// What the callbacks saw, with a wait for the watch thread (the real-time bound only turns a
// hang into a failure).
struct Seen {
  void list(const nlohmann::json& items) {
    std::lock_guard lock(mutex);
    lists.push_back(items);
    cv.notify_all();
  }
  void event(const WatchEvent& event) {
    std::lock_guard lock(mutex);
    events.push_back(event.type + " " + event.object["metadata"].value("name", "") + " " +
                     std::to_string(event.object.value("value", -1)));
    cv.notify_all();
  }
  bool waitFor(const std::function<bool()>& ready) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, seconds(10), ready);
  }
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<nlohmann::json> lists;
  std::vector<std::string> events;
};

struct WatchHarness {
  explicit WatchHarness(std::string field_selector) {
    ObjectWatchOptions options;
    options.collection = kCollection;
    options.field_selector = std::move(field_selector);
    options.retry.initial_backoff = seconds(1);
    watch = std::make_unique<ObjectWatch>(
        server, options, clock, [this](const nlohmann::json& items) { seen.list(items); },
        [this](const WatchEvent& event) { seen.event(event); },
        [this](bool ok, const std::string& message) {
          std::lock_guard lock(seen.mutex);
          reports.emplace_back(ok, message);
          seen.cv.notify_all();
        });
  }
  testing::FakeClock clock;
  testing::FakeObjectClient server;
  Seen seen;
  std::vector<std::pair<bool, std::string>> reports;
  std::unique_ptr<ObjectWatch> watch;
};

TEST(ObjectWatchTest, ListsThenWatchesOnlyTheSelectedObject) {
  WatchHarness h("metadata.name=a");
  h.server.putBehindBack(kCollection + "/a", thing("a", 1));
  h.server.putBehindBack(kCollection + "/b", thing("b", 1));
  h.watch->start();
  ASSERT_TRUE(h.seen.waitFor([&] { return h.seen.lists.size() == 1; }));
  EXPECT_EQ(h.seen.lists[0].size(), 1u);
  EXPECT_EQ(h.seen.lists[0][0]["metadata"]["name"], "a");
  h.server.putBehindBack(kCollection + "/b", thing("b", 2));
  h.server.putBehindBack(kCollection + "/a", thing("a", 2));
  h.server.deleteBehindBack(kCollection + "/a");
  h.server.putBehindBack(kCollection + "/a", thing("a", 3));
  ASSERT_TRUE(h.seen.waitFor([&] { return h.seen.events.size() == 3; }));
  h.watch->stop();
  EXPECT_EQ(h.seen.events, (std::vector<std::string>{"MODIFIED a 2", "DELETED a 2", "ADDED a 3"}));
  EXPECT_EQ(h.watch->stats().lists, 1u);
  EXPECT_EQ(h.watch->stats().events, 3u);
}

TEST(ObjectWatchTest, WatchesAgainFromTheLastVersionWhenTheServerEndsAWatch) {
  WatchHarness h("metadata.name=a");
  h.watch->start();
  ASSERT_TRUE(h.seen.waitFor([&] { return h.seen.lists.size() == 1; }));
  h.server.putBehindBack(kCollection + "/a", thing("a", 1));
  ASSERT_TRUE(h.seen.waitFor([&] { return h.seen.events.size() == 1; }));
  h.server.endWatches();
  for (int i = 0; i < 1000000 && h.watch->stats().watches == 0; ++i) std::this_thread::yield();
  h.server.putBehindBack(kCollection + "/a", thing("a", 2));
  ASSERT_TRUE(h.seen.waitFor([&] { return h.seen.events.size() == 2; }));
  h.watch->stop();
  EXPECT_EQ(h.seen.events, (std::vector<std::string>{"ADDED a 1", "MODIFIED a 2"}));
  EXPECT_EQ(h.watch->stats().lists, 1u) << "a watch that ended is resumed, not relisted";
  // No event is delivered twice: the second watch started from the first one's last version.
  auto log = h.server.takeLog();
  ASSERT_GE(log.size(), 3u);
  EXPECT_EQ(log[0], "LIST " + kCollection + " metadata.name=a");
  EXPECT_EQ(log[1], "WATCH " + kCollection + " metadata.name=a from 100");
  EXPECT_EQ(log[2], "WATCH " + kCollection + " metadata.name=a from 101");
}

TEST(ObjectWatchTest, GoneMeansListAgain) {
  WatchHarness h("metadata.name=a");
  h.server.putBehindBack(kCollection + "/a", thing("a", 1));
  h.watch->start();
  ASSERT_TRUE(h.seen.waitFor([&] { return h.seen.lists.size() == 1; }));
  // A write to another object moves the server's version on; compaction then drops the version
  // the watch is at: 410 Gone, and the state since is only known from a new list.
  h.server.putBehindBack(kCollection + "/b", thing("b", 1));
  h.server.compactHistory();
  ASSERT_TRUE(h.seen.waitFor([&] { return h.seen.lists.size() == 2; }));
  h.server.putBehindBack(kCollection + "/a", thing("a", 2));
  ASSERT_TRUE(h.seen.waitFor([&] { return h.seen.events.size() == 1; }));
  h.watch->stop();
  EXPECT_EQ(h.seen.lists[1][0]["value"], 1);
  EXPECT_EQ(h.seen.events[0], "MODIFIED a 2") << "the watch after the relist goes on from the new list";
  EXPECT_EQ(h.watch->stats().relists, 1u);
  EXPECT_TRUE(h.reports.empty()) << "410 is routine, not a failure";
}

TEST(ObjectWatchTest, FailuresBackOffOnTheClockAndRecover) {
  WatchHarness h("metadata.name=a");
  h.server.failNext(Error::unavailable("connection refused"), 2);
  h.watch->start();
  // First failure: waits about 1 s (the initial backoff, +-20 %), second about 2 s.
  ASSERT_TRUE(h.clock.awaitWaiting(1));
  h.clock.advance(milliseconds(1250));
  ASSERT_TRUE(h.clock.awaitWaiting(1));
  EXPECT_TRUE(h.seen.lists.empty());
  h.clock.advance(milliseconds(2500));
  ASSERT_TRUE(h.seen.waitFor([&] { return h.seen.lists.size() == 1; }));
  h.server.putBehindBack(kCollection + "/a", thing("a", 1));
  ASSERT_TRUE(h.seen.waitFor([&] { return h.seen.events.size() == 1; }));
  h.server.endWatches();  // the first watch that ends normally reports the recovery
  ASSERT_TRUE(h.seen.waitFor([&] { return !h.reports.empty() && h.reports.back().first; }));
  h.watch->stop();
  auto stats = h.watch->stats();
  EXPECT_EQ(stats.failures, 2u);
  ASSERT_EQ(h.reports.size(), 3u);
  EXPECT_NE(h.reports[0].second.find("listing /apis/x/v1/things failed (1 in a row): UNAVAILABLE"), std::string::npos)
      << h.reports[0].second;
  EXPECT_NE(h.reports[1].second.find("(2 in a row)"), std::string::npos);
}

TEST(ObjectWatchTest, StopEndsAWaitingWatchPromptly) {
  WatchHarness h("metadata.name=a");
  h.watch->start();
  ASSERT_TRUE(h.seen.waitFor([&] { return h.seen.lists.size() == 1; }));
  auto before = std::chrono::steady_clock::now();
  h.watch->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, seconds(2));
}

}  // namespace
}  // namespace topod::kube
