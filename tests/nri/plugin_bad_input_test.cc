// Bad input from the runtime, through the real nri::Plugin over a socket (FakeNriConnector
// socketpair, the test writing the runtime's bytes by hand). Every row checks the three things
// the agent relies on: (a) the error reaches the plugin's on_error callback (what `topod run`
// logs), (b) the outcome — a reconnect with a full handshake when the stream can no longer be
// trusted, a ttrpc error answer on the still-working connection when only one message is bad,
// a neutral answer for events topod cannot place — and (c) the plugin serves a normal event
// afterwards. docs/nri.md has the table that points here.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "tests/nri/plugin_test_support.h"

namespace topod::nri {
namespace {

using testing::frameHeader;
using testing::PluginTest;
using testing::RawRuntime;
using testing::requestFrame;
using namespace std::chrono_literals;

// (c): a CreateContainer for a pod the runtime sends along is decided by the handler.
void expectServesCreateContainer(RawRuntime& runtime, testing::RecordingHandler& handler, const std::string& id) {
  pb::CreateContainerRequest create;
  create.mutable_pod()->set_id("pod-" + id);
  create.mutable_container()->set_id(id);
  create.mutable_container()->set_pod_sandbox_id("pod-" + id);
  auto answer = runtime.call("CreateContainer", create);
  ASSERT_TRUE(answer.has_value()) << "no answer to a normal CreateContainer";
  EXPECT_EQ(answer->code, ErrorCode::Ok) << answer->message;
  pb::CreateContainerResponse response;
  ASSERT_TRUE(response.ParseFromString(answer->payload));
  EXPECT_EQ(response.adjust().linux().resources().cpu().cpus(), "0-1");
  EXPECT_TRUE(handler.waitForCall("CreateContainer " + id, 1s));
}

// ---- Input that corrupts the stream: reported, connection dropped, reconnect + resync --------

struct CorruptCase {
  const char* name;
  std::string (*bytes)();  // what the runtime sends after a good handshake
  bool runtime_closes;     // the runtime then goes away (mid-message unless bytes is empty)
  ErrorCode reported;
};

void PrintTo(const CorruptCase& row, std::ostream* out) {
  *out << row.name;
}

class PluginCorruptInputTest : public PluginTest, public ::testing::WithParamInterface<CorruptCase> {};

TEST_P(PluginCorruptInputTest, ReportsReconnectsAndServesAgain) {
  const CorruptCase& row = GetParam();
  Plugin plugin(options(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  {
    RawRuntime runtime(connector_.waitForPeer());
    ASSERT_TRUE(runtime.handshake());
    const std::string bytes = row.bytes();
    if (!bytes.empty()) {
      ASSERT_TRUE(runtime.sendRaw(bytes));
    }
    if (row.runtime_closes) runtime.connection().shutdown();
    EXPECT_TRUE(runtime.waitClosed()) << "the plugin kept a corrupt connection";
  }
  RawRuntime again(connector_.waitForPeer());
  ASSERT_TRUE(again.handshake()) << "the plugin did not reconnect and resynchronize";
  EXPECT_TRUE(eventually([&] { return sawError(row.reported); }))
      << "on_error never saw " << errorCodeName(row.reported);
  EXPECT_TRUE(sawErrorSaying("; reconnecting in 10 ms")) << "the report does not say what happens next";
  EXPECT_EQ(plugin.stats().connections, 2u);
  // Counted before the plugin reconnects (the API's "connected": connections > disconnections).
  EXPECT_EQ(plugin.stats().disconnections, 1u);
  EXPECT_TRUE(eventually([&] { return plugin.stats().synchronizations == 2; }));
  expectServesCreateContainer(again, handler_, "after-" + std::string(row.name));
  plugin.stop();
}

std::string startContainerMessage() {
  return *ttrpc::encodeRequest(9, {kPluginServiceName, "StartContainer", "xx", 0});
}

INSTANTIATE_TEST_SUITE_P(
    Corrupt, PluginCorruptInputTest,
    ::testing::Values(
        CorruptCase{"frame_length_over_limit", [] { return frameHeader(1, 0x7fffffff); }, false, ErrorCode::DataLoss},
        // Truncation at each layer: inside a frame header, inside a frame's payload, and inside
        // a ttrpc message whose frames were complete.
        CorruptCase{"truncated_frame_header", [] { return frameHeader(1, 64).substr(0, 5); }, true,
                    ErrorCode::DataLoss},
        CorruptCase{"truncated_frame",
                    [] {
                      const std::string m = startContainerMessage();
                      return frameHeader(1, static_cast<uint32_t>(m.size())) + m.substr(0, 12);
                    },
                    true, ErrorCode::DataLoss},
        CorruptCase{"truncated_ttrpc_message",
                    [] {
                      const std::string part = startContainerMessage().substr(0, 6);
                      return frameHeader(1, static_cast<uint32_t>(part.size())) + part;
                    },
                    true, ErrorCode::DataLoss},
        // A runtime restart: EOF between messages.
        CorruptCase{"runtime_closes_between_messages", [] { return std::string(); }, true, ErrorCode::Unavailable},
        CorruptCase{"data_message_type",
                    [] {
                      std::string m(10, '\0');
                      ttrpc::encodeHeader({0, 9, 3, 0}, m.data());
                      return frameHeader(1, 10) + m;
                    },
                    false, ErrorCode::DataLoss},
        CorruptCase{"request_on_runtime_connection",
                    [] {
                      auto m = ttrpc::encodeRequest(9, {kPluginServiceName, "Configure", "", 0});
                      return frameHeader(2, static_cast<uint32_t>(m->size())) + *m;
                    },
                    false, ErrorCode::DataLoss}),
    [](const auto& row) { return std::string(row.param.name); });

// One write carrying a complete request and then a corrupt frame header: the request is
// answered (and reaches the handler) before the plugin drops the connection.
TEST_F(PluginTest, RequestBeforeACorruptHeaderInTheSameWriteIsAnswered) {
  Plugin plugin(options(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  {
    RawRuntime runtime(connector_.waitForPeer());
    ASSERT_TRUE(runtime.handshake());
    pb::RunPodSandboxRequest run;
    run.mutable_pod()->set_id("p-before");
    ASSERT_TRUE(
        runtime.sendRaw(requestFrame(101, "RunPodSandbox", run.SerializeAsString()) + frameHeader(1, 0x7fffffff)));
    auto answer = runtime.read();
    ASSERT_TRUE(answer.has_value()) << "the request before the corrupt header was not answered";
    EXPECT_EQ(answer->message.header.stream_id, 101u);
    auto response = ttrpc::decodeResponse(answer->message.data);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->code, ErrorCode::Ok);
    EXPECT_TRUE(runtime.waitClosed());
  }
  EXPECT_TRUE(handler_.waitForCall("RunPodSandbox p-before", 1s));
  RawRuntime again(connector_.waitForPeer());
  ASSERT_TRUE(again.handshake());
  EXPECT_TRUE(sawError(ErrorCode::DataLoss));
  plugin.stop();
}

// Traffic the plugin has no use for: frames for a connection id it never opened are dropped,
// as the Go mux drops them; an answer on conn 2 to a call it never made is reported and
// ignored. Neither costs the connection.
TEST_F(PluginTest, StrayFramesAndAnswersAreDroppedAndTheConnectionStays) {
  Plugin plugin(options(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  RawRuntime runtime(connector_.waitForPeer());
  ASSERT_TRUE(runtime.handshake());
  const std::string stray = startContainerMessage();
  ASSERT_TRUE(runtime.sendRaw(frameHeader(7, static_cast<uint32_t>(stray.size())) + stray));
  ASSERT_TRUE(runtime.respond(77, {}));
  expectServesCreateContainer(runtime, handler_, "after-stray");
  // The demux hands out conn 1 first, so the stray answer may be looked at after the call.
  EXPECT_TRUE(eventually([&] { return sawError(ErrorCode::NotFound); }));
  EXPECT_EQ(plugin.stats().connections, 1u);
  plugin.stop();
}

// ---- Input that is wrong but leaves the stream intact: a ttrpc error answer, as Go ttrpc's
// server gives, and the connection stays up ----------------------------------------------------

struct AnsweredCase {
  const char* name;
  std::string (*bytes)();
  uint32_t stream;  // the stream id the answer must carry
  ErrorCode answered;
};

void PrintTo(const AnsweredCase& row, std::ostream* out) {
  *out << row.name;
}

class PluginAnsweredInputTest : public PluginTest, public ::testing::WithParamInterface<AnsweredCase> {};

TEST_P(PluginAnsweredInputTest, AnswersWithErrorStatusAndStaysConnected) {
  const AnsweredCase& row = GetParam();
  Plugin plugin(options(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  RawRuntime runtime(connector_.waitForPeer());
  ASSERT_TRUE(runtime.handshake());
  ASSERT_TRUE(runtime.sendRaw(row.bytes()));
  auto answer = runtime.read();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->message.header.stream_id, row.stream);
  auto response = ttrpc::decodeResponse(answer->message.data);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->code, row.answered) << response->message;
  EXPECT_TRUE(response->payload.empty());
  EXPECT_TRUE(sawError(row.answered)) << "on_error never saw " << errorCodeName(row.answered);
  EXPECT_FALSE(sawErrorSaying("reconnect")) << "a per-message error must not announce a reconnect";
  runtime.streamIdsAfter(301);  // above every id a row uses
  expectServesCreateContainer(runtime, handler_, "after-" + std::string(row.name));
  EXPECT_EQ(plugin.stats().connections, 1u);
  plugin.stop();
}

INSTANTIATE_TEST_SUITE_P(
    Intact, PluginAnsweredInputTest,
    ::testing::Values(AnsweredCase{"unknown_method", [] { return requestFrame(101, "Frobnicate", ""); }, 101,
                                   ErrorCode::Unimplemented},
                      AnsweredCase{"unknown_service",
                                   [] { return requestFrame(101, "CreateContainer", "", "nri.pkg.api.v9.Plugin"); },
                                   101, ErrorCode::Unimplemented},
                      AnsweredCase{"garbage_payload",
                                   [] { return requestFrame(101, "CreateContainer", "\x0a\xff\xff\xff"); }, 101,
                                   ErrorCode::Internal},
                      AnsweredCase{"garbage_notification_payload",
                                   [] { return requestFrame(101, "StateChange", "\x12\x05\x0a"); }, 101,
                                   ErrorCode::Internal},
                      AnsweredCase{"garbage_envelope",
                                   [] {
                                     std::string m(14, '\xff');
                                     ttrpc::encodeHeader({4, 101, 1, 0}, m.data());
                                     std::string out;
                                     mux::appendMessageFrames(out, 1, m);
                                     return out;
                                   },
                                   101, ErrorCode::InvalidArgument},
                      AnsweredCase{"even_stream_id", [] { return requestFrame(200, "RunPodSandbox", ""); }, 200,
                                   ErrorCode::InvalidArgument},
                      // Stream 3 was the handshake's Synchronize: ids must increase.
                      AnsweredCase{"repeated_stream_id", [] { return requestFrame(3, "RunPodSandbox", ""); }, 3,
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
                                   101, ErrorCode::ResourceExhausted}),
    [](const auto& row) { return std::string(row.param.name); });

// ---- Events for pods and containers topod never saw --------------------------------------------

// The container of a pod that was never synchronized, created or sent along.
pb::Container ghostContainer() {
  pb::Container container;
  container.set_id("c-ghost");
  container.set_pod_sandbox_id("ghost");
  return container;
}

struct UnknownPodCase {
  const char* name;
  const char* method;
  std::string (*payload)();  // the request, without its pod
};

void PrintTo(const UnknownPodCase& row, std::ostream* out) {
  *out << row.name;
}

class PluginUnknownPodTest : public PluginTest, public ::testing::WithParamInterface<UnknownPodCase> {};

// Without its pod topod cannot place anything: a neutral answer (no adjustment, no updates), so
// the kubelet's request goes ahead as asked; the handler is not called; NOT_FOUND is reported.
TEST_P(PluginUnknownPodTest, AnswersNeutrallyAndReports) {
  const UnknownPodCase& row = GetParam();
  Plugin plugin(options(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  RawRuntime runtime(connector_.waitForPeer());
  ASSERT_TRUE(runtime.handshake());
  const size_t calls_before = handler_.calls().size();
  ASSERT_TRUE(runtime.sendRaw(requestFrame(101, row.method, row.payload())));
  auto answer = runtime.read();
  ASSERT_TRUE(answer.has_value());
  auto response = ttrpc::decodeResponse(answer->message.data);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->code, ErrorCode::Ok) << response->message;
  EXPECT_TRUE(response->payload.empty()) << "not a neutral answer";
  EXPECT_EQ(handler_.calls().size(), calls_before) << "the handler saw an event without a pod";
  EXPECT_TRUE(sawError(ErrorCode::NotFound));
  EXPECT_FALSE(sawErrorSaying("reconnect"));
  runtime.streamIdsAfter(101);
  expectServesCreateContainer(runtime, handler_, "after-" + std::string(row.name));
  EXPECT_EQ(plugin.stats().connections, 1u);
  plugin.stop();
}

template <typename Request>
std::string withGhostContainer() {
  Request request;
  *request.mutable_container() = ghostContainer();
  return request.SerializeAsString();
}

INSTANTIATE_TEST_SUITE_P(
    Events, PluginUnknownPodTest,
    ::testing::Values(
        UnknownPodCase{"create_container", "CreateContainer", &withGhostContainer<pb::CreateContainerRequest>},
        UnknownPodCase{"update_container", "UpdateContainer", &withGhostContainer<pb::UpdateContainerRequest>},
        UnknownPodCase{"stop_container", "StopContainer", &withGhostContainer<pb::StopContainerRequest>},
        UnknownPodCase{"start_container", "StartContainer", &withGhostContainer<pb::StartContainerRequest>},
        UnknownPodCase{"remove_container_state_change", "StateChange",
                       [] {
                         pb::StateChangeEvent event;
                         event.set_event(static_cast<pb::Event>(Event::RemoveContainer));
                         *event.mutable_container() = ghostContainer();
                         return event.SerializeAsString();
                       }},
        UnknownPodCase{"stop_pod_sandbox", "StopPodSandbox",
                       [] { return pb::StopPodSandboxRequest().SerializeAsString(); }},
        UnknownPodCase{"update_pod_sandbox", "UpdatePodSandbox",
                       [] { return pb::UpdatePodSandboxRequest().SerializeAsString(); }}),
    [](const auto& row) { return std::string(row.param.name); });

// A pod or container that was not in Synchronize but comes with the event is real (the runtime
// is the source of truth): the handler decides, and answers for what it never admitted.
TEST_F(PluginTest, EventsForObjectsNeverSynchronizedReachTheHandler) {
  Plugin plugin(options(), handler_, connector_);
  ASSERT_TRUE(plugin.start().has_value());
  RawRuntime runtime(connector_.waitForPeer());
  ASSERT_TRUE(runtime.handshake());  // an empty Synchronize

  pb::UpdateContainerRequest update;
  update.mutable_pod()->set_id("late-pod");
  update.mutable_container()->set_id("never-created");
  update.mutable_container()->set_pod_sandbox_id("late-pod");
  update.mutable_linux_resources()->mutable_cpu()->mutable_shares()->set_value(512);
  auto updated = runtime.call("UpdateContainer", update);
  ASSERT_TRUE(updated.has_value());
  EXPECT_EQ(updated->code, ErrorCode::Ok) << updated->message;
  pb::UpdateContainerResponse update_answer;
  ASSERT_TRUE(update_answer.ParseFromString(updated->payload));
  ASSERT_EQ(update_answer.update_size(), 1);
  EXPECT_EQ(update_answer.update(0).linux().resources().cpu().shares().value(), 512u);

  // The pod is cached from the event: a StopContainer that omits it still resolves.
  pb::StopContainerRequest stop;
  stop.mutable_container()->set_id("never-created");
  stop.mutable_container()->set_pod_sandbox_id("late-pod");
  auto stopped = runtime.call("StopContainer", stop);
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(stopped->code, ErrorCode::Ok);
  EXPECT_TRUE(handler_.waitForCall("UpdateContainer never-created", 1s));
  EXPECT_TRUE(handler_.waitForCall("StopContainer never-created", 1s));
  EXPECT_TRUE(errors().empty()) << errors().front().toString();
  plugin.stop();
}

}  // namespace
}  // namespace topod::nri
