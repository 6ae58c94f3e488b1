// nri::Plugin over a socketpair (FakeNriConnector), with the test playing the runtime byte by
// byte: handshake order, unsolicited updates, and every kind of bad input, each of which must be
// reported and must leave the plugin running (reconnecting where the stream is unusable).
#include "nri/plugin.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "tests/fakes/fake_nri_connector.h"
#include "tests/nri/raw_runtime.h"
#include "tests/nri/recording_handler.h"

namespace topod::nri {
namespace {

using testing::FakeNriConnector;
using testing::RawRuntime;
using namespace std::chrono_literals;

class PluginTest : public ::testing::Test {
 protected:
  PluginOptions options() {
    PluginOptions out;
    out.name = "topod";
    out.idx = "42";
    out.backoff_initial = 10ms;
    out.backoff_max = 50ms;
    out.call_timeout = 2s;
    out.on_error = [this](const Error& e) {
      std::lock_guard<std::mutex> lock(mu_);
      errors_.push_back(e);
    };
    return out;
  }

  std::vector<Error> errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }
  // Counters are bumped after the answer is written, so a test may see the answer first.
  template <typename Pred>
  static bool eventually(Pred pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  bool sawError(ErrorCode code) {
    for (const Error& e : errors()) {
      if (e.code() == code) return true;
    }
    return false;
  }

  std::mutex mu_;
  std::vector<Error> errors_;
  testing::RecordingHandler handler_;
  FakeNriConnector connector_;
};

TEST_F(PluginTest, HandshakeWithConfigureBeforeRegisterReply) {
  Plugin plugin(options(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  RawRuntime runtime(connector_.waitForPeer());
  pb::RegisterPluginRequest reg;
  const uint32_t reg_stream = runtime.expectRegister(&reg);
  EXPECT_EQ(reg_stream, 1u);
  EXPECT_EQ(reg.plugin_name(), "topod");
  EXPECT_EQ(reg.plugin_idx(), "42");

  // Configure arrives before the RegisterPlugin answer (§5.3): the plugin must not block on it.
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

std::string frameHeader(uint32_t conn, uint32_t length) {
  std::string out;
  for (uint32_t v : {conn, length}) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
  }
  return out;
}

struct BadInputCase {
  const char* name;
  // What the runtime sends after a good handshake.
  std::string (*bytes)();
  ErrorCode reported;
};

class PluginBadInputTest : public PluginTest, public ::testing::WithParamInterface<BadInputCase> {};

// Input that corrupts the stream: the plugin reports it, drops the connection and reconnects.
TEST_P(PluginBadInputTest, ReportsAndReconnects) {
  Plugin plugin(options(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  {
    RawRuntime runtime(connector_.waitForPeer());
    ASSERT_TRUE(runtime.handshake());
    ASSERT_TRUE(runtime.sendRaw(GetParam().bytes()));
    if (GetParam().reported == ErrorCode::DataLoss && std::string(GetParam().name) == "truncated_message") {
      runtime.connection().shutdown();  // the runtime goes away mid-message
    }
    EXPECT_TRUE(runtime.waitClosed());
  }
  RawRuntime again(connector_.waitForPeer());
  ASSERT_TRUE(again.handshake()) << "plugin did not reconnect";
  EXPECT_TRUE(eventually([&] { return sawError(GetParam().reported); }));
  EXPECT_EQ(plugin.stats().connections, 2u);
  EXPECT_TRUE(eventually([&] { return plugin.stats().synchronizations == 2; }));
  plugin.stop();
}

INSTANTIATE_TEST_SUITE_P(
    Corrupt, PluginBadInputTest,
    ::testing::Values(
        BadInputCase{"frame_length_over_limit", [] { return frameHeader(1, 0x7fffffff); },
                     ErrorCode::DataLoss},
        BadInputCase{"truncated_message",
                     [] {
                       auto m = ttrpc::encodeRequest(9, {kPluginServiceName, "StartContainer", "xx", 0});
                       return frameHeader(1, static_cast<uint32_t>(m->size())) + m->substr(0, 12);
                     },
                     ErrorCode::DataLoss},
        BadInputCase{"data_message_type",
                     [] {
                       std::string m(10, '\0');
                       ttrpc::encodeHeader({0, 9, 3, 0}, m.data());
                       return frameHeader(1, 10) + m;
                     },
                     ErrorCode::DataLoss},
        BadInputCase{"request_on_runtime_connection",
                     [] {
                       auto m = ttrpc::encodeRequest(9, {kPluginServiceName, "Configure", "", 0});
                       return frameHeader(2, static_cast<uint32_t>(m->size())) + *m;
                     },
                     ErrorCode::DataLoss}),
    [](const auto& row) { return std::string(row.param.name); });

struct AnsweredCase {
  const char* name;
  std::string (*bytes)();
  ErrorCode answered;
};

class PluginAnsweredInputTest : public PluginTest,
                                public ::testing::WithParamInterface<AnsweredCase> {};

// Input that is wrong but leaves the stream intact: answered with an error status as ttrpc does,
// reported, and the connection stays up.
TEST_P(PluginAnsweredInputTest, AnswersWithErrorStatusAndStaysConnected) {
  Plugin plugin(options(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  RawRuntime runtime(connector_.waitForPeer());
  ASSERT_TRUE(runtime.handshake());
  ASSERT_TRUE(runtime.sendRaw(GetParam().bytes()));
  auto answer = runtime.read();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->message.header.stream_id, 101u);
  auto response = ttrpc::decodeResponse(answer->message.data);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->code, GetParam().answered);
  EXPECT_TRUE(sawError(GetParam().answered));
  // Still serving.
  pb::RunPodSandboxRequest run;
  run.mutable_pod()->set_id("p9");
  runtime.streamIdsAfter(101);
  auto ok = runtime.call("RunPodSandbox", run);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->code, ErrorCode::Ok);
  EXPECT_EQ(plugin.stats().connections, 1u);
  plugin.stop();
}

std::string requestFrame(uint32_t stream, const std::string& method, const std::string& payload) {
  auto m = ttrpc::encodeRequest(stream, {kPluginServiceName, method, payload, 0});
  std::string out;
  mux::appendMessageFrames(out, 1, *m);
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    Intact, PluginAnsweredInputTest,
    ::testing::Values(
        AnsweredCase{"unknown_method", [] { return requestFrame(101, "Frobnicate", ""); },
                     ErrorCode::Unimplemented},
        AnsweredCase{"garbage_payload",
                     [] { return requestFrame(101, "CreateContainer", "\x0a\xff\xff\xff"); },
                     ErrorCode::Internal},
        AnsweredCase{"garbage_envelope",
                     [] {
                       std::string m(14, '\xff');
                       ttrpc::encodeHeader({4, 101, 1, 0}, m.data());
                       std::string out;
                       mux::appendMessageFrames(out, 1, m);
                       return out;
                     },
                     ErrorCode::InvalidArgument},
        AnsweredCase{"ttrpc_length_over_limit",
                     [] {
                       std::string m(10, '\0');
                       const uint32_t length = ttrpc::kMaxDataLength + 1;
                       ttrpc::encodeHeader({length, 101, 1, 0}, m.data());
                       std::string out = frameHeader(1, 10) + m;
                       // The oversized data follows in frames and is discarded.
                       const std::string chunk(1 << 20, 'z');
                       for (uint32_t sent = 0; sent < length; sent += chunk.size()) {
                         const uint32_t n = std::min<uint32_t>(chunk.size(), length - sent);
                         out += frameHeader(1, n) + chunk.substr(0, n);
                       }
                       return out;
                     },
                     ErrorCode::ResourceExhausted}),
    [](const auto& row) { return std::string(row.param.name); });

TEST_F(PluginTest, EvenOrRepeatedStreamIdIsRejected) {
  Plugin plugin(options(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  RawRuntime runtime(connector_.waitForPeer());
  ASSERT_TRUE(runtime.handshake());
  ASSERT_TRUE(runtime.sendRaw(requestFrame(200, "RunPodSandbox", "")));
  auto answer = runtime.read();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(ttrpc::decodeResponse(answer->message.data)->code, ErrorCode::InvalidArgument);
  plugin.stop();
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
