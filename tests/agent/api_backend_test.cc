// The local API's Backend over a live Agent (the real static policy on the 16-CPU, 2-node test
// topology): status, allocations, explain after an admission and after a refusal, the bounded
// refusal memory, and what-ifs that leave the State as it was.
#include "agent/api_backend.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "config/config.h"
#include "tests/agent/agent_test_support.h"

namespace topod::agent {
namespace {

using testing::guaranteed;
using testing::makeContainer;
using testing::makePod;

class AgentApiBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AgentOptions options{.policy = defaultConfig().policy, .state_dir = dir_.path()};
    auto agent = Agent::create(topology_, options);
    ASSERT_TRUE(agent.has_value()) << agent.error().toString();
    agent_ = std::move(*agent);
    agent_->onConfigure(nri::RuntimeInfo{.name = "containerd", .version = "v1.7.24"});
    ASSERT_TRUE(agent_->onSynchronize({}, {}).has_value());
    backend_ = std::make_unique<AgentApiBackend>(*agent_, [this] { return connected_; });
  }

  // A Guaranteed container of `cpu_millis` in its own pod; the reply's error when refused.
  Result<nri::CreateReply> createGuaranteed(const std::string& uid, int64_t cpu_millis) {
    auto pod = makePod(uid, QosClass::Guaranteed);
    return agent_->onCreateContainer(pod, guaranteed(pod, "app", cpu_millis));
  }

  testing::TempDir dir_;
  topology::Topology topology_ = testing::twoNodeTopology();
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<AgentApiBackend> backend_;
  bool connected_ = true;
};

TEST_F(AgentApiBackendTest, StatusCountsContainersAndNamesRuntimePolicyAndPools) {
  ASSERT_TRUE(createGuaranteed("g1", 2000).has_value());
  auto shared_pod = makePod("b1", QosClass::Burstable);
  ASSERT_TRUE(agent_->onCreateContainer(shared_pod, makeContainer(shared_pod, "app", 500, 0)).has_value());
  auto status = backend_->status();
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->synchronized);
  EXPECT_TRUE(status->runtime_connected);
  EXPECT_EQ(status->runtime_name, "containerd");
  EXPECT_EQ(status->runtime_version, "v1.7.24");
  EXPECT_EQ(status->policy, "static");
  EXPECT_EQ(status->pods, 2u);
  EXPECT_EQ(status->containers, 2u);
  EXPECT_EQ(status->allocations, 2u);
  EXPECT_EQ(status->exclusive_containers, 1u);
  EXPECT_EQ(status->exclusive_cpus.size(), 2);
  EXPECT_EQ(status->shared_cpus, topology_.onlineCpus() - status->exclusive_cpus);
  EXPECT_EQ(status->reserved_cpus.size(), 1);
  connected_ = false;
  EXPECT_FALSE(backend_->status()->runtime_connected);
}

TEST_F(AgentApiBackendTest, AllocationsNameThePodTheContainerAndWhereItRuns) {
  auto reply = createGuaranteed("g1", 2000);
  ASSERT_TRUE(reply.has_value());
  auto allocations = backend_->allocations();
  ASSERT_TRUE(allocations.has_value());
  ASSERT_EQ(allocations->size(), 1u);
  const api::AllocationInfo& a = allocations->front();
  EXPECT_EQ(a.pod_uid, "g1");
  EXPECT_EQ(a.pod_namespace, "default");
  EXPECT_EQ(a.pod_name, "pod-g1");
  EXPECT_EQ(a.container, "app");
  EXPECT_EQ(a.container_id, "g1-app");
  EXPECT_TRUE(a.running);
  EXPECT_EQ(a.qos, QosClass::Guaranteed);
  EXPECT_EQ(a.exclusive_cpus, *reply->adjustment.resources.cpuset_cpus);
  EXPECT_EQ(a.cpus, a.exclusive_cpus);
}

TEST_F(AgentApiBackendTest, ExplainAfterAnAdmissionGivesThePolicysReasoning) {
  auto reply = createGuaranteed("g1", 2000);
  ASSERT_TRUE(reply.has_value());
  for (const api::ExplainQuery& query : {api::ExplainQuery{.pod = "default/pod-g1", .container = {}},
                                         api::ExplainQuery{.pod = "g1", .container = "app"}}) {
    auto explained = backend_->explain(query);
    ASSERT_TRUE(explained.has_value()) << query.pod << ": " << explained.error().toString();
    ASSERT_EQ(explained->size(), 1u);
    const api::ContainerExplanation& e = explained->front();
    EXPECT_TRUE(e.admitted);
    EXPECT_EQ(e.container, "app");
    EXPECT_EQ(e.request, "cpu 2 (limit 2), memory 1Gi (limit 1Gi)");
    EXPECT_EQ(e.exclusive_cpus, *reply->adjustment.resources.cpuset_cpus);
    EXPECT_NE(e.explanation.find("topology manager"), std::string::npos) << e.explanation;
    EXPECT_NE(e.explanation.find("merged"), std::string::npos) << "the merged affinity: " << e.explanation;
  }
  auto other = backend_->explain(api::ExplainQuery{.pod = "default/pod-g1", .container = "sidecar"});
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), ErrorCode::NotFound);
}

