#include "kube/publisher.h"

#include <gtest/gtest.h>

#include <thread>

#include "kube/nrt_object.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_client.h"

namespace topod::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kPath = nrtPath("worker-1");

// A publisher over the fake server whose desired object carries `value` as an attribute.
struct PublisherHarness {
  explicit PublisherHarness(Clock::Duration min_interval = seconds(1)) {
    PublisherOptions options;
    options.node_name = "worker-1";
    options.min_interval = min_interval;
    options.resync_interval = seconds(60);
    publisher = std::make_unique<NrtPublisher>(
        server, options, clock,
        [this]() -> Result<nlohmann::json> {
          ++builds;
          NrtAttributes attributes;
          attributes.pods_fingerprint = "pfp0v001" + std::to_string(value);
          return nrtObject("worker-1", {}, attributes);
        },
        [this](bool ok, const std::string& message) { reports.emplace_back(ok, message); });
  }
  std::string published() const {
    auto object = server.object(kPath);
    if (!object) return "<none>";
    for (const auto& attribute : (*object)["attributes"]) {
      if (attribute["name"] == "nodeTopologyPodsFingerprint") return attribute["value"];
    }
    return "<no attribute>";
  }
  std::string want() const { return "pfp0v001" + std::to_string(value); }

  testing::FakeClock clock;
  testing::FakeObjectClient server;
  int value = 0;
  int builds = 0;
  std::vector<std::pair<bool, std::string>> reports;
  std::unique_ptr<NrtPublisher> publisher;
};

TEST(NrtPublisherTest, CreatesWhenMissingThenUpdatesOnChange) {
  PublisherHarness h;
  h.publisher->runOnce();
  EXPECT_EQ(h.server.takeLog(), (std::vector<std::string>{"GET " + kPath, "POST " + kPath}));
  EXPECT_EQ(h.published(), h.want());
  h.value = 1;
  h.publisher->markChanged();
  h.clock.advance(seconds(1));
  h.publisher->runOnce();
  EXPECT_EQ(h.server.takeLog(), (std::vector<std::string>{"PUT " + kPath}));
  EXPECT_EQ(h.published(), h.want());
  EXPECT_EQ(h.publisher->stats().writes, 2u);
  EXPECT_EQ(h.publisher->stats().creates, 1u);
}

TEST(NrtPublisherTest, ChangesWithinTheIntervalCoalesceIntoOneWrite) {
  PublisherHarness h;
  h.publisher->runOnce();
  h.server.takeLog();
  h.clock.advance(milliseconds(1500));
  h.value = 1;
  h.publisher->markChanged();
  h.publisher->runOnce();  // first change after a quiet second: written at once
  EXPECT_EQ(h.server.takeLog().size(), 1u);
  for (int i = 2; i <= 10; ++i) {
    h.clock.advance(milliseconds(50));
    h.value = i;
    h.publisher->markChanged();
    auto next = h.publisher->runOnce();
    EXPECT_TRUE(h.server.takeLog().empty()) << "write " << i << " inside the interval";
    EXPECT_GT(next, h.clock.now());
  }
  h.clock.advance(milliseconds(550));  // one second after the last write
  h.publisher->runOnce();
  EXPECT_EQ(h.server.takeLog(), (std::vector<std::string>{"PUT " + kPath}));
  EXPECT_EQ(h.published(), "pfp0v00110");  // the latest state, not a queue of old ones
}

TEST(NrtPublisherTest, NothingToDoMeansNoRequest) {
  PublisherHarness h;
  h.publisher->runOnce();
  h.server.takeLog();
  h.clock.advance(seconds(5));
  h.publisher->markChanged();  // a change that does not change the object
  h.publisher->runOnce();
  EXPECT_TRUE(h.server.takeLog().empty());
}

TEST(NrtPublisherTest, ConflictRereadsAndRetries) {
  PublisherHarness h;
  h.publisher->runOnce();
  // Someone else writes the object: our resourceVersion is stale.
  auto theirs = *h.server.object(kPath);
  theirs["attributes"] = nlohmann::json::array();
  h.server.putBehindBack(kPath, theirs);
  h.server.takeLog();
  h.value = 1;
  h.publisher->markChanged();
  h.clock.advance(seconds(2));
  h.publisher->runOnce();
  EXPECT_EQ(h.server.takeLog(), (std::vector<std::string>{"PUT " + kPath, "GET " + kPath, "PUT " + kPath}));
  EXPECT_EQ(h.published(), h.want());
  EXPECT_EQ(h.publisher->stats().conflicts, 1u);
}

TEST(NrtPublisherTest, DeletedBySomeoneElseIsRecreated) {
  PublisherHarness h;
  h.publisher->runOnce();
  h.server.deleteBehindBack(kPath);
  h.server.takeLog();
  // On the next change: PUT -> 404 -> create.
  h.value = 1;
  h.publisher->markChanged();
  h.clock.advance(seconds(2));
  h.publisher->runOnce();
  EXPECT_EQ(h.server.takeLog(), (std::vector<std::string>{"PUT " + kPath, "GET " + kPath, "POST " + kPath}));
  EXPECT_EQ(h.published(), h.want());
  // Without a change, the periodic resync finds it.
  h.server.deleteBehindBack(kPath);
  h.clock.advance(seconds(61));
  h.publisher->runOnce();
  EXPECT_EQ(h.published(), h.want());
}

