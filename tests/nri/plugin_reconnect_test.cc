// How nri::Plugin waits between connection attempts when it has a SocketWatcher (issue 14, fast
// reconnect): a missing socket is waited for and connected to the moment it appears; a socket
// that refuses connections is retried with backoff, cut short when the socket is re-created.
// Time is the FakeClock's and the socket's appearance is the FakeSocketWatcher's: no sleeps.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "nri/plugin.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_socket_watcher.h"
#include "tests/nri/plugin_test_support.h"

namespace topod::nri {
namespace {

using testing::FakeSocketWatcher;
using testing::PluginTest;
using testing::RawRuntime;
using ::topod::testing::FakeClock;
using namespace std::chrono_literals;

Error missing() {
  return Error(ErrorCode::Unavailable, "connecting to NRI socket /run/nri/nri.sock: No such file or directory", ENOENT);
}
Error refused() {
  return Error(ErrorCode::Unavailable, "connecting to NRI socket /run/nri/nri.sock: Connection refused", ECONNREFUSED);
}

class PluginReconnectTest : public PluginTest {
 protected:
  PluginOptions watched() {
    PluginOptions out = options();  // backoff 10 ms doubling, at most 50 ms
    out.clock = &clock_;
    out.socket_watcher = &watcher_;
    return out;
  }
  // The plugin failed attempt `attempt` and now waits on the clock. (A wait the watcher ended
  // leaves the clock's waiter list only when the plugin thread runs, before its next attempt:
  // so the attempt count must have moved too, not just a waiter be there.)
  void expectWaitingAfter(int attempt) {
    const auto bound = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (connector_.attempts() < attempt || clock_.waitingCount() < 1) {
      ASSERT_LT(std::chrono::steady_clock::now(), bound) << "the plugin never waited after attempt " << attempt;
      std::this_thread::yield();
    }
    EXPECT_EQ(connector_.attempts(), attempt);
  }

  FakeClock clock_;
  FakeSocketWatcher watcher_;
};

TEST_F(PluginReconnectTest, MissingSocketIsConnectedTheMomentItAppears) {
  connector_.failNextConnect(missing());
  Plugin plugin(watched(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  expectWaitingAfter(1);
  clock_.advance(49ms);  // under the 50 ms safety re-check: nothing but the socket may wake it
  EXPECT_EQ(connector_.attempts(), 1);
  EXPECT_EQ(clock_.waitingCount(), 1U);
  ASSERT_TRUE(watcher_.appear());
  RawRuntime runtime(connector_.waitForPeer());
  ASSERT_TRUE(runtime.handshake());
  EXPECT_EQ(connector_.attempts(), 2) << "one attempt right when the socket appeared";
  EXPECT_EQ(plugin.stats().socket_appeared, 1U);
  ASSERT_FALSE(errors().empty());
  EXPECT_NE(errors()[0].message().find("reconnecting when the socket appears"), std::string::npos)
      << errors()[0].toString();
  plugin.stop();
  EXPECT_EQ(watcher_.stops(), 1) << "the plugin stops its watcher";
  EXPECT_FALSE(watcher_.appear());
}

// Waiting for a missing socket does not grow the backoff: it is re-checked every backoff_max (in
// case an event was lost), and the first refusal after it waits only backoff_initial.
TEST_F(PluginReconnectTest, MissingSocketIsRecheckedWithoutGrowingTheBackoff) {
  connector_.failNextConnect(missing());
  connector_.failNextConnect(missing());
  connector_.failNextConnect(refused());
  Plugin plugin(watched(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  expectWaitingAfter(1);
  clock_.advance(50ms);
  expectWaitingAfter(2);
  clock_.advance(50ms);
  expectWaitingAfter(3);  // refused: backoff from here
  clock_.advance(9ms);
  EXPECT_EQ(connector_.attempts(), 3) << "the refusal's backoff is backoff_initial, 10 ms";
  clock_.advance(1ms);
  RawRuntime runtime(connector_.waitForPeer());
  ASSERT_TRUE(runtime.handshake());
  EXPECT_EQ(connector_.attempts(), 4);
  plugin.stop();
}

// A stale socket (the runtime stopped, its socket file still there) refuses: backoff, doubling.
// The runtime's restart re-creates the socket, which ends the wait at once and resets the backoff.
TEST_F(PluginReconnectTest, RefusedSocketBacksOffUntilTheSocketIsRecreated) {
  for (int i = 0; i < 4; ++i) connector_.failNextConnect(refused());
  Plugin plugin(watched(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  expectWaitingAfter(1);
  clock_.advance(10ms);
  expectWaitingAfter(2);
  clock_.advance(20ms);
  expectWaitingAfter(3);
  clock_.advance(39ms);  // within the third backoff (40 ms)
  EXPECT_EQ(connector_.attempts(), 3);
  ASSERT_TRUE(watcher_.appear());
  expectWaitingAfter(4);  // refused once more (listen() not yet called, say)
  clock_.advance(9ms);
  EXPECT_EQ(connector_.attempts(), 4) << "the backoff restarted at 10 ms";
  clock_.advance(1ms);
  RawRuntime runtime(connector_.waitForPeer());
  ASSERT_TRUE(runtime.handshake());
  EXPECT_EQ(plugin.stats().socket_appeared, 1U);
  plugin.stop();
}

// The runtime closes a live connection (it is restarting): the socket's re-creation ends the wait.
TEST_F(PluginReconnectTest, LostConnectionReconnectsWhenTheSocketIsRecreated) {
  Plugin plugin(watched(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  {
    RawRuntime runtime(connector_.waitForPeer());
    ASSERT_TRUE(runtime.handshake());
    ASSERT_TRUE(eventually([&] { return plugin.stats().synchronizations == 1; }));
  }  // the runtime's end closes
  expectWaitingAfter(1);
  ASSERT_TRUE(watcher_.appear());
  RawRuntime again(connector_.waitForPeer());
  ASSERT_TRUE(again.handshake());
  ASSERT_TRUE(eventually([&] { return plugin.stats().synchronizations == 2; }));
  EXPECT_EQ(connector_.attempts(), 2);
  plugin.stop();
}

TEST_F(PluginReconnectTest, WatcherThatFailsToStartLeavesBackoff) {
  watcher_.failStart(Error::resourceExhausted("inotify watch on /run/nri: No space left on device"));
  connector_.failNextConnect(missing());
  Plugin plugin(watched(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  expectWaitingAfter(1);
  clock_.advance(10ms);  // backoff_initial, not the watcher's 50 ms re-check
  RawRuntime runtime(connector_.waitForPeer());
  ASSERT_TRUE(runtime.handshake());
  ASSERT_FALSE(errors().empty());
  EXPECT_EQ(errors()[0].code(), ErrorCode::ResourceExhausted);
  EXPECT_NE(errors()[0].message().find("backoff only"), std::string::npos) << errors()[0].toString();
  EXPECT_FALSE(watcher_.appear()) << "nobody watches";
  plugin.stop();
}

}  // namespace
}  // namespace topod::nri
