// nri::Plugin over a socketpair (FakeNriConnector), with the test playing the runtime byte by
// byte: handshake order, unsolicited updates, reconnects and a launched plugin's end. Bad input
// is in plugin_bad_input_test.cc.
#include "nri/plugin.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/fakes/fake_clock.h"
#include "tests/nri/plugin_test_support.h"

namespace topod::nri {
namespace {

using testing::FakeNriConnector;
using testing::PluginTest;
using testing::RawRuntime;
using ::topod::testing::FakeClock;
using namespace std::chrono_literals;

TEST_F(PluginTest, HandshakeWithConfigureBeforeRegisterReply) {
  Plugin plugin(options(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  RawRuntime runtime(connector_.waitForPeer());
  pb::RegisterPluginRequest reg;
  const uint32_t reg_stream = runtime.expectRegister(&reg);
  EXPECT_EQ(reg_stream, 1u);
  EXPECT_EQ(reg.plugin_name(), "topod");
  EXPECT_EQ(reg.plugin_idx(), "42");

  // Configure arrives before the RegisterPlugin answer (docs/nri.md, "Registration order"): the
  // plugin must not block on it.
  pb::ConfigureRequest configure;
  configure.set_runtime_name("containerd");
  configure.set_runtime_version("v1.7.24");
  auto configured = runtime.call("Configure", configure);
  ASSERT_TRUE(configured.has_value());
  pb::ConfigureResponse mask;
  ASSERT_TRUE(mask.ParseFromString(configured->payload));
  EXPECT_EQ(mask.events(), 0x06AF);
  ASSERT_TRUE(runtime.respond(reg_stream, {}));

  pb::SynchronizeRequest sync;
  sync.add_pods()->set_id("p1");
  auto* c = sync.add_containers();
  c->set_id("c1");
  c->set_pod_sandbox_id("p1");
  auto synced = runtime.call("Synchronize", sync);
  ASSERT_TRUE(synced.has_value());
  pb::SynchronizeResponse sync_answer;
  ASSERT_TRUE(sync_answer.ParseFromString(synced->payload));
  EXPECT_EQ(sync_answer.update_size(), 1);

  // Unsolicited update from another thread, answered by the runtime. The plugin is live once
  // it has sent its Synchronize answer.
  ASSERT_TRUE(eventually([&] { return plugin.stats().synchronizations == 1; }));
  Result<std::vector<Update>> result = std::vector<Update>{};
  std::thread caller([&] {
    result = plugin.updateContainers({{"c1", LinuxResources{.cpuset_cpus = CpuSet{2}}, false}});
  });
  auto update = runtime.read();
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ(update->conn, mux::kRuntimeServiceConn);
  EXPECT_EQ(update->message.header.stream_id, 3u);  // odd, after RegisterPlugin's 1
  auto request = ttrpc::decodeRequest(update->message.data);
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->method, "UpdateContainers");
  pb::UpdateContainersRequest update_request;
  ASSERT_TRUE(update_request.ParseFromString(request->payload));
  EXPECT_EQ(update_request.update(0).linux().resources().cpu().cpus(), "2");
  pb::UpdateContainersResponse failed;
  failed.add_failed()->set_container_id("c1");
  ASSERT_TRUE(runtime.respond(3, {ErrorCode::Ok, {}, failed.SerializeAsString()}));
  caller.join();
  ASSERT_TRUE(result.has_value()) << result.error().toString();
  ASSERT_EQ(result->size(), 1u);
  EXPECT_EQ((*result)[0].container_id, "c1");
  plugin.stop();
}

// The reconnect backoff is waited on the plugin's clock: a failed connect is retried exactly
// when the clock passes the delay, the delay doubling per failure, with no real time spent.
TEST_F(PluginTest, ReconnectBackoffIsTimedByTheClock) {
  FakeClock clock;
  PluginOptions timed = options();  // backoff 10 ms, doubled per failure
  timed.clock = &clock;
  connector_.failNextConnect(Error::unavailable("no runtime yet"));
  connector_.failNextConnect(Error::unavailable("no runtime yet"));
  Plugin plugin(timed, handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  ASSERT_TRUE(clock.awaitWaiting(1)) << "the plugin waits out its first backoff";
  EXPECT_EQ(connector_.attempts(), 1);
  clock.advance(9ms);
  EXPECT_EQ(clock.waitingCount(), 1U);
  EXPECT_EQ(connector_.attempts(), 1) << "retried before the backoff passed";
  clock.advance(1ms);
  ASSERT_TRUE(clock.awaitWaiting(1)) << "the second attempt failed too and backs off again";
  EXPECT_EQ(connector_.attempts(), 2);
  clock.advance(19ms);
  EXPECT_EQ(connector_.attempts(), 2) << "the second backoff is 20 ms";
  clock.advance(1ms);
  RawRuntime runtime(connector_.waitForPeer());
  EXPECT_TRUE(runtime.handshake());
  EXPECT_EQ(connector_.attempts(), 3);
  plugin.stop();
}

// updateContainers() gives up when the plugin's clock passes call_timeout, not in real time.
TEST_F(PluginTest, UpdateContainersTimesOutOnTheClock) {
  FakeClock clock;
  PluginOptions timed = options();  // call_timeout 2 s
  timed.clock = &clock;
  Plugin plugin(timed, handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  RawRuntime runtime(connector_.waitForPeer());
  ASSERT_TRUE(runtime.handshake());
  ASSERT_TRUE(eventually([&] { return plugin.stats().synchronizations == 1; }));
  Result<std::vector<Update>> result = std::vector<Update>{};
  std::thread caller([&] {
    result = plugin.updateContainers({{"c1", LinuxResources{.cpuset_cpus = CpuSet{2}}, false}});
  });
  auto update = runtime.read();  // the runtime got the call and never answers
  ASSERT_TRUE(update.has_value());
  ASSERT_TRUE(clock.awaitWaiting(1)) << "the caller waits on the clock";
  clock.advance(1999ms);
  EXPECT_EQ(clock.waitingCount(), 1U) << "gave up before call_timeout";
  clock.advance(1ms);
  caller.join();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::DeadlineExceeded) << result.error().toString();
  plugin.stop();
}

TEST_F(PluginTest, UpdateContainersBeforeSyncIsUnavailable) {
  Plugin plugin(options(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  auto result = plugin.updateContainers({});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::Unavailable);
}

TEST_F(PluginTest, InvalidIdentityIsRejectedAtStart) {
  PluginOptions bad = options();
  bad.idx = "7";
  Plugin plugin(bad, handler_, connector_);
  EXPECT_EQ(plugin.start().error().code(), ErrorCode::InvalidArgument);
}

TEST_F(PluginTest, RuntimeRefusingRegistrationTriggersReconnect) {
  Plugin plugin(options(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  {
    RawRuntime runtime(connector_.waitForPeer());
    const uint32_t reg = runtime.expectRegister();
    ASSERT_TRUE(runtime.respond(reg, {ErrorCode::InvalidArgument, "invalid plugin name", {}}));
    EXPECT_TRUE(runtime.waitClosed());
  }
  RawRuntime again(connector_.waitForPeer());
  EXPECT_TRUE(again.handshake());
  EXPECT_TRUE(sawError(ErrorCode::InvalidArgument));
  plugin.stop();
}

TEST_F(PluginTest, RuntimeThatNeverAnswersRegistrationIsLeftAndRetried) {
  PluginOptions quick = options();
  quick.call_timeout = 200ms;
  Plugin plugin(quick, handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  {
    RawRuntime runtime(connector_.waitForPeer());
    EXPECT_NE(runtime.expectRegister(), 0u);
    EXPECT_TRUE(runtime.waitClosed());  // no answer: the plugin gives up on this connection
  }
  RawRuntime again(connector_.waitForPeer());
  EXPECT_TRUE(again.handshake());
  EXPECT_TRUE(sawError(ErrorCode::DeadlineExceeded));
  plugin.stop();
}

TEST_F(PluginTest, ConnectFailuresAreRetriedWithBackoff) {
  connector_.failNextConnect(Error::unavailable("no runtime yet"));
  connector_.failNextConnect(Error::unavailable("no runtime yet"));
  Plugin plugin(options(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  RawRuntime runtime(connector_.waitForPeer());
  EXPECT_TRUE(runtime.handshake());
  EXPECT_EQ(connector_.attempts(), 3);
  EXPECT_TRUE(sawError(ErrorCode::Unavailable));
  plugin.stop();
}

TEST_F(PluginTest, LaunchedPluginStopsWhenItsConnectionEnds) {
  FakeNriConnector launched(/*can_reconnect=*/false);
  Plugin plugin(options(), handler_, launched);
  ASSERT_TRUE(plugin.start().has_value());
  {
    RawRuntime runtime(launched.waitForPeer());
    ASSERT_TRUE(runtime.handshake());
  }  // runtime closes the socket
  Status stopped = plugin.wait();
  ASSERT_FALSE(stopped.has_value());
  EXPECT_EQ(stopped.error().code(), ErrorCode::Unavailable);
  EXPECT_TRUE(sawErrorSaying("cannot reconnect, stopping"));
}

class ReentrantHandler : public testing::RecordingHandler {
 public:
  Plugin* plugin = nullptr;
  Result<std::vector<Update>> onStopContainer(const Pod&, const Container&) override {
    auto result = plugin->updateContainers({});
    inner_code = result.has_value() ? ErrorCode::Ok : result.error().code();
    return std::vector<Update>{};
  }
  ErrorCode inner_code = ErrorCode::Ok;
};

TEST_F(PluginTest, UpdateContainersFromAHandlerIsRefused) {
  ReentrantHandler handler;
  Plugin plugin(options(), handler, connector_);
  handler.plugin = &plugin;
  ASSERT_TRUE(plugin.start().has_value());
  RawRuntime runtime(connector_.waitForPeer());
  ASSERT_TRUE(runtime.handshake());
  pb::StopContainerRequest stop;
  stop.mutable_pod()->set_id("p1");
  stop.mutable_container()->set_id("c1");
  auto answer = runtime.call("StopContainer", stop);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->code, ErrorCode::Ok);
  EXPECT_EQ(handler.inner_code, ErrorCode::FailedPrecondition);
  plugin.stop();
}

}  // namespace
}  // namespace topod::nri