TEST_F(AgentApiBackendTest, ExplainNamesTheShapeOfTheCpusAndWhyThese) {
  auto reply = createGuaranteed("g1", 2000);
  ASSERT_TRUE(reply.has_value());
  auto explained = backend_->explain(api::ExplainQuery{.pod = "g1", .container = "app"});
  ASSERT_TRUE(explained.has_value());
  const std::string& why = explained->front().explanation;
  EXPECT_NE(why.find("exclusive 2 CPUs " + explained->front().exclusive_cpus.toString() + ": 1 whole core"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("why these CPUs: taken from the"), std::string::npos) << why;
}

// After a restart the policy's words at admission are gone; the explanation says so and still
// says what the container holds.
TEST_F(AgentApiBackendTest, ARestoredAllocationIsExplainedByWhatItHolds) {
  auto reply = createGuaranteed("g1", 2000);
  ASSERT_TRUE(reply.has_value());
  const CpuSet cpus = *reply->adjustment.resources.cpuset_cpus;
  backend_.reset();
  agent_.reset();
  AgentOptions options{.policy = defaultConfig().policy, .state_dir = dir_.path()};
  auto restarted = Agent::create(topology_, options);
  ASSERT_TRUE(restarted.has_value()) << restarted.error().toString();
  agent_ = std::move(*restarted);
  backend_ = std::make_unique<AgentApiBackend>(*agent_, [] { return true; });
  auto explained = backend_->explain(api::ExplainQuery{.pod = "g1", .container = "app"});
  ASSERT_TRUE(explained.has_value()) << explained.error().toString();
  ASSERT_EQ(explained->size(), 1u);
  EXPECT_EQ(explained->front().exclusive_cpus, cpus);
  EXPECT_EQ(explained->front().explanation,
            "restored from the checkpoint at start-up (the policy's reasoning at admission is not kept across "
            "restarts; the restore checked the allocation against this machine and the current options): "
            "exclusive 2 CPUs " +
                cpus.toString() + ": 1 whole core (" + cpus.toString() + "); NUMA node " +
                std::to_string(topology_.numaOf(cpus.first())) + "; package 0; L3 group " +
                std::to_string(topology_.l3Of(cpus.first())));
}

TEST_F(AgentApiBackendTest, ExplainAfterARefusalNamesTheResourceAndTheReason) {
  // 16 CPUs, one reserved: 16 exclusive ones cannot be had.
  auto refused = createGuaranteed("big", 16000);
  ASSERT_FALSE(refused.has_value());
  ASSERT_FALSE(createGuaranteed("big", 16000).has_value()) << "the runtime retries";
  auto explained = backend_->explain(api::ExplainQuery{.pod = "default/pod-big", .container = {}});
  ASSERT_TRUE(explained.has_value()) << explained.error().toString();
  ASSERT_EQ(explained->size(), 1u) << "a retried refusal is remembered once";
  const api::ContainerExplanation& e = explained->front();
  EXPECT_FALSE(e.admitted);
  EXPECT_EQ(e.request, "cpu 16 (limit 16), memory 1Gi (limit 1Gi)");
  EXPECT_NE(e.explanation.find("cpu"), std::string::npos) << e.explanation;
  EXPECT_NE(refused.error().message().find(e.explanation), std::string::npos)
      << "the same reason the runtime was given: " << refused.error().message();
  EXPECT_EQ(backend_->status()->refusals, 1u);
  EXPECT_TRUE(agent_->state().empty()) << "a refusal holds nothing";
}

TEST_F(AgentApiBackendTest, OnlyTheLastRefusalsAreKept) {
  const int extra = 3;
  for (int i = 0; i < static_cast<int>(Agent::kMaxRefusals) + extra; ++i) {
    ASSERT_FALSE(createGuaranteed("big" + std::to_string(i), 16000).has_value());
  }
  EXPECT_EQ(backend_->status()->refusals, Agent::kMaxRefusals);
  EXPECT_FALSE(backend_->explain(api::ExplainQuery{.pod = "big0", .container = {}}).has_value());
  EXPECT_TRUE(
      backend_
          ->explain(api::ExplainQuery{.pod = "big" + std::to_string(Agent::kMaxRefusals + extra - 1), .container = {}})
          .has_value());
}

TEST_F(AgentApiBackendTest, AReleasedContainerIsNoLongerExplained) {
  ASSERT_TRUE(createGuaranteed("g1", 2000).has_value());
  ASSERT_TRUE(agent_->onRemovePodSandbox(makePod("g1", QosClass::Guaranteed)).has_value());
  EXPECT_FALSE(backend_->explain(api::ExplainQuery{.pod = "g1", .container = {}}).has_value());
}

policies::PodRequest whatIfPod(const std::string& name, std::vector<int64_t> cpu_millis) {
  policies::PodRequest pod{.uid = {}, .namespace_name = "ns", .name = name, .qos = QosClass::Guaranteed};
  for (std::size_t i = 0; i < cpu_millis.size(); ++i) {
    pod.containers.push_back(policies::ContainerRequest{.name = "c" + std::to_string(i),
                                                        .kind = policies::ContainerKind::App,
                                                        .cpu_request_millis = cpu_millis[i],
                                                        .cpu_limit_millis = cpu_millis[i],
                                                        .memory_request_bytes = 1 << 30,
                                                        .memory_limit_bytes = 1 << 30});
  }
  return pod;
}

TEST_F(AgentApiBackendTest, AWhatIfDecidesAgainstTheLiveStateAndChangesNothing) {
  auto reply = createGuaranteed("g1", 2000);
  ASSERT_TRUE(reply.has_value());
  const CpuSet held = *reply->adjustment.resources.cpuset_cpus;
  const policies::State before = agent_->state();
  const auto status_before = backend_->status();

  auto what_if = backend_->whatIf(whatIfPod("new", {4000, 4000, 16000}));
  ASSERT_TRUE(what_if.has_value()) << what_if.error().toString();
  ASSERT_EQ(what_if->size(), 3u);
  const api::ContainerExplanation& first = (*what_if)[0];
  const api::ContainerExplanation& second = (*what_if)[1];
  ASSERT_TRUE(first.admitted) << first.explanation;
  ASSERT_TRUE(second.admitted) << second.explanation;
  EXPECT_EQ(first.exclusive_cpus.size(), 4);
  EXPECT_FALSE(first.exclusive_cpus.intersects(held)) << "decided against the live allocations";
  EXPECT_FALSE(second.exclusive_cpus.intersects(first.exclusive_cpus | held))
      << "each container decided after the ones before it";
  EXPECT_FALSE((*what_if)[2].admitted);
  EXPECT_NE((*what_if)[2].explanation.find("cpu"), std::string::npos) << (*what_if)[2].explanation;

  EXPECT_EQ(agent_->state(), before) << "a what-if changes nothing";
  EXPECT_EQ(backend_->status()->refusals, status_before->refusals) << "a what-if refusal is not remembered";
  auto again = createGuaranteed("g2", 4000);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again->adjustment.resources.cpuset_cpus, first.exclusive_cpus)
      << "the real admission gets what the what-if said";
}

