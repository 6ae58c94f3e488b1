// The Plugin service without sockets: each test builds ttrpc requests as a runtime would.
#include "nri/plugin_service.h"

#include <gtest/gtest.h>

#include "nri/plugin.h"
#include "tests/nri/recording_handler.h"

namespace topod::nri {
namespace {

class PluginServiceTest : public ::testing::Test {
 protected:
  template <typename Message>
  ttrpc::Response call(const std::string& method, const Message& message) {
    return service_.handle({kPluginServiceName, method, message.SerializeAsString(), 0});
  }

  ttrpc::Response configure(const std::string& runtime, const std::string& version) {
    pb::ConfigureRequest request;
    request.set_runtime_name(runtime);
    request.set_runtime_version(version);
    request.set_request_timeout(2000);
    return call("Configure", request);
  }

  static pb::PodSandbox pod(const std::string& id, const std::string& parent) {
    pb::PodSandbox out;
    out.set_id(id);
    out.set_uid("uid-" + id);
    out.set_name("pod-" + id);
    out.set_namespace_("default");
    out.mutable_linux()->set_cgroup_parent(parent);
    return out;
  }

  static pb::Container container(const std::string& id, const std::string& pod_id) {
    pb::Container out;
    out.set_id(id);
    out.set_pod_sandbox_id(pod_id);
    out.set_name("ctr-" + id);
    out.set_state(pb::CONTAINER_RUNNING);
    return out;
  }

