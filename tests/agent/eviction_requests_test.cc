// topod as an EvictionRequest requester (agent/eviction_requests.h, docs/eviction.md): the
// worker over a fake API server and a fake clock, and the Agent reporting, at Synchronize, the
// running pods whose allocation it cannot re-make (a configuration that shrank the CPUs, a
// restart that lost an allocation).
#include "agent/eviction_requests.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/eviction_warnings.h"
#include "config/config.h"
#include "tests/agent/agent_test_support.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_client.h"

namespace topod::agent::requests_test {  // unity builds: its own names
namespace {

using testing::FakeClock;
using testing::FakeObjectClient;

constexpr const char* kUid = "6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b";
constexpr const char* kOtherUid = "7a2b3c4d-5e6f-4071-8b9c-1d2e3f4a5b6c";

LostAllocation lost(const std::string& uid, LostAllocationReason reason = LostAllocationReason::CpusShrunk) {
  return LostAllocation{.pod_namespace = "ml",
                        .pod_name = "train",
                        .pod_uid = uid,
                        .container = "main",
                        .reason = reason,
                        .why = "not enough free CPUs"};
}

std::string pathOf(const std::string& uid) {
  return kube::evictionRequestsCollection("ml") + "/" + kube::evictionRequestName("topod.io/node-pressure", uid);
}

class EvictionRequesterTest : public ::testing::Test {
 protected:
  EvictionRequester& requester() {
    if (!requester_) {
      requester_ = std::make_unique<EvictionRequester>(
          EvictionRequesterOptions{}, api_, clock_, &registry_,
          [this](bool ok, const std::string& message) { (ok ? infos_ : warnings_).push_back(message); });
    }
    return *requester_;
  }
  // The value of one series as Prometheus reads it; -1 when it is not exposed.
  int64_t counter(const char* name, const char* reason) {
    const std::string text = registry_.render();
    const std::string series = std::string(name) + "{reason=\"" + reason + "\"} ";
    const std::size_t at = text.find(series);
    if (at == std::string::npos) return -1;
    return std::stoll(text.substr(at + series.size()));
  }
  std::vector<std::string> posts() {
    std::vector<std::string> out;
    for (const std::string& line : api_.takeLog()) {
      if (line.starts_with("POST ")) out.push_back(line);
    }
    return out;
  }

  FakeObjectClient api_;
  FakeClock clock_;
  metrics::Registry registry_;
  std::unique_ptr<EvictionRequester> requester_;
  std::vector<std::string> infos_;
  std::vector<std::string> warnings_;
};

TEST_F(EvictionRequesterTest, CreatesOneRequestPerPodWithTheReason) {
  // Registered up front: both reasons read 0 before anything happened.
  requester();
  EXPECT_EQ(counter("topod_eviction_requests_created_total", "not_honoured_after_restart"), 0);
  EXPECT_EQ(counter("topod_eviction_request_failures_total", "cpus_shrunk"), 0);

  requester().request(lost(kUid));
  requester().request(lost(kUid));  // a second container of the pod, or a second Synchronize
  EXPECT_EQ(requester().pending(), 1u);
  requester().tick();
  requester().request(lost(kUid, LostAllocationReason::NotHonouredAfterRestart));  // made already
  requester().tick();

  EXPECT_EQ(posts().size(), 1u);
  auto object = api_.object(pathOf(kUid));
  ASSERT_TRUE(object.has_value());
  EXPECT_EQ((*object)["spec"]["target"]["pod"]["name"], "train");
  EXPECT_EQ((*object)["spec"]["target"]["pod"]["uid"], kUid);
  EXPECT_EQ((*object)["spec"]["requester"], "topod.io/node-pressure");
  EXPECT_EQ((*object)["spec"]["intent"], "Eviction");
  EXPECT_EQ((*object)["metadata"]["annotations"]["eviction.topod.io/reason"], "cpus_shrunk");
  EXPECT_NE((*object)["metadata"]["annotations"]["eviction.topod.io/message"].get<std::string>().find("container main"),
            std::string::npos);
  EXPECT_EQ(counter("topod_eviction_requests_created_total", "cpus_shrunk"), 1);
  EXPECT_EQ(counter("topod_eviction_request_failures_total", "cpus_shrunk"), 0);
  EXPECT_EQ(requester().stats(), (EvictionRequesterStats{.created = 1, .existing = 0, .failures = 0}));
  ASSERT_EQ(infos_.size(), 1u);
  EXPECT_NE(infos_[0].find("created an eviction request for ml/train"), std::string::npos) << infos_[0];
}

TEST_F(EvictionRequesterTest, ARestartFindsTheRequestItMadeInsteadOfMakingASecond) {
  requester().request(lost(kUid));
  requester().tick();
  requester_.reset();  // topod restarts: nothing in memory

  requester().request(lost(kUid));
  requester().tick();
  EXPECT_EQ(requester().stats(), (EvictionRequesterStats{.created = 0, .existing = 1, .failures = 0}));
  EXPECT_EQ(counter("topod_eviction_requests_created_total", "cpus_shrunk"), 1);
  EXPECT_EQ(requester().pending(), 0u);
}

TEST_F(EvictionRequesterTest, AFailedCreateIsRetriedWithBackoffAndCounted) {
  api_.failNext(Error::unavailable("POST: 503"), 2);
  requester().request(lost(kUid, LostAllocationReason::NotHonouredAfterRestart));
  requester().tick();
  EXPECT_EQ(counter("topod_eviction_request_failures_total", "not_honoured_after_restart"), 1);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("retrying in 5000 ms"), std::string::npos) << warnings_[0];