TEST(NrtPublisherTest, ResyncRepairsAnEditBySomeoneElse) {
  PublisherHarness h;
  h.publisher->runOnce();
  auto theirs = *h.server.object(kPath);
  theirs["zones"] = nlohmann::json::array({{{"name", "bogus"}, {"type", "Node"}}});
  h.server.putBehindBack(kPath, theirs);
  h.server.takeLog();
  h.clock.advance(seconds(30));
  h.publisher->runOnce();
  EXPECT_TRUE(h.server.takeLog().empty()) << "not yet due";
  h.clock.advance(seconds(31));
  h.publisher->runOnce();
  EXPECT_EQ(h.server.takeLog(), (std::vector<std::string>{"GET " + kPath, "PUT " + kPath}));
  EXPECT_EQ(h.server.object(kPath)->at("zones"), nlohmann::json::array());
}

TEST(NrtPublisherTest, ServerDownRetriesWithBackoffAndConverges) {
  PublisherHarness h;
  h.server.failAlways(Error::unavailable("connection refused"));
  Clock::TimePoint next = h.publisher->runOnce();
  ASSERT_EQ(h.reports.size(), 1u);
  EXPECT_FALSE(h.reports[0].first);
  EXPECT_NE(h.reports[0].second.find("connection refused"), std::string::npos) << h.reports[0].second;
  EXPECT_NE(h.reports[0].second.find("retrying in"), std::string::npos);
  // Drive it from wake-up to wake-up; the gaps between failed tries grow (factor 2, jitter 20 %,
  // never under min_interval).
  std::vector<Clock::TimePoint> failed_at = {h.clock.now()};
  for (int i = 0; i < 12 && failed_at.size() < 6; ++i) {
    // Changes meanwhile do not make it retry sooner, nor queue anything.
    h.value = 10 + i;
    h.publisher->markChanged();
    EXPECT_EQ(h.publisher->runOnce(), next) << "waits for its retry time";
    h.clock.advance(next - h.clock.now());
    uint64_t failures = h.publisher->stats().failures;
    next = h.publisher->runOnce();
    if (h.publisher->stats().failures > failures) failed_at.push_back(h.clock.now());
  }
  ASSERT_EQ(failed_at.size(), 6u);
  for (std::size_t i = 2; i < failed_at.size(); ++i) {
    EXPECT_GE(failed_at[i] - failed_at[i - 1], failed_at[i - 1] - failed_at[i - 2]) << i;
  }
  EXPECT_GE(failed_at[5] - failed_at[4], std::chrono::seconds(6)) << "0.5 s * 2^4, less 20 %";
  EXPECT_EQ(h.publisher->stats().healthy, false);
  h.server.failAlways(std::nullopt);
  h.clock.advance(next - h.clock.now());
  h.publisher->runOnce();
  EXPECT_EQ(h.published(), h.want());
  EXPECT_TRUE(h.publisher->stats().healthy);
  EXPECT_TRUE(h.reports.back().first) << "recovery is reported";
  // Only the latest desired object was ever built: one build per run, none queued.
  EXPECT_LE(h.builds, 7);
}

TEST(NrtPublisherTest, PermissionErrorsAreReportedAndRetriedLater) {
  PublisherHarness h;
  h.server.failNext(Error{ErrorCode::PermissionDenied, "forbidden"});
  h.publisher->runOnce();
  EXPECT_EQ(h.publisher->stats().failures, 1u);
  ASSERT_FALSE(h.reports.empty());
  EXPECT_NE(h.reports[0].second.find("PERMISSION_DENIED"), std::string::npos);
}

TEST(NrtPublisherTest, WorkerThreadPublishesAndStops) {
  // The real thread with the real clock: a change is published well within a second.
  SteadyClock clock;
  testing::FakeObjectClient server;
  std::atomic<int> value{0};
  PublisherOptions options;
  options.node_name = "worker-1";
  options.min_interval = milliseconds(10);
  NrtPublisher publisher(
      server, options, clock,
      [&]() -> Result<nlohmann::json> {
        NrtAttributes attributes;
        attributes.pods_fingerprint = std::to_string(value.load());
        return nrtObject("worker-1", {}, attributes);
      },
      nullptr);
  publisher.start();
  value = 42;
  publisher.markChanged();
  bool seen = server.waitFor(
      kPath,
      [](const nlohmann::json& object) {
        return object.value("attributes", nlohmann::json()).dump().find("\"42\"") != std::string::npos;
      },
      std::chrono::seconds(5));
  publisher.stop();
  EXPECT_TRUE(seen);
}