  testing::RecordingHandler handler_;
  std::vector<Error> reported_;
  PluginService service_{kTopodEvents, handler_, [this](const Error& e) { reported_.push_back(e); }};
};

TEST_F(PluginServiceTest, ConfigureSubscribesValidMaskForContainerd17) {
  auto response = configure("containerd", "v1.7.24");
  ASSERT_EQ(response.code, ErrorCode::Ok) << response.message;
  pb::ConfigureResponse answer;
  ASSERT_TRUE(answer.ParseFromString(response.payload));
  EXPECT_EQ(answer.events(), 0x06AF);
  EXPECT_EQ(handler_.runtime().request_timeout, std::chrono::milliseconds(2000));
}

TEST_F(PluginServiceTest, ConfigureAddsPodResizeOnNewRuntimes) {
  auto response = configure("containerd", "v2.2.1");
  pb::ConfigureResponse answer;
  ASSERT_TRUE(answer.ParseFromString(response.payload));
  EXPECT_EQ(answer.events(), 0x0EAF);
}

TEST_F(PluginServiceTest, SplitSynchronizeEchoesMoreThenAnswersOnce) {
  configure("containerd", "v2.1.0");
  pb::SynchronizeRequest first;
  *first.add_pods() = pod("p1", "kubepods-burstable-pod1.slice");
  *first.add_containers() = container("c1", "p1");
  first.set_more(true);
  auto partial = call("Synchronize", first);
  pb::SynchronizeResponse partial_answer;
  ASSERT_TRUE(partial_answer.ParseFromString(partial.payload));
  EXPECT_TRUE(partial_answer.more());
  EXPECT_EQ(partial_answer.update_size(), 0);
  EXPECT_EQ(handler_.count("Synchronize"), 0u);

  pb::SynchronizeRequest last;
  *last.add_containers() = container("c2", "p1");
  auto final_response = call("Synchronize", last);
  pb::SynchronizeResponse final_answer;
  ASSERT_TRUE(final_answer.ParseFromString(final_response.payload));
  EXPECT_EQ(final_answer.update_size(), 1);
  EXPECT_EQ(handler_.calls().back(), "Synchronize 1/2");
  EXPECT_TRUE(service_.synchronized());
  // Fields pass as sent; what they mean to the kubelet (the QoS class) is the agent's business.
  EXPECT_EQ(handler_.syncPods().front().cgroup_parent, "kubepods-burstable-pod1.slice");
}

// One object the plugin cannot read must not fail the whole Synchronize: the runtime would drop
// the plugin and send the same object again on the next attempt.
TEST_F(PluginServiceTest, SynchronizeReportsAndSkipsObjectsThatDoNotConvert) {
  configure("containerd", "v1.7.24");
  pb::SynchronizeRequest request;
  *request.add_pods() = pod("p1", "kubepods-pod1.slice");
  *request.add_containers() = container("good", "p1");
  pb::Container bad = container("bad", "p1");
  bad.mutable_linux()->mutable_resources()->mutable_cpu()->set_cpus("3-1");
  *request.add_containers() = bad;
  auto response = call("Synchronize", request);
  EXPECT_EQ(response.code, ErrorCode::Ok) << response.message;
  EXPECT_EQ(handler_.calls().back(), "Synchronize 1/1");
  ASSERT_EQ(reported_.size(), 1u);
  EXPECT_NE(reported_[0].message().find("skipping container bad"), std::string::npos) << reported_[0].toString();
  EXPECT_TRUE(service_.synchronized());
}

TEST_F(PluginServiceTest, CreateContainerReturnsAdjustment) {
  pb::CreateContainerRequest request;
  *request.mutable_pod() = pod("p1", "kubepods-pod1.slice");
  *request.mutable_container() = container("c1", "p1");
  auto response = call("CreateContainer", request);
  ASSERT_EQ(response.code, ErrorCode::Ok);
  pb::CreateContainerResponse answer;
  ASSERT_TRUE(answer.ParseFromString(response.payload));
  EXPECT_EQ(answer.adjust().linux().resources().cpu().cpus(), "0-1");
  EXPECT_EQ(handler_.lastPod().cgroup_parent, "kubepods-pod1.slice");
}

TEST_F(PluginServiceTest, HandlerErrorBecomesStatusButNeverUnimplemented) {
  handler_.create_reply = [](const Pod&, const Container&) -> Result<CreateReply> {
    return Error(ErrorCode::Unimplemented, "nope");
  };
  pb::CreateContainerRequest request;
  *request.mutable_pod() = pod("p1", "");
  *request.mutable_container() = container("c1", "p1");
  auto response = call("CreateContainer", request);
  EXPECT_EQ(response.code, ErrorCode::Unknown);
  EXPECT_EQ(response.message, "nope");
}

struct NotificationCase {
  const char* name;
  const char* method;  // dedicated RPC
  pb::Event event;     // same event through StateChange
  bool container_event;
  const char* recorded;
};

class NotificationTest : public PluginServiceTest, public ::testing::WithParamInterface<NotificationCase> {};

TEST_P(NotificationTest, DedicatedRpcAndStateChangeReachTheSameHandler) {
  const NotificationCase& c = GetParam();
  pb::StartContainerRequest dedicated;  // pod = 1, container = 2: same layout for every event
  *dedicated.mutable_pod() = pod("p1", "");
  if (c.container_event) *dedicated.mutable_container() = container("c1", "p1");
  EXPECT_EQ(call(c.method, dedicated).code, ErrorCode::Ok);

  pb::StateChangeEvent legacy;
  legacy.set_event(c.event);
  *legacy.mutable_pod() = pod("p1", "");
  if (c.container_event) *legacy.mutable_container() = container("c1", "p1");
  EXPECT_EQ(call("StateChange", legacy).code, ErrorCode::Ok);

  const std::string expected = std::string(c.recorded) + (c.container_event ? " c1" : " p1");
  EXPECT_EQ(handler_.calls(), (std::vector<std::string>{expected, expected}));
  EXPECT_TRUE(reported_.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Events, NotificationTest,
    ::testing::Values(
        NotificationCase{"run_pod", "RunPodSandbox", pb::RUN_POD_SANDBOX, false, "RunPodSandbox"},
        NotificationCase{"stop_pod", "StopPodSandbox", pb::STOP_POD_SANDBOX, false, "StopPodSandbox"},
        NotificationCase{"remove_pod", "RemovePodSandbox", pb::REMOVE_POD_SANDBOX, false, "RemovePodSandbox"},
        NotificationCase{"post_update_pod", "PostUpdatePodSandbox", pb::POST_UPDATE_POD_SANDBOX, false,
                         "PostUpdatePodSandbox"},
        NotificationCase{"post_create", "PostCreateContainer", pb::POST_CREATE_CONTAINER, true, "PostCreateContainer"},
        NotificationCase{"start", "StartContainer", pb::START_CONTAINER, true, "StartContainer"},
        NotificationCase{"post_start", "PostStartContainer", pb::POST_START_CONTAINER, true, "PostStartContainer"},
        NotificationCase{"post_update", "PostUpdateContainer", pb::POST_UPDATE_CONTAINER, true, "PostUpdateContainer"},
        NotificationCase{"remove", "RemoveContainer", pb::REMOVE_CONTAINER, true, "RemoveContainer"}),
    [](const auto& row) { return std::string(row.param.name); });

TEST_F(PluginServiceTest, EventWithoutPodUsesCacheOrReportsUnknownPod) {
  pb::RunPodSandboxRequest run;
  *run.mutable_pod() = pod("p1", "kubepods-besteffort-pod1.slice");
  call("RunPodSandbox", run);
  pb::StartContainerRequest known;
  *known.mutable_container() = container("c1", "p1");
  EXPECT_EQ(call("StartContainer", known).code, ErrorCode::Ok);
  EXPECT_EQ(handler_.calls().back(), "StartContainer c1");

  pb::StartContainerRequest unknown;
  *unknown.mutable_container() = container("c2", "ghost");
  EXPECT_EQ(call("StartContainer", unknown).code, ErrorCode::Ok);
  EXPECT_EQ(handler_.calls().back(), "StartContainer c1");
  ASSERT_EQ(reported_.size(), 1u);
  EXPECT_EQ(reported_[0].code(), ErrorCode::NotFound);
  EXPECT_NE(reported_[0].message().find("ghost"), std::string::npos);

  pb::CreateContainerRequest create;
  *create.mutable_container() = container("c3", "ghost");
  auto response = call("CreateContainer", create);
  EXPECT_EQ(response.code, ErrorCode::Ok);  // left as the kubelet asked
  EXPECT_EQ(reported_.size(), 2u);
}

TEST_F(PluginServiceTest, UnknownMethodsAndServicesAreUnimplemented) {
  auto method = service_.handle({kPluginServiceName, "Frobnicate", "", 0});
  EXPECT_EQ(method.code, ErrorCode::Unimplemented);
  EXPECT_EQ(method.message, "method Frobnicate");
  auto validator = service_.handle({kPluginServiceName, "ValidateContainerAdjustment", "", 0});
  EXPECT_EQ(validator.code, ErrorCode::Unimplemented);
  auto service = service_.handle({"grpc.health.v1.Health", "Check", "", 0});
  EXPECT_EQ(service.code, ErrorCode::Unimplemented);
  EXPECT_EQ(service.message, "service grpc.health.v1.Health");
}

TEST_F(PluginServiceTest, GarbagePayloadIsInternalError) {
  auto response = service_.handle({kPluginServiceName, "CreateContainer", "\xff\xff\xff", 0});
  EXPECT_EQ(response.code, ErrorCode::Internal);
}

TEST_F(PluginServiceTest, UpdateContainerPassesRequestedResources) {
  pb::UpdateContainerRequest request;
  *request.mutable_pod() = pod("p1", "");
  *request.mutable_container() = container("c1", "p1");
  request.mutable_linux_resources()->mutable_cpu()->mutable_shares()->set_value(300);
  auto response = call("UpdateContainer", request);
  pb::UpdateContainerResponse answer;
  ASSERT_TRUE(answer.ParseFromString(response.payload));
  ASSERT_EQ(answer.update_size(), 1);
  EXPECT_EQ(answer.update(0).linux().resources().cpu().shares().value(), 300u);
}

}  // namespace
}  // namespace topod::nri