  clock_.advance(std::chrono::milliseconds(4999));
  requester().tick();
  EXPECT_EQ(posts().size(), 1u) << "not due yet";
  clock_.advance(std::chrono::milliseconds(1));
  requester().tick();  // fails again: next in 10 s
  EXPECT_NE(warnings_.back().find("retrying in 10000 ms"), std::string::npos) << warnings_.back();
  clock_.advance(std::chrono::seconds(10));
  requester().tick();
  EXPECT_TRUE(api_.object(pathOf(kUid)).has_value());
  EXPECT_EQ(requester().stats(), (EvictionRequesterStats{.created = 1, .existing = 0, .failures = 2}));
  EXPECT_EQ(counter("topod_eviction_requests_created_total", "not_honoured_after_restart"), 1);
}

TEST_F(EvictionRequesterTest, APodThatLeftIsNotRequestedAndMayBeAgainLater) {
  api_.failAlways(Error::unavailable("POST: 503"));
  requester().request(lost(kUid));
  requester().tick();
  requester().podRemoved(kUid);
  EXPECT_EQ(requester().pending(), 0u);
  api_.failAlways(std::nullopt);
  clock_.advance(std::chrono::minutes(10));
  requester().tick();
  EXPECT_FALSE(api_.object(pathOf(kUid)).has_value());

  requester().request(lost(kOtherUid));
  requester().tick();
  EXPECT_TRUE(api_.object(pathOf(kOtherUid)).has_value());
}

TEST_F(EvictionRequesterTest, ARequestTheApiWouldRefuseIsReportedOnceAndDropped) {
  requester().request(lost("not-a-uid"));
  requester().tick();
  requester().tick();
  EXPECT_TRUE(posts().empty());
  EXPECT_EQ(requester().stats(), (EvictionRequesterStats{.created = 0, .existing = 0, .failures = 1}));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("is not a lowercase UUID"), std::string::npos) << warnings_[0];
  EXPECT_NE(warnings_[0].find("runs unpinned"), std::string::npos) << warnings_[0];
}

TEST_F(EvictionRequesterTest, TheThreadMakesTheRequestWithoutATick) {
  requester().start();
  requester().request(lost(kUid));
  EXPECT_TRUE(api_.waitFor(
      pathOf(kUid), [](const nlohmann::json&) { return true; }, std::chrono::seconds(10)));
  requester().stop();
}

// ---- Composed for `topod run`: EvictionResponding starts the requester ------------------------

TEST(EvictionRespondingTest, RunsTheRequesterWhenAskedAndItReportsThroughTheLog) {
  testing::TempDir dir;
  const std::string kubeconfig = dir.path() + "/kubeconfig";
  {
    std::ofstream out(kubeconfig);
    // Port 1: nothing listens there, so every call fails at once and is reported.
    out << R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://127.0.0.1:1", certificate-authority-data: "Q0E="}}]
users: [{name: u, user: {token: t}}]
)";
  }
  auto topology = testing::twoNodeTopology();
  AgentOptions agent_options{.policy = defaultConfig().policy, .state_dir = dir.path()};
  auto agent = Agent::create(topology, agent_options);
  ASSERT_TRUE(agent.has_value()) << agent.error().toString();
  EvictionConfig config;
  config.enabled = true;
  config.notice_dir = dir.path() + "/notices";
  const KubernetesConfig kubernetes{.enabled = true, .kubeconfig = kubeconfig, .node_name = "n1"};
  std::mutex mutex;
  std::condition_variable reported_cv;
  std::vector<std::string> reports;
  auto reporter = [&](bool, const std::string& message) {
    {
      std::lock_guard lock(mutex);
      reports.push_back(message);
    }
    reported_cv.notify_all();
  };
  metrics::Registry registry;

  config.request_evictions = false;
  auto without = EvictionResponding::start(config, kubernetes, dir.path(), nullptr, **agent, reporter, &registry);
  ASSERT_TRUE(without.has_value()) << without.error().toString();
  EXPECT_EQ((*without)->requester(), nullptr);
  without->reset();

  config.request_evictions = true;
  config.requester_name = "k8s.io/mine";
  EXPECT_FALSE(EvictionResponding::start(config, kubernetes, dir.path(), nullptr, **agent, reporter, &registry));
  config.requester_name = "topod.io/node-pressure";
  auto with = EvictionResponding::start(config, kubernetes, dir.path(), nullptr, **agent, reporter, &registry);
  ASSERT_TRUE(with.has_value()) << with.error().toString();
  ASSERT_NE((*with)->requester(), nullptr);
  // The requester shares the responder's reporter: a failed create is logged, not a crash
  // (the reporter was once moved into the responder before the requester got its copy).
  (*with)->requester()->request(lost(kUid));
  // The requester's own thread reports; wait for that report (the bound only catches a hang).
  std::unique_lock lock(mutex);
  const bool reported = reported_cv.wait_for(lock, std::chrono::seconds(30), [&] {
    for (const std::string& message : reports) {
      if (message.starts_with("eviction request for ml/train")) return true;
    }
    return false;
  });
  EXPECT_TRUE(reported) << ::testing::PrintToString(reports);
  lock.unlock();
  EXPECT_NE(registry.render().find("topod_eviction_request_failures_total{reason=\"cpus_shrunk\"} 1"),
            std::string::npos);
  with->reset();
}