// What a watch reports reaches the publisher through observe(); these drive it by hand.
TEST(NrtPublisherTest, ObservedEditBySomeoneElseIsCorrectedFromTheWatchedObject) {
  PublisherHarness h;
  h.publisher->runOnce();
  h.server.takeLog();
  h.clock.advance(milliseconds(300));
  auto edited = *h.server.object(kPath);
  edited["attributes"] = nlohmann::json::array();
  h.server.putBehindBack(kPath, edited);
  h.publisher->observe(h.server.object(kPath));
  // Within the interval since the last write: it waits for the interval, then writes.
  auto next = h.publisher->runOnce();
  EXPECT_EQ(next, h.clock.now() + milliseconds(700));
  EXPECT_TRUE(h.server.takeLog().empty());
  h.clock.advance(milliseconds(700));
  h.publisher->runOnce();
  // The watched object carries the resourceVersion: a PUT at once, no GET first.
  EXPECT_EQ(h.server.takeLog(), (std::vector<std::string>{"PUT " + kPath}));
  EXPECT_EQ(h.published(), h.want());
  EXPECT_EQ(h.publisher->stats().foreign_changes, 1u);
}

TEST(NrtPublisherTest, ObservedEchoOfOwnWriteIsIgnored) {
  PublisherHarness h;
  h.publisher->runOnce();
  h.server.takeLog();
  h.clock.advance(seconds(2));
  h.publisher->observe(h.server.object(kPath));
  h.publisher->runOnce();
  EXPECT_TRUE(h.server.takeLog().empty());
  EXPECT_EQ(h.publisher->stats().foreign_changes, 0u);
  EXPECT_EQ(h.builds, 1) << "an echo does not even rebuild the object";
}

TEST(NrtPublisherTest, ObservedDeletionIsRecreatedWithinTheInterval) {
  PublisherHarness h;
  h.publisher->runOnce();
  h.server.takeLog();
  h.clock.advance(seconds(2));
  h.server.deleteBehindBack(kPath);
  h.publisher->observe(std::nullopt);
  h.publisher->runOnce();
  EXPECT_EQ(h.server.takeLog(), (std::vector<std::string>{"GET " + kPath, "POST " + kPath}));
  EXPECT_EQ(h.published(), h.want());
  EXPECT_EQ(h.publisher->stats().foreign_changes, 1u);
}

TEST(NrtPublisherTest, ObservedOldEchoAfterANewerWriteStillConverges) {
  PublisherHarness h;
  h.publisher->runOnce();
  auto first = *h.server.object(kPath);
  h.clock.advance(seconds(2));
  h.value = 1;
  h.publisher->markChanged();
  h.publisher->runOnce();
  h.server.takeLog();
  // The watch lags: the echo of the first write arrives after the second write.
  h.publisher->observe(first);
  h.value = 2;
  h.clock.advance(seconds(2));
  h.publisher->runOnce();
  EXPECT_EQ(h.server.takeLog(), (std::vector<std::string>{"PUT " + kPath, "GET " + kPath, "PUT " + kPath}));
  EXPECT_EQ(h.published(), h.want());
}

// The whole loop on the fake server: the publisher's thread and its watch's thread, with the
// fake clock (no resync falls due; only the watch can notice). No interval, so that the test
// needs no clock steps (the interval is covered above).
TEST(NrtPublisherTest, WatchCorrectsEditsAndDeletionsBySomeoneElseWithoutAResync) {
  PublisherHarness h(Clock::Duration::zero());
  h.publisher->runOnce();
  nlohmann::json start = *h.server.object(kPath);
  h.publisher = std::make_unique<NrtPublisher>(  // a fresh start on an up-to-date object
      h.server, PublisherOptions{.node_name = "worker-1", .min_interval = Clock::Duration::zero()}, h.clock,
      [&]() -> Result<nlohmann::json> {
        NrtAttributes attributes;
        attributes.pods_fingerprint = h.want();
        return nrtObject("worker-1", {}, attributes);
      },
      nullptr);
  h.publisher->runOnce();  // reads the object: nothing to write
  h.publisher->watchWith(h.server);
  h.publisher->start();
  for (int i = 0; i < 1000000 && h.publisher->watchStats().lists == 0; ++i) std::this_thread::yield();
  auto wanted = [&](const nlohmann::json& object) {
    return object.value("attributes", nlohmann::json()).dump().find(h.want()) != std::string::npos;
  };
  auto edited = start;
  edited["attributes"] = nlohmann::json::array();
  h.server.putBehindBack(kPath, edited);
  EXPECT_TRUE(h.server.waitFor(kPath, wanted, seconds(10)));
  h.server.deleteBehindBack(kPath);
  EXPECT_TRUE(h.server.waitFor(kPath, wanted, seconds(10)));
  h.publisher->stop();
  EXPECT_EQ(h.publisher->stats().foreign_changes, 2u);
  EXPECT_EQ(h.publisher->stats().writes, 2u);  // the correction and the re-creation
  EXPECT_EQ(h.publisher->watchStats().lists, 1u);
  EXPECT_GE(h.publisher->watchStats().events, 4u);  // create, edit, correction, delete, re-create
}

}  // namespace
}  // namespace topod::kube