TEST_F(AgentApiBackendTest, AWhatIfsAppContainerReusesWhatItsInitContainerHeld) {
  policies::PodRequest pod = whatIfPod("init", {15000, 15000});
  pod.containers[0].kind = policies::ContainerKind::Init;
  auto what_if = backend_->whatIf(pod);
  ASSERT_TRUE(what_if.has_value()) << what_if.error().toString();
  ASSERT_TRUE((*what_if)[0].admitted) << (*what_if)[0].explanation;
  ASSERT_TRUE((*what_if)[1].admitted) << "the init container completed first: " << (*what_if)[1].explanation;
  EXPECT_EQ((*what_if)[1].exclusive_cpus, (*what_if)[0].exclusive_cpus);
  pod.containers[0].kind = policies::ContainerKind::Sidecar;
  what_if = backend_->whatIf(pod);
  ASSERT_TRUE(what_if.has_value());
  EXPECT_FALSE((*what_if)[1].admitted) << "a sidecar keeps its CPUs";
}

TEST_F(AgentApiBackendTest, AWhatIfForARunningPodIsRefused) {
  ASSERT_TRUE(createGuaranteed("g1", 2000).has_value());
  policies::PodRequest pod = whatIfPod("x", {1000});
  pod.uid = "g1";
  auto what_if = backend_->whatIf(pod);
  ASSERT_FALSE(what_if.has_value());
  EXPECT_EQ(what_if.error().code(), ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace topod::agent