// ---- The Agent's side: which pods are reported, with which reason ---------------------------

nri::Container running(nri::Container container) {
  container.state = nri::ContainerState::Running;
  return container;
}

std::vector<LostAllocation> synchronizeAndCollect(Agent& agent, const std::vector<nri::Pod>& pods,
                                                  const std::vector<nri::Container>& containers) {
  std::vector<LostAllocation> out;
  agent.setLostAllocationNotifier([&out](const LostAllocation& one) { out.push_back(one); });
  auto synced = agent.onSynchronize(pods, containers);
  EXPECT_TRUE(synced.has_value()) << synced.error().toString();
  agent.setLostAllocationNotifier(nullptr);
  return out;
}

TEST(AgentLostAllocationTest, ACheckpointThatNoLongerFitsTheReservedCpusReportsCpusShrunk) {
  topology::Topology topology = testing::twoNodeTopology();
  policies::PolicyOptions before = defaultConfig().policy;
  before.reserved_cpus = CpuSet{0};
  before.reserved_cpu_count = 0;
  testing::TempDir dir;
  auto g1 = testing::makePod("g1", QosClass::Guaranteed);
  auto g2 = testing::makePod("g2", QosClass::Guaranteed);
  std::vector<nri::Container> containers = {running(testing::guaranteed(g1, "app", 7000)),
                                            running(testing::guaranteed(g2, "app", 7000))};
  {
    auto agent = Agent::create(topology, {.policy = before, .state_dir = dir.path()});
    ASSERT_TRUE(agent.has_value()) << agent.error().toString();
    ASSERT_TRUE((*agent)->onCreateContainer(g1, containers[0]).has_value());
    ASSERT_TRUE((*agent)->onCreateContainer(g2, containers[1]).has_value());
    ASSERT_TRUE((*agent)->close().has_value());
  }
  // The new configuration reserves a whole NUMA node: 14 exclusive CPUs cannot fit in 8.
  policies::PolicyOptions after = before;
  after.reserved_cpus = CpuSet{0, 1, 2, 3, 4, 5, 6, 7};
  auto agent = Agent::create(topology, {.policy = after, .state_dir = dir.path()});
  ASSERT_TRUE(agent.has_value()) << agent.error().toString();
  EXPECT_TRUE((*agent)->startupReportIsWarning()) << (*agent)->startupReport();

  auto reported = synchronizeAndCollect(**agent, {g1, g2}, containers);
  ASSERT_FALSE(reported.empty()) << "at most one of the two fits";
  for (const LostAllocation& one : reported) {
    EXPECT_EQ(one.reason, LostAllocationReason::CpusShrunk);
    EXPECT_EQ(one.pod_namespace, "default");
    EXPECT_EQ(one.container, "app");
    EXPECT_FALSE(one.why.empty());
    EXPECT_FALSE((*agent)->state().contains({one.pod_uid, "app"})) << "a reported pod runs unpinned";
  }
}

TEST(AgentLostAllocationTest, AnAllocationNotRemadeAfterARestartReportsNotHonoured) {
  topology::Topology topology = testing::twoNodeTopology();
  testing::TempDir dir;  // no checkpoint: lost, or topod never saw these pods
  auto agent = Agent::create(topology, {.policy = defaultConfig().policy, .state_dir = dir.path()});
  ASSERT_TRUE(agent.has_value()) << agent.error().toString();
  auto big = testing::makePod("big", QosClass::Guaranteed);
  auto grown = testing::makePod("grown", QosClass::Guaranteed);  // resized in place to 8 CPUs
  auto best = testing::makePod("best", QosClass::BestEffort);
  auto reported = synchronizeAndCollect(
      **agent, {big, grown, best},
      {running(testing::guaranteed(big, "app", 12000)), running(testing::guaranteed(grown, "app", 8000)),
       running(testing::makeContainer(best, "app", 0, 0))});
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].pod_uid, "grown");
  EXPECT_EQ(reported[0].pod_name, "pod-grown");
  EXPECT_EQ(reported[0].reason, LostAllocationReason::NotHonouredAfterRestart);
  EXPECT_TRUE((*agent)->state().contains({"big", "app"}));
}

}  // namespace
}  // namespace topod::agent::requests_test
